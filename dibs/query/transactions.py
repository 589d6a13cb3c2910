"""After-commit callbacks: queued per connection, run once the outermost transaction commits.

psycopg has no commit callbacks, so dibs keeps a queue per connection. Each
entry remembers the server transaction id (``pg_current_xact_id()``) it was
queued in. The queue is run:

* when a dibs statement or ``dibs.query.transaction(conn)`` block that opened the
  outermost transaction commits (dibs knows it committed) — on an autocommit
  connection, that is right after each statement;
* on ``dibs.query.commit(conn)`` / ``rollback(conn)`` (and their async twins);
* otherwise (a plain ``conn.commit()`` or ``with conn.transaction()``), the next
  time dibs runs a statement with hooks on the idle connection, or on
  ``settle(conn)``: entries whose transaction Postgres reports ``committed``
  run, the others are dropped.

Entries queued inside a block that rolls back are dropped at once. Callbacks
never run for a transaction that rolled back, because each entry is checked
against Postgres's own record of the transaction (``pg_xact_status``).
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

__all__ = [
    "acommit",
    "after_commit_queue",
    "arollback",
    "asettle",
    "atransaction",
    "commit",
    "rollback",
    "settle",
    "transaction",
]

_QUEUES: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()


def after_commit_queue(conn: Any) -> list[Any]:
    """The pending (fn, row, ctx, xid) entries of a connection."""
    queue = _QUEUES.get(conn)
    if queue is None:
        queue = _QUEUES[conn] = []
    return queue


def _take(conn: Any) -> list[Any]:
    queue = after_commit_queue(conn)
    entries = list(queue)
    queue.clear()
    return entries


def _call_all(entries: list[Any]) -> None:
    first: BaseException | None = None
    for fn, row, ctx, _ in entries:
        try:
            fn(row, ctx)
        except Exception as exc:  # the data is committed: run the others, then report
            first = first or exc
    if first is not None:
        raise first


def run_pending(conn: Any) -> None:
    """Run every queued callback (the caller knows the transaction committed)."""
    _call_all(_take(conn))


async def arun_pending(conn: Any) -> None:
    first: BaseException | None = None
    for fn, row, ctx, _ in _take(conn):
        try:
            result = fn(row, ctx)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            first = first or exc
    if first is not None:
        raise first


def _committed_xids(rows: list[Any]) -> set[str]:
    return {xid for xid, status in rows if status == "committed"}


_STATUS_SQL = "SELECT x, pg_xact_status(x::xid8) FROM unnest(%s::text[]) AS x"


def settle_stale(conn: psycopg.Connection[Any]) -> None:
    """Run callbacks of transactions that committed outside dibs's sight; drop the rest."""
    entries = _take(conn)
    if not entries:
        return
    xids = sorted({e[3] for e in entries})
    committed = _committed_xids(conn.execute(_STATUS_SQL, (xids,)).fetchall())
    if not conn.autocommit:
        conn.rollback()  # end the read-only transaction the status query opened
    _call_all([e for e in entries if e[3] in committed])


async def asettle_stale(conn: psycopg.AsyncConnection[Any]) -> None:
    entries = _take(conn)
    if not entries:
        return
    xids = sorted({e[3] for e in entries})
    cur = await conn.execute(_STATUS_SQL, (xids,))
    committed = _committed_xids(await cur.fetchall())
    if not conn.autocommit:
        await conn.rollback()  # end the read-only transaction the status query opened
    for e in entries:
        if e[3] in committed:
            after_commit_queue(conn).append(e)
    await arun_pending(conn)


def settle(conn: psycopg.Connection[Any]) -> None:
    """Run or drop callbacks queued in transactions that have ended (plain psycopg commits)."""
    if conn.info.transaction_status == TransactionStatus.IDLE:
        settle_stale(conn)


@contextmanager
def transaction(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """``conn.transaction()`` that runs after-commit hooks when the outermost block commits."""
    queue = after_commit_queue(conn)
    if queue and conn.info.transaction_status == TransactionStatus.IDLE:
        settle_stale(conn)
    mark = len(queue)
    try:
        with conn.transaction():
            yield
    except BaseException:
        del queue[mark:]
        raise
    if conn.info.transaction_status == TransactionStatus.IDLE:
        run_pending(conn)


@asynccontextmanager
async def atransaction(conn: psycopg.AsyncConnection[Any]) -> AsyncIterator[None]:
    """``transaction`` for async connections."""
    queue = after_commit_queue(conn)
    if queue and conn.info.transaction_status == TransactionStatus.IDLE:
        await asettle_stale(conn)
    mark = len(queue)
    try:
        async with conn.transaction():
            yield
    except BaseException:
        del queue[mark:]
        raise
    if conn.info.transaction_status == TransactionStatus.IDLE:
        await arun_pending(conn)


def commit(conn: psycopg.Connection[Any]) -> None:
    """``conn.commit()``, then run the after-commit hooks queued in that transaction.

    Entries left from earlier transactions ended by plain psycopg calls are
    settled too: run if Postgres says they committed, dropped otherwise.
    """
    conn.commit()
    settle_stale(conn)


def rollback(conn: psycopg.Connection[Any]) -> None:
    """``conn.rollback()``, dropping the after-commit hooks queued in that transaction.

    Entries of earlier transactions that did commit (plain ``conn.commit()``)
    still run: Postgres reports each transaction's outcome.
    """
    conn.rollback()
    settle_stale(conn)


async def acommit(conn: psycopg.AsyncConnection[Any]) -> None:
    """``commit`` for async connections."""
    await conn.commit()
    await asettle_stale(conn)


async def arollback(conn: psycopg.AsyncConnection[Any]) -> None:
    """``rollback`` for async connections."""
    await conn.rollback()
    await asettle_stale(conn)


async def asettle(conn: psycopg.AsyncConnection[Any]) -> None:
    """``settle`` for async connections."""
    if conn.info.transaction_status == TransactionStatus.IDLE:
        await asettle_stale(conn)
