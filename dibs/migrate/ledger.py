"""The ledger: which migrations a database has applied, kept in the database itself.

Why a schema of its own (``dibs``) and not a table in ``public``: the
ledger is dibs's bookkeeping, not part of the user's schema. Keeping it in
its own schema lets every fingerprint and diff leave it out by excluding one
schema name (``user_schemas``), lets a DBA grant or revoke it as a unit, and
keeps ``public`` exactly what the migrations made.

Tables:

``dibs.migrations``
    one row per applied migration: ``id`` (content id), ``name`` (file),
    ``parent``, ``fingerprint`` (schema after it), ``applied_at``,
    ``duration_ms``, ``applied_by`` (``current_user``), ``dibs_version``,
    ``position`` (0-based place in the chain) and ``baseline`` (recorded by
    ``dibs baseline`` without running its SQL).
``dibs.migration_progress``
    the statements already completed of a non-transactional migration that
    has not finished, so a re-run resumes after the last one.

Every write here happens inside the caller's transaction: a migration's
ledger row commits or rolls back together with its SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from dibs.postgres import catalog
from dibs.repository.migration import Migration

if TYPE_CHECKING:
    from dibs.schema.model import Schema

__all__ = [
    "LEDGER_SCHEMA",
    "LedgerRow",
    "applied_row",
    "completed_statements",
    "ensure_ledger",
    "finish_progress",
    "live_fingerprint",
    "read_ledger",
    "record_applied",
    "record_statement",
    "user_schemas",
]

LEDGER_SCHEMA = "dibs"

_CREATE = (
    "CREATE SCHEMA IF NOT EXISTS dibs;"
    " CREATE TABLE IF NOT EXISTS dibs.migrations ("
    " id text PRIMARY KEY,"
    " name text NOT NULL,"
    " parent text NOT NULL,"
    " fingerprint text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " duration_ms double precision NOT NULL,"
    " applied_by text NOT NULL DEFAULT current_user,"
    " dibs_version text NOT NULL,"
    " position integer NOT NULL UNIQUE,"
    " baseline boolean NOT NULL DEFAULT false);"
    " CREATE TABLE IF NOT EXISTS dibs.migration_progress ("
    " migration_id text NOT NULL,"
    " statement_index integer NOT NULL,"
    " completed_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (migration_id, statement_index))"
)


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One applied migration as the database remembers it."""

    id: str
    name: str
    parent: str
    fingerprint: str
    applied_at: datetime
    duration_ms: float
    applied_by: str
    dibs_version: str
    position: int
    baseline: bool

    @property
    def short_id(self) -> str:
        return self.id[:12]


@cache
def _dibs_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dibs")
    except PackageNotFoundError:  # running from a source tree
        return "0+unknown"


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    return bool(row and row[0])


def ensure_ledger(conn: psycopg.Connection[Any]) -> None:
    """Create the ledger schema and tables unless they exist (call under the advisory lock)."""
    if _exists(conn, "dibs.migration_progress") and _exists(conn, "dibs.migrations"):
        return
    with conn.transaction():
        conn.execute(_CREATE)


def read_ledger(conn: psycopg.Connection[Any]) -> list[LedgerRow]:
    """Return the applied migrations in chain order (empty when there is no ledger yet)."""
    if not _exists(conn, "dibs.migrations"):
        return []
    rows = conn.execute(
        "SELECT id, name, parent, fingerprint, applied_at, duration_ms, applied_by,"
        " dibs_version, position, baseline FROM dibs.migrations ORDER BY position"
    ).fetchall()
    return [LedgerRow(*row) for row in rows]


def completed_statements(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Return, per unfinished non-transactional migration, how many statements completed.

    Statements complete in order, so the count is also the index to resume at.
    """
    if not _exists(conn, "dibs.migration_progress"):
        return {}
    rows = conn.execute(
        "SELECT migration_id, max(statement_index) + 1 FROM dibs.migration_progress"
        " GROUP BY migration_id"
    ).fetchall()
    return {str(mid): int(count) for mid, count in rows}


def record_statement(conn: psycopg.Connection[Any], migration: Migration, index: int) -> None:
    """Note that statement ``index`` (0-based) of a non-transactional migration completed."""
    conn.execute(
        "INSERT INTO dibs.migration_progress (migration_id, statement_index) VALUES (%s, %s)",
        (migration.id, index),
    )


def finish_progress(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """Forget the per-statement progress of a migration whose ledger row is written."""
    conn.execute("DELETE FROM dibs.migration_progress WHERE migration_id = %s", (migration.id,))


def record_applied(
    conn: psycopg.Connection[Any],
    migration: Migration,
    position: int,
    duration_ms: float,
    *,
    baseline: bool = False,
) -> None:
    """Insert the ledger row of ``migration`` (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO dibs.migrations (id, name, parent, fingerprint, duration_ms,"
        " dibs_version, position, baseline) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            migration.id,
            migration.name,
            migration.parent,
            migration.fingerprint,
            duration_ms,
            _dibs_version(),
            position,
            baseline,
        ),
    )


def applied_row(migration: Migration, position: int) -> sql.Composed:
    """The ledger INSERT of a transactional migration, to send in the same script as its SQL.

    Values are quoted by psycopg (``sql.Literal``), not bound: a script of
    several statements goes through the simple query protocol, which takes
    no parameters. ``duration_ms`` is measured by the server, from the start
    of the script (``statement_timestamp()``) to this row.
    """
    return sql.SQL(
        "INSERT INTO dibs.migrations (id, name, parent, fingerprint, duration_ms,"
        " dibs_version, position) VALUES ({}, {}, {}, {},"
        " 1000 * extract(epoch FROM clock_timestamp() - statement_timestamp()), {}, {})"
    ).format(
        sql.Literal(migration.id),
        sql.Literal(migration.name),
        sql.Literal(migration.parent),
        sql.Literal(migration.fingerprint),
        sql.Literal(_dibs_version()),
        sql.Literal(position),
    )


def user_schemas(conn: psycopg.Connection[Any]) -> list[str]:
    """Return the schemas introspection should read: every user schema but the ledger's."""
    rows = conn.execute(catalog.NAMESPACES).fetchall()
    return [str(r[0]) for r in rows if r[0] != LEDGER_SCHEMA]


def live_schema(conn: psycopg.Connection[Any]) -> Schema:
    """Introspect the user's schemas (the ledger left out)."""
    from dibs.postgres.introspect import introspect

    return introspect(conn, schemas=user_schemas(conn))


def live_fingerprint(conn: psycopg.Connection[Any]) -> str:
    """Return the fingerprint of the live user schema (the ledger left out)."""
    from dibs.schema.canonical import fingerprint

    return fingerprint(live_schema(conn))


def empty_fingerprint() -> str:
    """The fingerprint of a database no migration has touched."""
    from dibs.schema.canonical import fingerprint
    from dibs.schema.model import Schema

    return fingerprint(Schema.build())
