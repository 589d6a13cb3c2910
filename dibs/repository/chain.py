"""Read a ``migrations/`` directory and check it is one unbroken hash chain.

The chain is what ``dibs.lock`` lists, in order. It is intact when:

* the lock has no git conflict markers and every line parses;
* every file the lock names exists, has a valid header, and its content id
  (SHA-256 of the normalised text) is the id the lock records (otherwise the
  file was edited after it was generated);
* every ``.sql`` file in the directory is in the lock (a file that is not
  came from a merge or was written by hand without ``dibs generate --empty``);
* each migration's ``parent`` is the id of the one before it (``root`` for
  the first) and no two migrations share a parent (two heads);
* the lock's ``head`` line names the last id and its fingerprint;
* ``schema.json`` has the head's fingerprint.

``inspect_chain`` collects *every* problem (``dibs check`` reports them all);
``load_chain`` raises the first one (commands that must not run on a broken
chain). This module imports only the standard library plus the canonical
model, so ``dibs check`` stays fast.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dibs.errors import DibsError, SourceLocation
from dibs.repository.lock import LOCK_NAME, Lock, LockError, read_lock
from dibs.repository.migration import ROOT, HeaderError, Migration, content_id, parse_migration

if TYPE_CHECKING:
    from dibs.repository.cache import FingerprintCache

__all__ = [
    "SCHEMA_NAME",
    "Chain",
    "ChainError",
    "Problem",
    "inspect_chain",
    "load_chain",
    "read_head_schema",
]

SCHEMA_NAME = "schema.json"


class ChainError(DibsError):
    """The migrations directory is not one intact hash chain."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One integrity problem: what, where, how to fix, and the kind (for JSON output).

    ``kind`` is one of ``lock``, ``missing``, ``header``, ``edited``,
    ``untracked``, ``parent``, ``heads``, ``head``, ``schema``.
    """

    kind: str
    message: str
    location: SourceLocation | None = None
    hint: str | None = None
    path: Path | None = None

    def error(self) -> ChainError:
        return ChainError(self.message, location=self.location, hint=self.hint)


@dataclass(frozen=True, slots=True)
class Chain:
    """The migrations of a directory in chain order, as far as they could be read.

    ``recorded`` maps each file name the lock lists to the id the lock
    records for it (the id the file had when it was generated).
    """

    directory: Path
    migrations: tuple[Migration, ...]
    lock: Lock | None
    recorded: dict[str, str] = field(default_factory=dict)

    @property
    def head(self) -> Migration | None:
        return self.migrations[-1] if self.migrations else None

    @property
    def head_id(self) -> str:
        return self.migrations[-1].id if self.migrations else ROOT

    @property
    def fingerprint(self) -> str | None:
        """The schema fingerprint at head (``None`` before the first migration)."""
        return self.migrations[-1].fingerprint if self.migrations else None

    def by_name(self, name: str) -> Migration | None:
        for m in self.migrations:
            if m.name == name:
                return m
        return None

    def find(self, ref: str) -> Migration:
        """Return the migration named by a file name, its stem, number or id prefix.

        Raises:
            ChainError: no migration, or more than one, matches ``ref``.
        """
        matches = [
            m
            for m in self.migrations
            if ref in (m.name, m.path.stem, m.name.split("_", 1)[0])
            or (len(ref) >= 4 and m.id.startswith(ref))
        ]
        if len(matches) != 1:
            what = "no migration" if not matches else f"{len(matches)} migrations"
            raise ChainError(
                f"{what} in {self.directory} match {ref!r}",
                hint="name a migration by file name (0003_add_posts.sql), "
                "number (0003) or id prefix (`dibs log` lists them)",
            )
        return matches[0]


def _sql_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.sql") if p.is_file())


def inspect_chain(directory: Path) -> tuple[Chain, list[Problem]]:
    """Read ``directory`` and return its chain with every integrity problem found.

    A missing directory, or one with neither a lock nor migrations, is an
    empty chain without problems.
    """
    if not directory.is_dir():
        return Chain(directory, (), None), []
    files = _sql_files(directory)
    lock_path = directory / LOCK_NAME
    problems: list[Problem] = []
    if not lock_path.exists():
        if files:
            problems.append(
                Problem(
                    "lock",
                    f"{directory} has migration files but no {LOCK_NAME}",
                    SourceLocation(str(lock_path), 1),
                    "restore dibs.lock from git; dibs.lock is written by `dibs generate`",
                    lock_path,
                )
            )
        return Chain(directory, (), None), problems
    try:
        lock = read_lock(lock_path)
    except LockError as exc:
        return Chain(directory, (), None), [
            Problem("lock", exc.message, exc.location, exc.hint, lock_path)
        ]
    migrations: list[Migration] = []
    recorded = dict(lock.entries)
    parent = ROOT
    for name, recorded_id in lock.entries:
        path = directory / name
        if not path.is_file():
            problems.append(
                Problem(
                    "missing",
                    f"{name} is named in {LOCK_NAME} but the file is missing",
                    SourceLocation(str(lock_path), 1),
                    "restore the file from git (`git checkout -- "
                    f"{path}`); migrations are never deleted",
                    path,
                )
            )
            parent = recorded_id
            continue
        try:
            migration = parse_migration(path)
        except HeaderError as exc:
            problems.append(Problem("header", exc.message, exc.location, exc.hint, path))
            parent = recorded_id
            continue
        if migration.id != recorded_id:
            problems.append(
                Problem(
                    "edited",
                    f"{name} was edited after it was generated: its content id is "
                    f"{migration.short_id}, {LOCK_NAME} records {recorded_id[:12]}",
                    SourceLocation(str(path), 1),
                    "migrations are immutable once committed: restore the file "
                    f"(`git checkout -- {path}`) and put the change in a new "
                    "migration (`dibs generate --empty NAME`)",
                    path,
                )
            )
        if migration.parent != parent:
            problems.append(
                Problem(
                    "parent",
                    f"{name} names parent {migration.parent[:12]}, but the migration "
                    f"before it in {LOCK_NAME} is {parent[:12]}",
                    SourceLocation(str(path), 2),
                    "the chain is broken; restore both files and dibs.lock from git, "
                    "or run `dibs rebase` after a merge",
                    path,
                )
            )
        migrations.append(migration)
        parent = recorded_id
    problems += _untracked(directory, files, recorded, lock_path)
    problems += _heads(directory, files, lock, migrations)
    problems += _head_line(lock, migrations, lock_path)
    return Chain(directory, tuple(migrations), lock, recorded), problems


def _untracked(
    directory: Path, files: list[Path], recorded: dict[str, str], lock_path: Path
) -> list[Problem]:
    return [
        Problem(
            "untracked",
            f"{path.name} is not in {LOCK_NAME}",
            SourceLocation(str(path), 1),
            "after a merge run `dibs rebase`; a hand-written migration is started "
            "with `dibs generate --empty NAME`, which records it in the lock",
            path,
        )
        for path in files
        if path.name not in recorded
    ]


def _heads(
    directory: Path, files: list[Path], lock: Lock, migrations: list[Migration]
) -> list[Problem]:
    """Two migrations (listed or not) that follow the same parent: two heads."""
    children: dict[str, list[str]] = defaultdict(list)
    listed = {m.name for m in migrations}
    for m in migrations:
        children[m.parent].append(m.name)
    for path in files:
        if path.name in listed:
            continue
        try:
            extra = parse_migration(path)
        except HeaderError:
            continue
        children[extra.parent].append(path.name)
    return [
        Problem(
            "heads",
            f"two heads: {' and '.join(sorted(names))} both follow "
            f"{'the root' if parent == ROOT else parent[:12]}",
            SourceLocation(str(directory / sorted(names)[-1]), 2),
            "two branches each added a migration; run `dibs rebase` to put yours "
            "on top of the merged ones",
            directory / sorted(names)[-1],
        )
        for parent, names in sorted(children.items())
        if len(names) > 1
    ]


def _head_line(lock: Lock, migrations: list[Migration], lock_path: Path) -> list[Problem]:
    if not lock.entries:
        return []
    last_id = lock.entries[-1][1]
    if lock.head != last_id:
        return [
            Problem(
                "head",
                f"{LOCK_NAME} names head {str(lock.head)[:12]} but its last migration "
                f"is {last_id[:12]}",
                SourceLocation(str(lock_path), 1),
                "dibs.lock is generated; restore it from git",
                lock_path,
            )
        ]
    last = migrations[-1] if migrations else None
    if last and last.name == lock.entries[-1][0] and lock.fingerprint != last.fingerprint:
        return [
            Problem(
                "head",
                f"{LOCK_NAME} records fingerprint {str(lock.fingerprint)[:12]} at head "
                f"but {last.name} records {last.fingerprint[:12]}",
                SourceLocation(str(lock_path), 1),
                "dibs.lock is generated; restore it from git",
                lock_path,
            )
        ]
    return []


def schema_problem(chain: Chain, cache: FingerprintCache | None = None) -> Problem | None:
    """Check ``schema.json`` against the head fingerprint (None when they agree)."""
    path = chain.directory / SCHEMA_NAME
    if not chain.migrations:
        return None
    if not path.exists():
        return Problem(
            "schema",
            f"{SCHEMA_NAME} is missing from {chain.directory}",
            SourceLocation(str(path), 1),
            "restore it from git; `dibs generate` writes it",
            path,
        )

    def compute() -> str:
        from dibs.schema.canonical import fingerprint, from_json

        return fingerprint(from_json(path.read_text(encoding="utf-8")))

    try:
        found = compute() if cache is None else cache.schema_file(path, compute)
    except (ValueError, TypeError, KeyError) as exc:
        return Problem(
            "schema",
            f"{SCHEMA_NAME} is not a dibs schema: {exc}",
            SourceLocation(str(path), 1),
            "restore it from git; `dibs generate` writes it",
            path,
        )
    if found != chain.fingerprint:
        return Problem(
            "schema",
            f"{SCHEMA_NAME} has fingerprint {found[:12]} but the head migration "
            f"records {str(chain.fingerprint)[:12]}",
            SourceLocation(str(path), 1),
            "schema.json must be the schema at head; restore it from git",
            path,
        )
    return None


def load_chain(directory: Path, *, check_schema: bool = True) -> Chain:
    """Return the chain of ``directory``, raising its first problem.

    Raises:
        ChainError: the chain is broken (the message names the file).
    """
    chain, problems = inspect_chain(directory)
    if check_schema and not problems:
        problem = schema_problem(chain)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise problems[0].error()
    return chain


def read_head_schema(chain: Chain) -> dict[str, object] | None:
    """Return the parsed ``schema.json`` of an intact chain (``None`` when empty)."""
    if not chain.migrations:
        return None
    data: dict[str, object] = json.loads((chain.directory / SCHEMA_NAME).read_text("utf-8"))
    return data


def recorded_ids_match(chain: Chain) -> bool:
    """True when every migration's content id is the one the lock records."""
    return all(chain.recorded.get(m.name) == m.id for m in chain.migrations)


def text_id(path: Path) -> str:
    """Content id of a file on disk (see ``migration.content_id``)."""
    return content_id(path.read_text(encoding="utf-8"))
