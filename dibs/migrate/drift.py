"""Drift: the live schema is not the one the ledger says the database should have.

The ledger only records fingerprints, so drift is found by comparing the
live fingerprint (user schemas, the ledger's own schema left out) with the
fingerprint of the last applied migration. The differing objects can be
named only where the expected schema is known as a whole: an empty database
(no migration applied) or the repository head (``schema.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dibs.migrate.errors import DriftDetected
from dibs.migrate.ledger import LedgerRow, empty_fingerprint, live_schema
from dibs.repository.chain import SCHEMA_NAME, Chain

if TYPE_CHECKING:
    import psycopg

    from dibs.schema.model import Schema

__all__ = ["Drift", "drift_error", "find_drift"]


@dataclass(frozen=True, slots=True)
class Drift:
    """The verdict: expected and actual fingerprints and, when known, what differs.

    ``differences`` describe what was done to the database by hand, one
    operation each (``add column users.nickname``).
    """

    expected: str
    actual: str
    at: str
    differences: tuple[str, ...] = ()

    @property
    def in_sync(self) -> bool:
        return self.expected == self.actual


def _expected_schema(chain: Chain, rows: list[LedgerRow]) -> Schema | None:
    from dibs.schema.canonical import from_json
    from dibs.schema.model import Schema

    if not rows:
        return Schema.build()
    if chain.head is not None and rows[-1].id == chain.head.id:
        path = chain.directory / SCHEMA_NAME
        if path.is_file():
            return from_json(path.read_text(encoding="utf-8"))
    return None


def _describe(expected: Schema, live: Schema) -> tuple[str, ...]:
    from dibs.autogenerate import CannedQuestioner, diff

    # Drift is reported, never migrated: a possible rename is shown as drop + add.
    ops = diff(expected.managed(), live.managed(), questioner=CannedQuestioner(default=False))
    return tuple(sorted(op.describe() for op in ops))


def find_drift(conn: psycopg.Connection[Any], chain: Chain, rows: list[LedgerRow]) -> Drift:
    """Compare the live schema with what the ledger's last migration left behind."""
    from dibs.schema.canonical import fingerprint

    live = live_schema(conn)
    actual = fingerprint(live)
    expected = rows[-1].fingerprint if rows else empty_fingerprint()
    at = f"after {rows[-1].name}" if rows else "with no migration applied"
    if actual == expected:
        return Drift(expected, actual, at)
    schema = _expected_schema(chain, rows)
    differences = _describe(schema, live) if schema is not None else ()
    return Drift(expected, actual, at, differences)


def drift_error(drift: Drift) -> DriftDetected:
    """The refusal ``migrate`` raises on drift (exit 1)."""
    shown = drift.differences or (
        f"expected fingerprint {drift.expected[:12]}, found {drift.actual[:12]} "
        "(the objects can be named only at the repository head or on an empty database)",
    )
    return DriftDetected(
        f"the database schema is not what the ledger says it should be {drift.at}:",
        hint="the schema was changed outside dibs: undo the change, or record it in a "
        "migration (`dibs generate`); to adopt an existing database use `dibs baseline "
        "--to MIGRATION`; `--allow-drift` applies the pending migrations anyway",
        expected=drift.expected,
        actual=drift.actual,
        differences=shown,
    )
