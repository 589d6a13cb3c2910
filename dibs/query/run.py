"""Execute statements on psycopg connections, sync and async, from one plan.

A statement's work is a *plan*: a generator that yields effects — run this
SQL, call this hook, queue this after-commit callback — and receives their
results. ``run_sync`` and ``run_async`` are the two drivers, so hooks and
multi-statement work behave the same on both kinds of connection. A statement
without hooks skips the plan (one query, no transaction) to stay close to raw
psycopg.

Errors are translated once here (``errors.translate``). After an error that a
drifted database could cause, the catalog rows of the statement's tables are
read and compared with the model (``drift.py``): a difference turns the error
into ``SchemaDrift``. That costs one query, on the error path only.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import ExecStatus, TransactionStatus

from dibs.query.errors import QueryError, SchemaDrift, translate
from dibs.query.hooks import Origin
from dibs.query.plan import Call, Env, Plan, Query
from dibs.query.transactions import (
    after_commit_queue,
    arun_pending,
    asettle_stale,
    run_pending,
    settle_stale,
)

if TYPE_CHECKING:
    from dibs.query.info import TableInfo
    from dibs.query.statement import Statement

__all__ = ["run_async", "run_sync"]

_XID_SQL = "SELECT pg_current_xact_id()::text"
# The catalog can be read after an error only where a statement may still run.
_USABLE = (TransactionStatus.IDLE, TransactionStatus.INTRANS)


_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE)


def _has_rows(cur: Any) -> bool:
    """Whether the last result carries rows; ``cur.description`` would tell too, but it
    builds a Column object per column on every call (half of dibs's cost per fetch)."""
    res = cur.pgresult
    return res is not None and res.status in _TUPLES


def _rows(cur: Any) -> list[Any]:
    return cur.fetchall() if _has_rows(cur) else []


# -- sync ------------------------------------------------------------------------------


def run_sync(
    stmt: Statement[Any], conn: psycopg.Connection[Any], actor: Any, origin: Origin
) -> Any:
    """Run a statement on a sync connection and return its decoded rows."""
    if not stmt._needs_transaction():
        compiled = stmt.compile()
        try:
            rows = _rows(conn.execute(compiled.sql, compiled.params))
        except psycopg.Error as exc:
            raise _explain(exc, stmt, conn) from exc
        return stmt._decode(rows)
    queue = after_commit_queue(conn)
    if queue and conn.info.transaction_status == TransactionStatus.IDLE:
        settle_stale(conn)
    mark = len(queue)
    try:
        with _atomic(conn):
            result = _drive_sync(stmt._plan(Env(conn, actor, origin)), conn, queue)
    except BaseException as exc:
        del queue[mark:]
        if isinstance(exc, psycopg.Error):
            raise _explain(exc, stmt, conn) from exc
        raise
    if conn.info.transaction_status == TransactionStatus.IDLE:
        run_pending(conn)
    return result


@contextmanager
def _atomic(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """All of a statement's work, or none of it, inside the caller's transaction.

    An autocommit connection gets a transaction of its own (committed at the
    end); a connection in a transaction gets a savepoint. A non-autocommit
    connection that is idle gets what a plain statement would get: psycopg's
    implicit transaction, left open for the caller to commit (``conn.transaction()``
    would commit it here). Nothing precedes the statement in that transaction,
    so undoing it on failure is a rollback.
    """
    if conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        with conn.transaction():
            yield
        return
    try:
        yield
    except BaseException:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.rollback()
        raise


def _drive_sync(plan: Plan, conn: psycopg.Connection[Any], queue: list[Any]) -> Any:
    value: Any = None
    xid: str | None = None
    try:
        while True:
            effect = plan.send(value)
            if isinstance(effect, Query):
                value = _rows(conn.execute(effect.sql, effect.params))
            elif isinstance(effect, Call):
                value = effect.fn(effect.row, effect.ctx)
            else:
                if xid is None:
                    xid = _rows(conn.execute(_XID_SQL))[0][0]
                queue.append((effect.fn, effect.row, effect.ctx, xid))
                value = None
    except StopIteration as stop:
        return stop.value


def _explain(exc: psycopg.Error, stmt: Statement[Any], conn: psycopg.Connection[Any]) -> QueryError:
    """The dibs error for ``exc``; ``SchemaDrift`` when the catalog differs from the model."""
    tables, error = _translated(exc, stmt)
    if not _should_look(exc, tables, error, conn.info.transaction_status):
        return error
    started = conn.info.transaction_status == TransactionStatus.IDLE and not conn.autocommit
    try:
        rows = conn.execute(*_catalog_query(tables)).fetchall()
    except psycopg.Error:
        return error
    finally:
        if started:  # the catalog read opened a transaction: leave the connection as it was
            conn.rollback()
    return _drifted(tables, rows, error)


# -- async -----------------------------------------------------------------------------


async def run_async(
    stmt: Statement[Any], conn: psycopg.AsyncConnection[Any], actor: Any, origin: Origin
) -> Any:
    """Run a statement on an async connection; hooks may be plain or async functions."""
    if not stmt._needs_transaction():
        compiled = stmt.compile()
        try:
            cur = await conn.execute(compiled.sql, compiled.params)
            rows = await cur.fetchall() if _has_rows(cur) else []
        except psycopg.Error as exc:
            raise await _aexplain(exc, stmt, conn) from exc
        return stmt._decode(rows)
    queue = after_commit_queue(conn)
    if queue and conn.info.transaction_status == TransactionStatus.IDLE:
        await asettle_stale(conn)
    mark = len(queue)
    try:
        async with _aatomic(conn):
            result = await _drive_async(stmt._plan(Env(conn, actor, origin)), conn, queue)
    except BaseException as exc:
        del queue[mark:]
        if isinstance(exc, psycopg.Error):
            raise await _aexplain(exc, stmt, conn) from exc
        raise
    if conn.info.transaction_status == TransactionStatus.IDLE:
        await arun_pending(conn)
    return result


@asynccontextmanager
async def _aatomic(conn: psycopg.AsyncConnection[Any]) -> AsyncIterator[None]:
    """``_atomic`` for async connections."""
    if conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
        async with conn.transaction():
            yield
        return
    try:
        yield
    except BaseException:
        if conn.info.transaction_status != TransactionStatus.IDLE:
            await conn.rollback()
        raise


async def _drive_async(plan: Plan, conn: psycopg.AsyncConnection[Any], queue: list[Any]) -> Any:
    value: Any = None
    xid: str | None = None
    try:
        while True:
            effect = plan.send(value)
            if isinstance(effect, Query):
                cur = await conn.execute(effect.sql, effect.params)
                value = await cur.fetchall() if _has_rows(cur) else []
            elif isinstance(effect, Call):
                value = effect.fn(effect.row, effect.ctx)
                if inspect.isawaitable(value):
                    value = await value
            else:
                if xid is None:
                    cur = await conn.execute(_XID_SQL)
                    xid = (await cur.fetchall())[0][0]
                queue.append((effect.fn, effect.row, effect.ctx, xid))
                value = None
    except StopIteration as stop:
        return stop.value


async def _aexplain(
    exc: psycopg.Error, stmt: Statement[Any], conn: psycopg.AsyncConnection[Any]
) -> QueryError:
    tables, error = _translated(exc, stmt)
    if not _should_look(exc, tables, error, conn.info.transaction_status):
        return error
    started = conn.info.transaction_status == TransactionStatus.IDLE and not conn.autocommit
    try:
        cur = await conn.execute(*_catalog_query(tables))
        rows = await cur.fetchall()
    except psycopg.Error:
        return error
    finally:
        if started:
            await conn.rollback()
    return _drifted(tables, rows, error)


# -- shared by both ----------------------------------------------------------------------


def _translated(exc: psycopg.Error, stmt: Statement[Any]) -> tuple[list[TableInfo], QueryError]:
    from dibs.query.drift import referenced_tables

    tables = referenced_tables(stmt)
    return tables, translate(exc, tables)


def _should_look(
    exc: psycopg.Error, tables: list[TableInfo], error: QueryError, status: TransactionStatus
) -> bool:
    from dibs.query.drift import drift_suspect

    return (
        bool(tables)
        and not isinstance(error, SchemaDrift)
        and drift_suspect(exc.sqlstate)
        and status in _USABLE
    )


def _catalog_query(tables: list[TableInfo]) -> tuple[str, tuple[list[str], list[str]]]:
    from dibs.query.drift import CATALOG_SQL

    return CATALOG_SQL, ([t.table.schema for t in tables], [t.table.name for t in tables])


def _drifted(tables: list[TableInfo], rows: list[Any], error: QueryError) -> QueryError:
    from dibs.query.drift import compare

    differences = compare(tables, rows)
    return SchemaDrift.found(differences, error) if differences else error
