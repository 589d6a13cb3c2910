"""Write the repository: the next migration, ``dibs.lock`` and ``schema.json``, together.

Every write goes through a temporary file and ``os.replace`` so an interrupted
``dibs generate`` never leaves half a file; the lock is written last, so a
crash before it leaves an untracked file that ``dibs check`` names rather
than a chain that silently changed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from dibs.repository.chain import SCHEMA_NAME, Chain
from dibs.repository.lock import LOCK_NAME, render_lock
from dibs.repository.migration import Migration, parse_migration, slugify

__all__ = ["next_file_name", "rewrite_lock", "write_atomic", "write_migration"]

_NUMBER = re.compile(r"^(\d+)_")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with LF line endings, replacing it in one step."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, path)


def next_file_name(chain: Chain, message: str) -> str:
    """``NNNN_slug.sql`` numbered one past the highest number in the chain."""
    numbers = [int(m[1]) for m in (_NUMBER.match(x.name) for x in chain.migrations) if m]
    return f"{max(numbers, default=0) + 1:04d}_{slugify(message)}.sql"


def rewrite_lock(directory: Path, migrations: list[Migration]) -> None:
    """Write ``dibs.lock`` for ``migrations`` (in chain order)."""
    entries = [(m.name, m.id) for m in migrations]
    fingerprint = migrations[-1].fingerprint if migrations else None
    write_atomic(directory / LOCK_NAME, render_lock(entries, fingerprint))


def write_migration(chain: Chain, name: str, text: str, schema_json: str | None) -> Migration:
    """Append a migration to ``chain``'s directory; update ``schema.json`` and the lock.

    ``schema_json`` is the canonical schema after the migration (``None``
    leaves ``schema.json`` as it is: a hand-written migration that does not
    change the schema).
    """
    directory = chain.directory
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    write_atomic(path, text)
    migration = parse_migration(path)
    if schema_json is not None:
        write_atomic(directory / SCHEMA_NAME, schema_json)
    rewrite_lock(directory, [*chain.migrations, migration])
    return migration
