"""Reconcile the repository's chain with a database's ledger: what is applied, what is not.

Pure functions over a ``Chain`` and ``LedgerRow``s, shared by ``migrate``
(which refuses unless the ledger is a prefix of the chain) and ``status``
(which reports every migration's state).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dibs.migrate.errors import LedgerMismatch
from dibs.migrate.ledger import LedgerRow
from dibs.repository.chain import Chain
from dibs.repository.migration import Migration

__all__ = ["MigrationState", "State", "check_prefix", "reconcile"]

State = Literal["applied", "pending", "partial", "edited", "unknown"]


@dataclass(frozen=True, slots=True)
class MigrationState:
    """One line of ``dibs status``.

    ``state`` is ``applied``; ``pending``; ``partial`` (a non-transactional
    migration stopped after ``completed`` statements); ``edited`` (applied,
    but the file's content id has changed since); or ``unknown`` (in the
    ledger, not in the repository).
    """

    name: str
    id: str
    state: State
    applied_at: datetime | None = None
    applied_by: str | None = None
    duration_ms: float | None = None
    baseline: bool = False
    completed: int = 0

    @property
    def short_id(self) -> str:
        return self.id[:12]


def _applied(row: LedgerRow, state: State, migration_id: str | None = None) -> MigrationState:
    return MigrationState(
        name=row.name,
        id=migration_id or row.id,
        state=state,
        applied_at=row.applied_at,
        applied_by=row.applied_by,
        duration_ms=row.duration_ms,
        baseline=row.baseline,
    )


def reconcile(
    chain: Chain, rows: list[LedgerRow], progress: dict[str, int]
) -> list[MigrationState]:
    """Return the state of every migration in the chain or the ledger, in order."""
    states: list[MigrationState] = []
    seen: set[str] = set()
    for position, row in enumerate(rows):
        match = chain.migrations[position] if position < len(chain.migrations) else None
        if match is not None and match.id == row.id:
            states.append(_applied(row, "applied"))
            seen.add(match.id)
            continue
        by_name = chain.by_name(row.name)
        if by_name is not None and by_name.id not in seen:
            states.append(_applied(row, "edited", by_name.id))
            seen.add(by_name.id)
        else:
            states.append(_applied(row, "unknown"))
    for m in chain.migrations:
        if m.id in seen:
            continue
        done = progress.get(m.id, 0)
        states.append(
            MigrationState(m.name, m.id, "partial" if done else "pending", completed=done)
        )
    return states


def check_prefix(chain: Chain, rows: list[LedgerRow]) -> None:
    """Refuse unless the ledger lists exactly the first migrations of the chain.

    Raises:
        LedgerMismatch: names the edited migration file, or the migration the
            repository does not know.
    """
    for position, row in enumerate(rows):
        expected = chain.migrations[position] if position < len(chain.migrations) else None
        if expected is not None and expected.id == row.id:
            continue
        raise _mismatch(chain, row, expected)


def _mismatch(chain: Chain, row: LedgerRow, expected: Migration | None) -> LedgerMismatch:
    from dibs.errors import SourceLocation

    edited = chain.by_name(row.name)
    if edited is not None and edited.id != row.id:
        return LedgerMismatch(
            f"{row.name} was edited after it was applied: the database applied "
            f"{row.short_id}, the file's content id is now {edited.short_id}",
            location=SourceLocation(str(edited.path), 1),
            hint="applied migrations are immutable: restore the file as it was "
            f"(`git log -- {edited.path}`) and put the change in a new migration",
        )
    where = f"at position {row.position + 1}"
    if expected is not None:
        where += f", where the repository has {expected.name}"
    return LedgerMismatch(
        f"the database has migration {row.short_id} {row.name} that the repository "
        f"does not know ({where})",
        hint="the database was migrated from another branch or repository: check out "
        "the code that matches it, or restore the database; dibs never reverts "
        "a migration by itself",
    )
