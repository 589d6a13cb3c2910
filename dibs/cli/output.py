"""Console output shared by every command: rich when on a terminal, plain otherwise.

Rich already honours ``NO_COLOR`` and drops styling when stdout is not a
terminal; this module only decides where messages go (results to stdout,
diagnostics to stderr) and how a ``DibsError`` is shown: message, location
and hint, never a traceback.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from dibs.errors import DibsError

__all__ = ["emit_json", "err", "out", "print_error"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_error(exc: DibsError) -> None:
    """Show a user-facing error on stderr (no traceback)."""
    from rich.markup import escape

    where = ""
    if exc.location is not None:
        where = f"{escape(str(exc.location))}: "
    text = getattr(exc, "__str__", None)
    if type(exc).__str__ is not DibsError.__str__ and text is not None:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        return
    err.print(f"[bold red]error:[/] {where}{escape(exc.message)}")
    if exc.hint:
        err.print(f"  [cyan]hint:[/] {escape(exc.hint)}")


def emit_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout, unstyled, for machines."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
