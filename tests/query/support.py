"""Helpers for query tests: async connections without a plugin, and statement counting.

No async pytest plugin is installed, so async tests call ``on_async`` from a
plain test: it opens a ``psycopg.AsyncConnection`` and runs the coroutine with
``asyncio.run``. ``CountingCursor`` counts the statements a connection sends,
to prove that a multi-row insert is one round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg

T = TypeVar("T")


class CountingCursor(psycopg.Cursor[Any]):
    """A cursor that records every statement it executes (class-level log)."""

    log: list[str] = []

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        CountingCursor.log.append(str(query))
        return super().execute(query, params, **kwargs)


class AsyncCountingCursor(psycopg.AsyncCursor[Any]):
    """``CountingCursor`` for async connections."""

    log: list[str] = []

    async def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        AsyncCountingCursor.log.append(str(query))
        return await super().execute(query, params, **kwargs)


def on_async(
    url: str,
    fn: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
    *,
    autocommit: bool = True,
    counting: bool = False,
) -> T:
    """Run ``fn(aconn)`` on a fresh async connection to ``url`` and return its result."""

    async def main() -> T:
        factory: Any = AsyncCountingCursor if counting else psycopg.AsyncCursor
        aconn = await psycopg.AsyncConnection.connect(
            url, autocommit=autocommit, cursor_factory=factory
        )
        async with aconn:
            return await fn(aconn)

    return asyncio.run(main())


def count_rows(conn: psycopg.Connection[Any], table: str) -> int:
    """Rows in a table (``table`` is a test constant such as ``shop.orders``)."""
    from psycopg import sql

    schema, name = table.split(".")
    row = conn.execute(
        sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
    ).fetchone()
    assert row is not None
    return int(row[0])
