"""Apply one migration: its statements, its ledger row, lock-timeout retries, error positions.

A transactional migration runs in one transaction together with its ledger
row, so it is applied completely or not at all, whatever kills the process.
A non-transactional one (``-- transaction: false``) runs statement by
statement; each statement commits together with a progress row when
Postgres allows it inside a transaction, so a re-run resumes after the last
completed statement and runs nothing twice. Statements Postgres refuses
inside a transaction (``CREATE INDEX CONCURRENTLY``, ``VACUUM``…) run alone
in autocommit with the progress row right after: there, and only there, a
kill between the two can make the statement run again.

A transactional migration is sent as one script (one round trip); a failure
is mapped back to the file: Postgres reports a position inside the text it
was sent, which gives the line and column, and an error without one is
located by replaying the statements in a transaction that is rolled back.
Non-transactional statements are sent one by one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg.pq import TransactionStatus

from dibs.errors import SourceLocation
from dibs.migrate import ledger
from dibs.migrate.errors import LockTimeoutExceeded, MigrationFailed
from dibs.render.validate import Statement, line_column, validate
from dibs.repository.migration import Migration

__all__ = ["Applied", "Reporter", "apply_migration", "statements_of"]

LOCK_NOT_AVAILABLE = "55P03"
ACTIVE_SQL_TRANSACTION = "25001"


@dataclass(frozen=True, slots=True)
class Applied:
    """One migration ``migrate`` applied: how long, how many statements, how many retries."""

    name: str
    id: str
    duration_ms: float
    statements: int
    resumed_at: int = 0
    retries: int = 0


class Reporter(Protocol):
    """Where progress goes: the CLI prints it, the library default ignores it."""

    def waiting_for_lock(self) -> None: ...
    def starting(self, migration: Migration, index: int, total: int) -> None: ...
    def applied(self, applied: Applied) -> None: ...
    def retrying(self, migration: Migration, attempt: int, delay: float, reason: str) -> None: ...
    def warning(self, message: str) -> None: ...


class SilentReporter:
    """Reports nothing (the API's default)."""

    def waiting_for_lock(self) -> None:
        pass

    def starting(self, migration: Migration, index: int, total: int) -> None:
        pass

    def applied(self, applied: Applied) -> None:
        pass

    def retrying(self, migration: Migration, attempt: int, delay: float, reason: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often a migration that hit ``lock_timeout`` is tried again, and how long between."""

    retries: int = 3
    first_delay: float = 0.1
    max_delay: float = 2.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.first_delay * 2**attempt))


def statements_of(migration: Migration) -> list[Statement]:
    """Split a migration's body into statements (a syntax error names file:line:column).

    ``pglast.parser.split`` parses with Postgres's grammar but builds no
    syntax tree, which makes it some 40 times faster than ``validate``; the
    slower path runs only to report a syntax error.
    """
    from pglast.parser import ParseError, split

    body = migration.body
    try:
        slices = split(body, with_parser=True, only_slices=True)
    except ParseError:
        validate(body, file=_display(migration.path), first_line=migration.body_line)
        raise
    statements = []
    for part in slices:
        line, column = line_column(body, part.start, first_line=migration.body_line)
        statements.append(Statement(body[part], line, column, part.start))
    return statements


def _display(path: Path) -> str:
    """The path as the user typed it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _failure(
    migration: Migration, exc: psycopg.Error, offset: int, *, exact: bool
) -> MigrationFailed:
    """Turn a Postgres error into one that points at the file, line and column.

    ``offset`` is a character offset in the body: the error position when
    ``exact``, else the start of the failing statement (no column shown).
    """
    diag = exc.diag
    line, column = line_column(migration.body, offset, first_line=migration.body_line)
    source = migration.body.split("\n")[line - migration.body_line]
    sqlstate = exc.sqlstate
    cls = LockTimeoutExceeded if sqlstate == LOCK_NOT_AVAILABLE else MigrationFailed
    hint = diag.message_hint
    if sqlstate == ACTIVE_SQL_TRANSACTION:
        hint = "this statement cannot run in a transaction: put it in a migration whose "
        hint += "header says '-- transaction: false'"
    message = diag.message_primary or str(exc).splitlines()[0]
    return cls(
        f"{migration.name} failed: {message}",
        location=SourceLocation(_display(migration.path), line),
        hint=hint,
        migration=migration.name,
        column=column if exact else None,
        sqlstate=sqlstate,
        source_line=source,
        detail=diag.message_detail,
    )


def _position(exc: psycopg.Error) -> int | None:
    """Postgres's 1-based character position of the error in the text sent, if any."""
    position = exc.diag.statement_position
    return int(position) if position else None


def _execute(conn: psycopg.Connection[Any], migration: Migration, stmt: Statement) -> None:
    try:
        conn.execute(stmt.sql.encode())  # bytes: no placeholder parsing of '%'
    except psycopg.Error as exc:
        position = _position(exc)
        offset = stmt.offset + (position - 1 if position else 0)
        raise _failure(migration, exc, offset, exact=position is not None) from exc


def _locate(
    conn: psycopg.Connection[Any],
    migration: Migration,
    stmts: list[Statement],
    exc: psycopg.Error,
    *,
    prefix: int,
) -> MigrationFailed:
    """Name the statement that failed when the body was sent as one script.

    With a position, Postgres says where in the script it failed (``prefix``
    characters were sent before the body). Without one
    (a constraint violation, a lock timeout) the statements are replayed one
    by one in a transaction that is always rolled back, to find the culprit;
    a lock timeout is not replayed, so its retries stay bounded.
    """
    position = _position(exc)
    if position is not None and 0 <= position - 1 - prefix < len(migration.body):
        return _failure(migration, exc, position - 1 - prefix, exact=True)
    first = stmts[0].offset if stmts else 0
    if exc.sqlstate == LOCK_NOT_AVAILABLE or len(stmts) < 2:
        return _failure(migration, exc, first, exact=False)
    try:
        with conn.transaction():
            for stmt in stmts:
                _execute(conn, migration, stmt)
            raise psycopg.Rollback()
    except MigrationFailed as replayed:
        if replayed.sqlstate == exc.sqlstate:
            return replayed
    return _failure(migration, exc, first, exact=False)


def _with_retries(
    run: Callable[[], None],
    migration: Migration,
    policy: RetryPolicy,
    reporter: Reporter,
    lock_timeout: str,
) -> int:
    """Run ``run``, trying again after a lock timeout; return how many retries it took."""
    for attempt in range(policy.retries + 1):
        try:
            run()
            return attempt
        except LockTimeoutExceeded as exc:
            if attempt == policy.retries:
                exc.message = (
                    f"{migration.name} could not take its locks within lock_timeout "
                    f"{lock_timeout}, {attempt + 1} times: {exc.message}"
                )
                exc.hint = (
                    "another session holds a lock on the same table (see pg_locks / "
                    "pg_stat_activity); retry when it is done, or raise lock_timeout"
                )
                raise
            delay = policy.delay(attempt)
            reporter.retrying(migration, attempt + 1, delay, exc.message)
            time.sleep(delay)
    raise AssertionError("unreachable")


_BEGIN = "BEGIN;\n"


def _transactional(conn: psycopg.Connection[Any], migration: Migration, position: int) -> int:
    """Send ``BEGIN; body; ledger row; COMMIT`` as one script; return the body's statement count.

    Postgres runs a multi-statement simple query up to the first error and
    leaves the explicit transaction aborted, so a failure rolls everything
    back here. Round trips, not parsing, dominate the cost of many small
    migrations: this is what keeps dibs near ``psql -1 -f``. The body is
    split into statements only when needed (a failure to locate, a keyword
    that may be transaction control): Postgres returns one result per
    statement it ran, which gives the count without parsing.
    """
    _refuse_transaction_control(migration)
    row = ledger.applied_row(migration, position).as_bytes(conn)
    script = _BEGIN.encode() + migration.body.encode() + b"\n;\n" + row + b";\nCOMMIT"
    try:
        cursor = conn.execute(script)
    except psycopg.Error as exc:
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        stmts = statements_of(migration)
        raise _locate(conn, migration, stmts, exc, prefix=len(_BEGIN)) from exc
    results = 1
    while cursor.nextset():
        results += 1
    return results - 3  # BEGIN, the ledger row, COMMIT


_TRANSACTION_CONTROL = re.compile(
    r"^(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE\s+TRANSACTION)\b",
    re.IGNORECASE,
)
# Any statement that _TRANSACTION_CONTROL matches contains one of these words:
# a body without them needs no split to be checked.
_CONTROL_WORD = re.compile(
    r"\b(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE)\b", re.IGNORECASE
)


def _refuse_transaction_control(migration: Migration) -> None:
    """A COMMIT inside a transactional migration would split it: refuse it up front."""
    if not _CONTROL_WORD.search(migration.body):
        return
    for stmt in statements_of(migration):
        if _TRANSACTION_CONTROL.match(stmt.sql):
            raise MigrationFailed(
                f"{migration.name} controls transactions itself "
                f"({stmt.sql.split()[0].upper()}), but dibs runs it in one transaction",
                location=SourceLocation(_display(migration.path), stmt.line),
                hint="remove the statement, or make the migration non-transactional "
                "('-- transaction: false' in its header)",
                migration=migration.name,
                column=stmt.column,
                source_line=migration.body.split("\n")[stmt.line - migration.body_line],
            )


def _one_statement(
    conn: psycopg.Connection[Any], migration: Migration, index: int, stmt: Statement
) -> None:
    try:
        with conn.transaction():
            _execute(conn, migration, stmt)
            ledger.record_statement(conn, migration, index)
    except MigrationFailed as exc:
        if exc.sqlstate != ACTIVE_SQL_TRANSACTION:
            raise
        _execute(conn, migration, stmt)
        ledger.record_statement(conn, migration, index)


def apply_migration(
    conn: psycopg.Connection[Any],
    migration: Migration,
    position: int,
    *,
    resume_at: int = 0,
    policy: RetryPolicy,
    reporter: Reporter,
    lock_timeout: str,
) -> Applied:
    """Apply ``migration`` as chain position ``position`` and write its ledger row.

    ``conn`` must be in autocommit mode with ``lock_timeout`` set.

    Raises:
        MigrationFailed: a statement failed (the transaction was rolled back).
        LockTimeoutExceeded: a lock was not granted within ``lock_timeout``
            after every retry.
    """
    start = time.perf_counter()
    if migration.transactional:
        counted: list[int] = []
        retries = _with_retries(
            lambda: counted.append(_transactional(conn, migration, position)),
            migration,
            policy,
            reporter,
            lock_timeout,
        )
        count = counted[-1]
    else:
        stmts = statements_of(migration)
        count = len(stmts)
        retries = 0
        for index in range(resume_at, len(stmts)):
            retries += _with_retries(
                partial(_one_statement, conn, migration, index, stmts[index]),
                migration,
                policy,
                reporter,
                lock_timeout,
            )
        with conn.transaction():
            elapsed = (time.perf_counter() - start) * 1000
            ledger.record_applied(conn, migration, position, elapsed)
            ledger.finish_progress(conn, migration)
    elapsed = (time.perf_counter() - start) * 1000
    return Applied(migration.name, migration.id, elapsed, count, resume_at, retries)
