"""``migrate``, ``status`` and ``baseline``: one plain function per verb, used by CLI and tests.

Each takes a database (URL or open psycopg connection) and a migrations
directory, reads the chain first (a broken chain is refused before the
database is touched) and returns a frozen result.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dibs.errors import UsageError
from dibs.migrate import ledger
from dibs.migrate.drift import Drift, drift_error, find_drift
from dibs.migrate.errors import LedgerMismatch
from dibs.migrate.executor import (
    Applied,
    Reporter,
    RetryPolicy,
    SilentReporter,
    apply_migration,
    statements_of,
)
from dibs.migrate.state import MigrationState, check_prefix, reconcile
from dibs.repository.chain import Chain, load_chain
from dibs.repository.migration import Migration

__all__ = [
    "ADVISORY_LOCK_KEY",
    "BaselineResult",
    "MigrateResult",
    "Planned",
    "StatusResult",
    "baseline",
    "migrate",
    "status",
]

Database = str | psycopg.Connection[Any]

# One key for every dibs process: advisory locks are per database, so two
# databases on one server never wait for each other.
ADVISORY_LOCK_KEY = int.from_bytes(hashlib.sha256(b"dibs.migrate").digest()[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Planned:
    """A migration ``--dry-run`` would apply, with the statements it would run."""

    name: str
    id: str
    transactional: bool
    statements: tuple[str, ...]
    resume_at: int = 0


@dataclass(frozen=True, slots=True)
class MigrateResult:
    """What ``migrate`` did: the migrations applied (or planned, on a dry run).

    ``verified`` says whether the schema afterwards has the fingerprint the
    last applied migration records (``None`` when nothing was applied).
    """

    applied: tuple[Applied, ...]
    planned: tuple[Planned, ...]
    already_applied: int
    target: str | None
    dry_run: bool
    drift: Drift | None
    duration_ms: float
    verified: bool | None = None


@dataclass(frozen=True, slots=True)
class StatusResult:
    """Every migration's state and the drift verdict."""

    migrations: tuple[MigrationState, ...]
    drift: Drift | None

    @property
    def pending(self) -> tuple[MigrationState, ...]:
        return tuple(m for m in self.migrations if m.state in ("pending", "partial"))

    @property
    def problems(self) -> tuple[MigrationState, ...]:
        return tuple(m for m in self.migrations if m.state in ("edited", "unknown"))


@dataclass(frozen=True, slots=True)
class BaselineResult:
    """The migrations ``baseline`` recorded as applied without running them."""

    recorded: tuple[str, ...]
    target: str


def _timeout_text(value: str | float) -> str:
    if isinstance(value, int | float):
        return f"{round(value * 1000)}ms"
    return value.strip()


@contextmanager
def _open(database: Database) -> Iterator[tuple[psycopg.Connection[Any], str | None]]:
    """Yield an autocommit connection (and the URL, when given one), restoring it after."""
    if isinstance(database, str):
        from dibs.postgres.connect import connect

        conn = connect(database, autocommit=True)
        try:
            yield conn, database
        finally:
            conn.close()
        return
    was = database.autocommit
    if not was:
        database.rollback()
        database.autocommit = True
    try:
        yield database, None
    finally:
        database.autocommit = was


@contextmanager
def _advisory_lock(
    conn: psycopg.Connection[Any], url: str | None, reporter: Reporter
) -> Iterator[None]:
    """Hold the session-level migration lock on a dedicated connection (when there is a URL).

    The lock is per session, so it is released when the process dies: a
    killed ``dibs migrate`` never leaves the database locked.
    """
    from dibs.postgres.connect import connect

    holder = connect(url, autocommit=True) if url else conn
    try:
        holder.execute("SELECT set_config('lock_timeout', '0', false)")
        row = holder.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()
        if not (row and row[0]):
            reporter.waiting_for_lock()
            holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            yield
        finally:
            if not holder.closed and not holder.broken:
                holder.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    finally:
        if holder is not conn:
            holder.close()


@contextmanager
def _session_settings(conn: psycopg.Connection[Any], lock_timeout: str) -> Iterator[None]:
    """Set ``lock_timeout`` for the migrations, putting the caller's value back after."""
    row = conn.execute("SELECT current_setting('lock_timeout')").fetchone()
    previous = str(row[0]) if row else "0"
    try:
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (lock_timeout,))
    except psycopg.DataError as exc:
        raise UsageError(
            f"invalid lock_timeout {lock_timeout!r}",
            hint="use a Postgres duration such as '5s' or '200ms'",
        ) from exc
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (previous,))


def _target_index(chain: Chain, to: str | None) -> int:
    if to is None:
        return len(chain.migrations) - 1
    return chain.migrations.index(chain.find(to))


def _pending(
    chain: Chain, rows: list[ledger.LedgerRow], progress: dict[str, int], last: int
) -> list[Migration]:
    """The migrations to apply, after checking the ledger agrees with the chain."""
    check_prefix(chain, rows)
    pending = list(chain.migrations[len(rows) : last + 1])
    for mid in progress:
        if not pending or pending[0].id != mid:
            raise LedgerMismatch(
                f"the database has a partly applied non-transactional migration {mid[:12]} "
                "that is not the next migration of the repository",
                hint="check out the code whose migration was interrupted and run "
                "`dibs migrate` to finish it, or clean up by hand and delete its rows "
                "from dibs.migration_progress",
            )
    return pending


def migrate(
    database: Database,
    migrations_dir: Path | str,
    *,
    to: str | None = None,
    allow_drift: bool = False,
    lock_timeout: str | float = "5s",
    retries: int = 3,
    dry_run: bool = False,
    reporter: Reporter | None = None,
) -> MigrateResult:
    """Apply the pending migrations of ``migrations_dir`` to ``database``, up to ``to``.

    Concurrent callers are serialised by a session-level advisory lock: each
    migration is applied exactly once, the others find nothing to do.

    Args:
        database: a URL, or an open connection (left open, its settings restored).
        migrations_dir: the repository's migrations directory.
        to: the last migration to apply (file name, number or id prefix).
        allow_drift: apply even when the live schema is not the ledger's.
        lock_timeout: Postgres duration ('5s') or seconds each lock wait may take.
        retries: how many times a migration that hit ``lock_timeout`` is retried.
        dry_run: plan and report, apply nothing and write nothing.
        reporter: receives progress (the CLI prints it).

    Raises:
        ChainError: the repository's chain is broken.
        LedgerMismatch: the database applied migrations the chain does not have.
        DriftDetected: the live schema differs from the ledger's (exit 1).
        MigrationFailed: a statement failed (file, line, column, SQLSTATE).
        LockTimeoutExceeded: locks not granted within ``lock_timeout`` after retries.
    """
    started = time.perf_counter()
    report = reporter or SilentReporter()
    # schema.json is not needed to apply migrations (`dibs check` verifies it).
    chain = load_chain(Path(migrations_dir), check_schema=False)
    last = _target_index(chain, to)
    timeout = _timeout_text(lock_timeout)
    policy = RetryPolicy(retries=retries)
    with _open(database) as (conn, url):
        if dry_run:
            rows, progress = ledger.read_ledger(conn), ledger.completed_statements(conn)
            pending = _pending(chain, rows, progress, last)
            drift = _drift_gate(conn, chain, rows, pending, progress, allow_drift, report)
            planned = tuple(_plan(m, progress.get(m.id, 0)) for m in pending)
            return MigrateResult(
                (), planned, len(rows), _target(chain, last), True, drift, _ms(started)
            )
        with _advisory_lock(conn, url, report), _session_settings(conn, timeout):
            ledger.ensure_ledger(conn)
            rows, progress = ledger.read_ledger(conn), ledger.completed_statements(conn)
            pending = _pending(chain, rows, progress, last)
            drift = _drift_gate(conn, chain, rows, pending, progress, allow_drift, report)
            applied: list[Applied] = []
            for index, migration in enumerate(pending):
                report.starting(migration, index, len(pending))
                done = apply_migration(
                    conn,
                    migration,
                    len(rows) + index,
                    resume_at=progress.get(migration.id, 0),
                    policy=policy,
                    reporter=report,
                    lock_timeout=timeout,
                )
                report.applied(done)
                applied.append(done)
            verified = _verify(conn, pending[-1], report) if pending else None
    return MigrateResult(
        tuple(applied), (), len(rows), _target(chain, last), False, drift, _ms(started), verified
    )


def _verify(conn: psycopg.Connection[Any], last: Migration, reporter: Reporter) -> bool:
    """Check the schema now has the fingerprint the last migration recorded (warn if not).

    A mismatch means the migration's SQL does not produce the schema it was
    generated for (edited SQL, another Postgres version): the next run would
    refuse with drift, so say it now, while the cause is fresh.
    """
    actual = ledger.live_fingerprint(conn)
    if actual == last.fingerprint:
        return True
    reporter.warning(
        f"after {last.name} the schema's fingerprint is {actual[:12]}, but the migration "
        f"records {last.fingerprint[:12]}: its SQL does not produce the schema it was "
        "generated for; `dibs diff` shows the difference"
    )
    return False


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _target(chain: Chain, last: int) -> str | None:
    return chain.migrations[last].name if last >= 0 else None


def _plan(migration: Migration, resume_at: int) -> Planned:
    stmts = statements_of(migration)
    return Planned(
        migration.name,
        migration.id,
        migration.transactional,
        tuple(s.sql for s in stmts),
        resume_at,
    )


def _drift_gate(
    conn: psycopg.Connection[Any],
    chain: Chain,
    rows: list[ledger.LedgerRow],
    pending: list[Migration],
    progress: dict[str, int],
    allow_drift: bool,
    reporter: Reporter,
) -> Drift | None:
    """Refuse to apply onto a schema that is not the ledger's (unless allowed).

    Skipped when nothing is pending, and when resuming an interrupted
    non-transactional migration (its first statements already changed the schema).
    """
    if not pending or progress:
        return None
    drift = find_drift(conn, chain, rows)
    if drift.in_sync:
        return drift
    error = drift_error(drift)
    if not allow_drift:
        raise error
    reporter.warning(f"{error.message} (--allow-drift: applying anyway)")
    for line in error.differences:
        reporter.warning(f"  {line}")
    return drift


def status(database: Database, migrations_dir: Path | str) -> StatusResult:
    """Report every migration as applied, pending, partial, edited or unknown, and the drift.

    Reads only: the ledger is not created when missing.
    """
    chain = load_chain(Path(migrations_dir))
    with _open(database) as (conn, _):
        rows, progress = ledger.read_ledger(conn), ledger.completed_statements(conn)
        states = reconcile(chain, rows, progress)
        consistent = all(s.state in ("applied", "pending") for s in states)
        drift = find_drift(conn, chain, rows) if consistent else None
    return StatusResult(tuple(states), drift)


def baseline(database: Database, migrations_dir: Path | str, *, to: str) -> BaselineResult:
    """Record the migrations up to ``to`` as applied to an existing database, running no SQL.

    Raises:
        LedgerMismatch: the database already has a ledger with migrations.
        DriftDetected: the live schema is not the schema at ``to``.
    """
    from dibs.migrate.errors import DriftDetected

    chain = load_chain(Path(migrations_dir))
    last = _target_index(chain, to)
    target = chain.migrations[last]
    with _open(database) as (conn, url), _advisory_lock(conn, url, SilentReporter()):
        rows = ledger.read_ledger(conn)
        if rows:
            raise LedgerMismatch(
                f"the database already has {len(rows)} applied migrations "
                f"(last: {rows[-1].name}); baseline adopts a database without a ledger",
                hint="use `dibs status` to see where it is and `dibs migrate` to move on",
            )
        actual = ledger.live_fingerprint(conn)
        if actual != target.fingerprint:
            raise DriftDetected(
                f"the database schema is not the schema at {target.name}: expected "
                f"fingerprint {target.fingerprint[:12]}, found {actual[:12]}",
                hint="baseline at the migration whose schema the database has; "
                "`dibs diff` shows how it differs from the declared schema",
                expected=target.fingerprint,
                actual=actual,
            )
        ledger.ensure_ledger(conn)
        with conn.transaction():
            for position, migration in enumerate(chain.migrations[: last + 1]):
                ledger.record_applied(conn, migration, position, 0.0, baseline=True)
    return BaselineResult(tuple(m.name for m in chain.migrations[: last + 1]), target.name)
