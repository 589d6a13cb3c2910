"""Rows for query tests on the example shop, and running a statement sync or async.

``seed`` fills a fresh shop database with a few customers, products, orders,
lines and payments; ``sql_rows`` runs the hand-written SQL the builder's results
are compared with; ``fetchers`` yields ``stmt.fetch(conn)`` or ``await
stmt.afetch(aconn)`` (on an event loop of its own: no async pytest plugin).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

Fetch = Callable[[Any], list[Any]]


def uuid(n: int) -> UUID:
    return UUID(int=n)


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=UTC)


def seed(conn: psycopg.Connection[Any]) -> None:
    """A small shop: 4 customers (one without orders), 5 products, 5 orders, lines, payments."""
    x = conn.execute
    for cid, email, name, tags, opt_in, month in [
        (1, "ann@example.com", "Ann", ["vip", "early"], True, 1),
        (2, "bob@example.com", "Bob", [], False, 2),
        (3, "cy@Example.org", "Cy", ["vip"], False, 3),
        (4, "dee%_x@example.com", "Dee", [], False, 4),
    ]:
        x(
            "INSERT INTO shop.customers (id, email, name, tags, marketing_opt_in, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (cid, email, name, tags, opt_in, datetime(2024, month, 1, 10, tzinfo=UTC)),
        )
    for aid, cid, line1, line2, city, country in [
        (1, 1, "1 Main St", None, "Paris", "FR"),
        (2, 1, "2 Side St", "Apt 3", "Lyon", "FR"),
        (3, 2, "3 High St", None, "London", "GB"),
        (4, 3, "4 Ring", None, "Berlin", "DE"),
    ]:
        x(
            "INSERT INTO shop.addresses (id, customer_id, line1, line2, city, postcode, country)"
            " VALUES (%s, %s, %s, %s, %s, '00000', %s)",
            (aid, cid, line1, line2, city, country),
        )
    x("UPDATE shop.customers SET default_address_id = 1 WHERE id = 1")
    x("UPDATE shop.customers SET default_address_id = 3 WHERE id = 2")
    for cat, parent, name in [(1, None, "All"), (2, 1, "Books"), (3, 1, "Music"), (4, 2, "Novels")]:
        x(
            "INSERT INTO shop.categories (id, parent_id, name, slug) OVERRIDING SYSTEM VALUE"
            " VALUES (%s, %s, %s, %s)",
            (cat, parent, name, name.lower()),
        )
    for pid, sku, name, desc, price, cat, attrs, active in [
        (1, "B-1", "Dune", "sci-fi", "12.50", 4, '{"color": "red", "pages": 412}', True),
        (2, "B-2", "Emma", None, "8.00", 4, '{"pages": 300, "tags": ["classic"]}', True),
        (3, "M-1", "Blue", "album", "15.99", 3, '{"color": "blue", "format": "vinyl"}', True),
        (4, "M-2", "Red", None, "9.99", 3, "{}", False),
        (5, "X-1", "Gift card", "any", "25.00", None, '{"color": "red"}', True),
    ]:
        x(
            "INSERT INTO shop.products (id, sku, name, description, price, category_id,"
            " attributes, active) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
            (pid, sku, name, desc, Decimal(price), cat, attrs, active),
        )
    for n, cust, addr, status, total, day, note in [
        (1, 1, 1, "paid", "33.00", 1, "gift"),
        (2, 1, 2, "shipped", "15.99", 3, None),
        (3, 2, 3, "pending", "8.00", 2, "call first"),
        (4, 3, None, "cancelled", "25.00", 4, None),
        (5, 2, 3, "paid", "41.97", 5, None),
    ]:
        x(
            "INSERT INTO shop.orders (id, number, customer_id, shipping_address_id, status,"
            " total, placed_at, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (uuid(n), f"N-00{n}", cust, addr, status, Decimal(total), at(day), note),
        )
    for n, line, product, qty, price in [
        (1, 1, 1, 2, "12.50"),
        (1, 2, 2, 1, "8.00"),
        (2, 1, 3, 1, "15.99"),
        (3, 1, 2, 1, "8.00"),
        (4, 1, 5, 1, "25.00"),
        (5, 1, 3, 2, "15.99"),
        (5, 2, 4, 1, "9.99"),
    ]:
        x(
            "INSERT INTO shop.order_lines (order_id, line_no, product_id, quantity, unit_price)"
            " VALUES (%s, %s, %s, %s, %s)",
            (uuid(n), line, product, qty, Decimal(price)),
        )
    for pay, n, amount, method, day in [
        (1, 1, "33.00", "card", 1),
        (2, 2, "15.99", "transfer", 3),
        (3, 5, "20.00", "card", 5),
        (4, 5, "21.97", "voucher", 6),
    ]:
        x(
            "INSERT INTO shop.payments (id, order_id, amount, method, paid_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            (pay, uuid(n), Decimal(amount), method, at(day, 12)),
        )


def sql_rows(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[tuple[Any, ...]]:
    """What hand-written SQL returns (the reference the builder is checked against)."""
    return [tuple(r) for r in conn.execute(query, params).fetchall()]  # type: ignore[arg-type]


@contextmanager
def fetcher(mode: str, conn: psycopg.Connection[Any], url: str) -> Iterator[Fetch]:
    """Run statements with ``fetch`` on ``conn`` (``"sync"``) or ``afetch`` on a new async one."""
    if mode == "sync":
        yield lambda stmt: stmt.fetch(conn)
        return
    loop = asyncio.new_event_loop()
    aconn = loop.run_until_complete(psycopg.AsyncConnection.connect(url, autocommit=True))
    try:
        yield lambda stmt: loop.run_until_complete(stmt.afetch(aconn))
    finally:
        loop.run_until_complete(aconn.close())
        loop.close()
