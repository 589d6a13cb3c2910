"""Replay a chain on a throwaway database and compare each step with what it records.

``dibs verify`` is the proof that migrations do what their headers say: a
hand edit that changes what a migration does, without changing its recorded
fingerprint, is caught here. The database is created for the run on a
server the user names (``--dev-url``) or on the project's embedded Postgres,
and dropped afterwards whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dibs.errors import DibsError, SourceLocation

if TYPE_CHECKING:
    import psycopg

    from dibs.repository.migration import Migration
    from dibs.schema.model import Schema

__all__ = ["ReplayError", "Step", "apply_migration", "live_schema", "scratch_database"]


class ReplayError(DibsError):
    """A migration failed or did not leave the schema its header records."""


@dataclass(frozen=True, slots=True)
class Step:
    """One replayed migration: the fingerprint it records and the one it produced."""

    migration: Migration
    recorded: str
    produced: str

    @property
    def ok(self) -> bool:
        return self.recorded == self.produced


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named database on ``admin_url``'s server; drop it on exit."""
    from psycopg import sql

    from dibs.postgres.connect import connect
    from dibs.postgres.embedded import with_database

    name = f"dibs_verify_{uuid.uuid4().hex[:12]}"
    with connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin_url, name)
    finally:
        with connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def live_schema(conn: psycopg.Connection[Any]) -> Schema:
    """The managed schema of the database (dibs's ledger schema is never read)."""
    from dibs.postgres.introspect import introspect

    return introspect(conn).managed()


def apply_migration(conn: psycopg.Connection[Any], migration: Migration) -> None:
    """Run one migration: in a transaction, or statement by statement when it says so.

    Raises:
        ReplayError: a statement failed; names the file and the statement's line.
    """
    from dibs.render.validate import validate

    statements = validate(migration.body, file=str(migration.path), first_line=migration.body_line)
    if migration.transactional:
        with conn.transaction():
            for stmt in statements:
                _run(conn, migration, stmt)
    else:
        for stmt in statements:
            _run(conn, migration, stmt)


def _run(conn: psycopg.Connection[Any], migration: Migration, stmt: Any) -> None:
    import psycopg

    try:
        conn.execute(stmt.sql, prepare=False)
    except psycopg.Error as exc:
        diag = exc.diag
        raise ReplayError(
            f"{migration.name} failed: {diag.message_primary or exc}"
            + (f" (SQLSTATE {diag.sqlstate})" if diag.sqlstate else ""),
            location=SourceLocation(str(migration.path), stmt.line),
            hint=diag.message_hint or "fix the migration; nothing of it was kept",
        ) from exc


def replay(admin_url: str, migrations: list[Migration]) -> list[Step]:
    """Apply ``migrations`` in order on a scratch database; return each step's fingerprints."""
    from dibs.postgres.connect import connect
    from dibs.schema.canonical import fingerprint

    steps: list[Step] = []
    with scratch_database(admin_url) as url, connect(url, autocommit=True) as conn:
        for migration in migrations:
            apply_migration(conn, migration)
            produced = fingerprint(live_schema(conn))
            steps.append(Step(migration, migration.fingerprint, produced))
            if not steps[-1].ok:
                break
    return steps


def replay_schema(admin_url: str, migrations: list[Migration]) -> Schema:
    """The schema a scratch database has after ``migrations`` (for ``dibs seal --replay``)."""
    from dibs.postgres.connect import connect

    with scratch_database(admin_url) as url, connect(url, autocommit=True) as conn:
        for migration in migrations:
            apply_migration(conn, migration)
        return live_schema(conn)
