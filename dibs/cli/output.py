"""Console output shared by every command: rich when on a terminal, plain otherwise.

Rich already honours ``NO_COLOR`` and drops styling when stdout is not a
terminal; this module only decides where messages go (results to stdout,
diagnostics to stderr) and how a ``DibsError`` is shown: message, location
and hint, never a traceback.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from dibs.errors import DibsError

if TYPE_CHECKING:
    from rich.console import Console

    out: Console
    err: Console

__all__ = ["emit_json", "err", "out", "print_error"]


def _console(name: str) -> Console:
    """The ``out`` or ``err`` console, created on first use.

    Importing rich costs some 25 ms, a tenth of a CI run of ``dibs migrate``
    with nothing to do: ``--format json`` never imports it.
    """
    console: Console | None = globals().get(name)
    if console is None:
        from rich.console import Console

        console = Console(stderr=name == "err", highlight=False, soft_wrap=True)
        globals()[name] = console
    return console


def __getattr__(name: str) -> Any:
    """``from dibs.cli.output import out, err`` creates the console asked for."""
    if name not in ("out", "err"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _console(name)


def print_error(exc: DibsError) -> None:
    """Show a user-facing error on stderr (no traceback)."""
    from rich.markup import escape

    err = _console("err")
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
