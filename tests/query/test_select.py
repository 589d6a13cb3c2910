"""SELECT on the example shop, every form of the issue, on sync and async connections.

Each test runs twice (``fetch`` is parametrized: ``stmt.fetch(conn)`` and
``await stmt.afetch(aconn)``) over the same seeded rows, and compares what the
builder returns with what hand-written SQL returns on the same data.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from shop_schema import (
    Address,
    AuditEvent,
    Category,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    Stock,
    Warehouse,
)

from dibs.query import (
    JoinError,
    NotFound,
    QueryError,
    TooManyRows,
    and_,
    array_agg,
    avg,
    count,
    exists,
    json_agg,
    lower,
    max_,
    min_,
    not_,
    or_,
    scalar,
    select,
    sum_,
)
from dibs.query.compiler import SHAPES
from tests.query.shop_data import Fetch, at, seed, sql_rows, uuid


def ids(rows: list[Any]) -> list[Any]:
    return [r.id for r in rows]


# -- rows and columns ------------------------------------------------------------------


def test_selecting_a_table_returns_instances_of_its_class(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    customers = fetch(select(Customer).order_by(Customer.id))

    assert all(type(c) is Customer for c in customers)
    expected = sql_rows(
        conn,
        "SELECT id, email, name, default_address_id, marketing_opt_in, tags, created_at,"
        " password_hash FROM shop.customers ORDER BY id",
    )
    got = [
        (
            c.id,
            c.email,
            c.name,
            c.default_address_id,
            c.marketing_opt_in,
            c.tags,
            c.created_at,
            c.password_hash,
        )
        for c in customers
    ]
    assert got == expected
    assert customers[0].tags == ["vip", "early"]
    assert isinstance(customers[0].created_at, datetime)


def test_selecting_columns_returns_tuples_of_python_types(fetch: Fetch) -> None:
    rows = fetch(
        select(Order.id, Order.total, Order.status, Order.placed_at, Order.note).order_by(
            Order.number
        )
    )

    assert rows[0] == (uuid(1), Decimal("33.00"), OrderStatus.PAID, at(1), "gift")
    assert [type(v) for v in rows[0]] == [UUID, Decimal, OrderStatus, datetime, str]
    assert [r[2] for r in rows] == [
        OrderStatus.PAID,
        OrderStatus.SHIPPED,
        OrderStatus.PENDING,
        OrderStatus.CANCELLED,
        OrderStatus.PAID,
    ]
    assert all(type(r) is tuple and len(r) == 5 for r in rows)


def test_jsonb_inet_and_enum_values_come_back_typed(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    conn.execute(
        "INSERT INTO audit.events (actor, action, payload, client_ip)"
        " VALUES ('ann', 'login', '{\"ok\": true, \"n\": 2}', '10.1.2.3')"
    )
    (event,) = fetch(select(AuditEvent))
    assert type(event) is AuditEvent
    assert event.payload == {"ok": True, "n": 2}
    assert event.client_ip == ipaddress.IPv4Address("10.1.2.3")
    assert (event.actor, event.action) == ("ann", "login")
    (method,) = fetch(select(Payment.method).where(Payment.id == 4))[0]
    assert method is PaymentMethod.VOUCHER


def test_fetch_one_and_fetch_optional(conn: psycopg.Connection[Any]) -> None:
    seed(conn)
    one = select(Customer).where(Customer.email == "bob@example.com").fetch_one(conn)
    assert (one.id, one.name) == (2, "Bob")
    assert select(Customer).where(Customer.id == 99).fetch_optional(conn) is None
    with pytest.raises(NotFound):
        select(Customer).where(Customer.id == 99).fetch_one(conn)
    with pytest.raises(TooManyRows):
        select(Customer).fetch_one(conn)


# -- where -------------------------------------------------------------------------------


def _order_numbers(fetch: Fetch, *conditions: Any) -> list[str]:
    return [r[0] for r in fetch(select(Order.number).where(*conditions).order_by(Order.number))]


def _sql_numbers(conn: psycopg.Connection[Any], where: str, *params: Any) -> list[str]:
    return [
        r[0]
        for r in sql_rows(
            conn, f"SELECT number FROM shop.orders WHERE {where} ORDER BY number", *params
        )
    ]


def test_where_with_and_or_not_and_comparisons(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    cases: list[tuple[Any, str, tuple[Any, ...]]] = [
        (Order.total > Decimal("15"), "total > %s", (Decimal("15"),)),
        (Order.total >= Decimal("15.99"), "total >= %s", (Decimal("15.99"),)),
        (Order.total < Decimal("15.99"), "total < %s", (Decimal("15.99"),)),
        (Order.total <= Decimal("15.99"), "total <= %s", (Decimal("15.99"),)),
        (Order.status == OrderStatus.PAID, "status = 'paid'", ()),
        (Order.status != OrderStatus.PAID, "status <> 'paid'", ()),
        (Order.customer_id.eq(2), "customer_id = 2", ()),
        (Order.customer_id.ne(2), "customer_id <> 2", ()),
        (
            (Order.customer_id == 1) & (Order.total > 20),
            "customer_id = 1 AND total > 20",
            (),
        ),
        (
            (Order.customer_id == 3) | (Order.status == OrderStatus.PENDING),
            "customer_id = 3 OR status = 'pending'",
            (),
        ),
        (~(Order.customer_id == 1), "NOT customer_id = 1", ()),
        (
            or_(and_(Order.customer_id == 1, Order.total < 20), not_(Order.total < 30)),
            "(customer_id = 1 AND total < 20) OR NOT total < 30",
            (),
        ),
        (and_(), "TRUE", ()),
        (or_(), "FALSE", ()),
    ]
    for condition, where, params in cases:
        assert _order_numbers(fetch, condition) == _sql_numbers(conn, where, *params), where
    # several conditions in where() and chained where() calls are ANDed
    both = select(Order.number).where(Order.customer_id == 1).where(Order.total > 20)
    assert [r[0] for r in fetch(both)] == _sql_numbers(conn, "customer_id = 1 AND total > 20")


def test_in_and_not_in_with_values_and_subqueries(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    assert _order_numbers(fetch, Order.customer_id.in_([1, 3])) == _sql_numbers(
        conn, "customer_id IN (1, 3)"
    )
    assert _order_numbers(fetch, Order.customer_id.not_in([1, 3])) == _sql_numbers(
        conn, "customer_id NOT IN (1, 3)"
    )
    assert _order_numbers(
        fetch, Order.status.in_([OrderStatus.PAID, OrderStatus.SHIPPED])
    ) == _sql_numbers(conn, "status IN ('paid', 'shipped')")
    assert _order_numbers(fetch, Order.id.in_([uuid(2), uuid(4)])) == ["N-002", "N-004"]
    assert _order_numbers(fetch, Order.customer_id.in_([])) == []
    assert len(_order_numbers(fetch, Order.customer_id.not_in([]))) == 5

    vip = select(Customer.id).where(Customer.tags.any_eq("vip"))
    assert _order_numbers(fetch, Order.customer_id.in_(vip)) == _sql_numbers(
        conn, "customer_id IN (SELECT id FROM shop.customers WHERE 'vip' = ANY(tags))"
    )
    assert _order_numbers(fetch, Order.customer_id.not_in(vip)) == _sql_numbers(
        conn, "customer_id NOT IN (SELECT id FROM shop.customers WHERE 'vip' = ANY(tags))"
    )


def test_between_like_ilike_and_null_tests(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    assert _order_numbers(fetch, Order.total.between(Decimal("8"), Decimal("25"))) == (
        _sql_numbers(conn, "total BETWEEN 8 AND 25")
    )
    assert _order_numbers(fetch, Order.placed_at.between(at(2), at(4))) == [
        "N-002",
        "N-003",
        "N-004",
    ]
    assert _order_numbers(fetch, Order.note.is_null()) == _sql_numbers(conn, "note IS NULL")
    assert _order_numbers(fetch, Order.note == None) == _sql_numbers(conn, "note IS NULL")  # noqa: E711
    assert _order_numbers(fetch, Order.note.is_not_null()) == _sql_numbers(conn, "note IS NOT NULL")
    assert _order_numbers(fetch, Order.note != None) == ["N-001", "N-003"]  # noqa: E711

    def emails(condition: Any) -> list[str]:
        return [r[0] for r in fetch(select(Customer.email).where(condition).order_by(Customer.id))]

    assert emails(Customer.email.like("%@example.com")) == [
        r[0]
        for r in sql_rows(
            conn, "SELECT email FROM shop.customers WHERE email LIKE '%%@example.com' ORDER BY id"
        )
    ]
    assert emails(Customer.email.like("%@example.org")) == []
    assert emails(Customer.email.ilike("%@EXAMPLE.ORG")) == ["cy@Example.org"]
    assert emails(Customer.email.like("dee\\%\\_%")) == ["dee%_x@example.com"]
    assert emails(lower(Customer.name) == "ann") == ["ann@example.com"]


def test_jsonb_operators(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    def skus(condition: Any) -> list[str]:
        return [r[0] for r in fetch(select(Product.sku).where(condition).order_by(Product.id))]

    def sql_skus(where: str) -> list[str]:
        query = f"SELECT sku FROM shop.products WHERE {where} ORDER BY id"
        return [r[0] for r in sql_rows(conn, query)]

    assert skus(Product.attributes.contains({"color": "red"})) == sql_skus(
        """attributes @> '{"color": "red"}'"""
    )
    assert skus(Product.attributes.has_key("pages")) == sql_skus("attributes ? 'pages'")
    assert skus(Product.attributes.json_text("color") == "blue") == ["M-1"]
    assert skus(Product.attributes.json("pages") == 300) == sql_skus(
        "attributes -> 'pages' = '300'::jsonb"
    )
    assert skus(Product.attributes.json("tags").json_text(0) == "classic") == ["B-2"]

    rows = fetch(
        select(Product.sku, Product.attributes.json("color"), Product.attributes.json_text("pages"))
        .where(Product.id.in_([1, 2]))
        .order_by(Product.id)
    )
    assert rows == [("B-1", "red", "412"), ("B-2", None, "300")]


def test_array_contains_and_any(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    def names(condition: Any) -> list[str]:
        return [r[0] for r in fetch(select(Customer.name).where(condition).order_by(Customer.id))]

    assert names(Customer.tags.contains(["vip"])) == ["Ann", "Cy"]
    assert names(Customer.tags.contains(["vip", "early"])) == ["Ann"]
    assert names(Customer.tags.any_eq("early")) == [
        r[0]
        for r in sql_rows(
            conn, "SELECT name FROM shop.customers WHERE 'early' = ANY(tags) ORDER BY id"
        )
    ]
    assert names(Customer.tags.contains([])) == ["Ann", "Bob", "Cy", "Dee"]


# -- order, paging, distinct ----------------------------------------------------------------


def test_order_by_directions_and_nulls(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    def numbers(*order: Any) -> list[str]:
        return [r[0] for r in fetch(select(Order.number).order_by(*order))]

    def sql_numbers(order: str) -> list[str]:
        return [r[0] for r in sql_rows(conn, f"SELECT number FROM shop.orders ORDER BY {order}")]

    assert numbers(Order.placed_at) == sql_numbers("placed_at")
    assert numbers(Order.placed_at.asc()) == sql_numbers("placed_at ASC")
    assert numbers(Order.placed_at.desc()) == sql_numbers("placed_at DESC")
    assert numbers(Order.note.asc(nulls="first"), Order.number) == sql_numbers(
        "note ASC NULLS FIRST, number"
    )
    assert numbers(Order.note.desc(nulls="last"), Order.number.desc()) == sql_numbers(
        "note DESC NULLS LAST, number DESC"
    )
    assert numbers(Order.customer_id.desc(), Order.total) == sql_numbers("customer_id DESC, total")
    assert numbers(Order.note.asc(nulls="first"), Order.number)[:3] == ["N-002", "N-004", "N-005"]
    with pytest.raises(ValueError):
        Order.note.asc(nulls="middle")  # type: ignore[arg-type]


def test_limit_and_offset(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    query = select(Order).order_by(Order.placed_at)
    every = [r[0] for r in sql_rows(conn, "SELECT id FROM shop.orders ORDER BY placed_at")]
    assert ids(fetch(query.limit(2))) == every[:2]
    assert ids(fetch(query.limit(2).offset(2))) == every[2:4]
    assert ids(fetch(query.offset(3))) == every[3:]
    assert ids(fetch(query.limit(2).limit(None))) == every


def test_keyset_pagination_walks_every_row_once(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    conn.execute(  # ties on placed_at, so the id must break them
        "INSERT INTO shop.orders (id, number, customer_id, placed_at, total)"
        " SELECT gen_random_uuid(), 'T-' || i, 4, %s, 1 FROM generate_series(1, 7) AS i",
        (at(3),),
    )
    for desc in (False, True):
        order = (Order.placed_at.desc(), Order.id.desc()) if desc else (Order.placed_at, Order.id)
        base = select(Order).order_by(*order).limit(3)
        pages: list[list[Order]] = [fetch(base)]
        while pages[-1]:
            last = pages[-1][-1]
            pages.append(fetch(base.after(last.placed_at, last.id)))
        walked = [o.id for page in pages for o in page]
        direction = "DESC" if desc else "ASC"
        expected = [
            r[0]
            for r in sql_rows(
                conn, f"SELECT id FROM shop.orders ORDER BY placed_at {direction}, id {direction}"
            )
        ]
        assert walked == expected
        assert all(len(p) == 3 for p in pages[:-2])


def test_keyset_pagination_needs_matching_values() -> None:
    with pytest.raises(QueryError):
        select(Order).order_by(Order.placed_at, Order.id).after(at(1))
    with pytest.raises(QueryError):
        select(Order).order_by(Order.placed_at, Order.id.desc()).after(at(1), uuid(1))
    with pytest.raises(QueryError):
        select(Order).after(at(1))


def test_distinct_and_distinct_on(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    rows = fetch(select(Order.customer_id).distinct().order_by(Order.customer_id))
    assert rows == sql_rows(
        conn, "SELECT DISTINCT customer_id FROM shop.orders ORDER BY customer_id"
    )
    # the latest order of each customer
    latest = fetch(
        select(Order)
        .distinct(Order.customer_id)
        .order_by(Order.customer_id, Order.placed_at.desc())
    )
    assert [(o.customer_id, o.number) for o in latest] == sql_rows(
        conn,
        "SELECT DISTINCT ON (customer_id) customer_id, number FROM shop.orders"
        " ORDER BY customer_id, placed_at DESC",
    )
    assert "DISTINCT ON (" in select(Order).distinct(Order.customer_id).sql


# -- joins ---------------------------------------------------------------------------------------


def test_join_inferred_from_the_one_foreign_key(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    rows = fetch(
        select(Order.number, Customer.name)
        .join(Customer)
        .where(Customer.name != "Bob")
        .order_by(Order.number)
    )
    assert rows == sql_rows(
        conn,
        "SELECT o.number, c.name FROM shop.orders o JOIN shop.customers c"
        " ON c.id = o.customer_id WHERE c.name <> 'Bob' ORDER BY o.number",
    )
    # the other direction (parent first) infers the same key
    pairs = fetch(select(Customer, Order).join(Order).order_by(Order.number))
    assert [(c.name, o.number) for c, o in pairs] == sql_rows(
        conn,
        "SELECT c.name, o.number FROM shop.customers c JOIN shop.orders o"
        " ON c.id = o.customer_id ORDER BY o.number",
    )
    assert all(type(c) is Customer and type(o) is Order for c, o in pairs)
    # three tables: lines → orders → customers
    chain = fetch(
        select(OrderLine.line_total, Customer.name)
        .join(Order)
        .join(Customer)
        .order_by(OrderLine.line_total)
    )
    assert chain == sql_rows(
        conn,
        "SELECT l.line_total, c.name FROM shop.order_lines l JOIN shop.orders o ON o.id ="
        " l.order_id JOIN shop.customers c ON c.id = o.customer_id ORDER BY l.line_total",
    )


def test_join_with_several_foreign_keys_names_the_candidates() -> None:
    with pytest.raises(JoinError) as caught:
        select(Customer).join(Address)
    message = str(caught.value) + str(caught.value.hint)
    assert "customers_default_address_id_fkey" in message
    assert "addresses_customer_id_fkey" in message
    assert "fk=" in message
    with pytest.raises(JoinError) as none:
        select(Customer).join(Warehouse)
    assert "on=" in str(none.value) + str(none.value.hint)
    with pytest.raises(JoinError) as wrong:
        select(Customer).join(Address, fk="no_such_fkey")
    assert "addresses_customer_id_fkey" in str(wrong.value.hint)


def test_join_naming_the_foreign_key_or_giving_on(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    default = fetch(
        select(Customer.name, Address.city)
        .join(Address, fk="customers_default_address_id_fkey")
        .order_by(Customer.id)
    )
    assert default == sql_rows(
        conn,
        "SELECT c.name, a.city FROM shop.customers c JOIN shop.addresses a"
        " ON a.id = c.default_address_id ORDER BY c.id",
    )
    owned = fetch(
        select(Customer.name, Address.city)
        .join(Address, fk="addresses_customer_id_fkey")
        .order_by(Address.id)
    )
    assert owned == sql_rows(
        conn,
        "SELECT c.name, a.city FROM shop.customers c JOIN shop.addresses a"
        " ON a.customer_id = c.id ORDER BY a.id",
    )
    explicit = fetch(
        select(Customer.name, Address.city)
        .join(Address, Address.customer_id == Customer.id)
        .order_by(Address.id)
    )
    assert explicit == owned
    assert len(default) != len(owned)


def test_left_join_keeps_unmatched_rows(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    rows = fetch(
        select(Customer.name, Order.number).left_join(Order).order_by(Customer.id, Order.number)
    )
    assert rows == sql_rows(
        conn,
        "SELECT c.name, o.number FROM shop.customers c LEFT JOIN shop.orders o"
        " ON o.customer_id = c.id ORDER BY c.id, o.number",
    )
    assert ("Dee", None) in rows
    inner = fetch(select(Customer.name, Order.number).join(Order))
    assert len(inner) == len(rows) - 1
    # a whole table on the outer side reads as None when nothing matched
    pairs = fetch(select(Customer, Order).join(Order, left=True).order_by(Customer.id))
    assert [(c.name, None if o is None else o.number) for c, o in pairs][-1] == ("Dee", None)
    assert sum(o is None for _, o in pairs) == 1


def test_join_a_derived_table_on_a_condition(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    spent = (
        select(Order.customer_id, sum_(Order.total).label("spent"))
        .group_by(Order.customer_id)
        .subquery("spent")
    )
    rows = fetch(
        select(Customer.name, spent.c.spent)
        .join(spent, spent.c.customer_id == Customer.id)
        .order_by(Customer.name)
    )
    assert rows == sql_rows(
        conn,
        "SELECT c.name, s.spent FROM shop.customers c JOIN (SELECT customer_id, sum(total)"
        " AS spent FROM shop.orders GROUP BY customer_id) s ON s.customer_id = c.id"
        " ORDER BY c.name",
    )


# -- aggregates ------------------------------------------------------------------------------


def test_aggregates_with_group_by_and_having(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    rows = fetch(
        select(
            Order.customer_id,
            count(),
            count(Order.note),
            sum_(Order.total),
            avg(Order.total),
            min_(Order.total),
            max_(Order.placed_at),
        )
        .group_by(Order.customer_id)
        .having(count() > 1)
        .order_by(Order.customer_id)
    )
    assert rows == sql_rows(
        conn,
        "SELECT customer_id, count(*), count(note), sum(total), avg(total), min(total),"
        " max(placed_at) FROM shop.orders GROUP BY customer_id HAVING count(*) > 1"
        " ORDER BY customer_id",
    )
    assert [type(v) for v in rows[0]] == [int, int, int, Decimal, Decimal, Decimal, datetime]
    assert [r[0] for r in rows] == [1, 2]

    (total,) = fetch(select(count(Order.customer_id, distinct=True)))
    assert total == (3,)

    having_sum = fetch(
        select(Order.customer_id, sum_(Order.total).label("spent"))
        .group_by(Order.customer_id)
        .having(sum_(Order.total) > Decimal("40"))
        .order_by(sum_(Order.total).label("spent").desc())
    )
    assert having_sum == sql_rows(
        conn,
        "SELECT customer_id, sum(total) AS spent FROM shop.orders GROUP BY customer_id"
        " HAVING sum(total) > 40 ORDER BY spent DESC",
    )


def test_an_aggregate_alone_takes_its_from_from_the_where_clause(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    stmt = select(count()).where(Order.status == OrderStatus.PAID)
    assert ' FROM "shop"."orders" WHERE ' in stmt.sql
    assert fetch(stmt) == sql_rows(conn, "SELECT count(*) FROM shop.orders WHERE status = 'paid'")
    assert fetch(select(count()).select_from(Product)) == [(5,)]


def test_array_agg_and_json_agg(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    rows = fetch(
        select(
            Order.customer_id,
            array_agg(Order.number, order_by=(Order.number.desc(),)),
            array_agg(Order.status, order_by=(Order.number.asc(),)),
            json_agg(Order.number, order_by=(Order.number.asc(),)),
        )
        .group_by(Order.customer_id)
        .order_by(Order.customer_id)
    )
    expected = sql_rows(
        conn,
        "SELECT customer_id, array_agg(number ORDER BY number DESC),"
        " array_agg(status::text ORDER BY number), json_agg(number ORDER BY number)"
        " FROM shop.orders GROUP BY customer_id ORDER BY customer_id",
    )
    assert [(r[0], r[1], r[3]) for r in rows] == [(e[0], e[1], e[3]) for e in expected]
    assert [[s.value for s in r[2]] for r in rows] == [e[2] for e in expected]
    assert rows[0][2] == [OrderStatus.PAID, OrderStatus.SHIPPED]
    # min/max of an enum column keep the enum
    (lowest,) = fetch(select(min_(Order.status)))
    assert lowest == (OrderStatus.PENDING,)

    lines = fetch(
        select(Order.number, json_agg(OrderLine.quantity, order_by=(OrderLine.line_no,)))
        .join(OrderLine)
        .group_by(Order.number)
        .order_by(Order.number)
    )
    assert lines[0] == ("N-001", [2, 1])


# -- subqueries and CTEs ---------------------------------------------------------------------


def test_exists_and_not_exists(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    paid = select(Payment.id).where(Payment.order_id == Order.id)
    assert _order_numbers(fetch, exists(paid)) == _sql_numbers(
        conn, "EXISTS (SELECT 1 FROM shop.payments p WHERE p.order_id = orders.id)"
    )
    assert _order_numbers(fetch, ~exists(paid)) == _sql_numbers(
        conn, "NOT EXISTS (SELECT 1 FROM shop.payments p WHERE p.order_id = orders.id)"
    )
    assert _order_numbers(fetch, paid.exists()) == _order_numbers(fetch, exists(paid))


def test_scalar_subqueries(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    paid = scalar(select(sum_(Payment.amount)).where(Payment.order_id == Order.id))
    rows = fetch(select(Order.number, paid).order_by(Order.number))
    assert rows == sql_rows(
        conn,
        "SELECT number, (SELECT sum(amount) FROM shop.payments p WHERE p.order_id = o.id)"
        " FROM shop.orders o ORDER BY number",
    )
    above = select(Order.number).where(Order.total > select(avg(Order.total)).scalar())
    assert [r[0] for r in fetch(above.order_by(Order.number))] == _sql_numbers(
        conn, "total > (SELECT avg(total) FROM shop.orders)"
    )
    # a scalar subquery of an enum column decodes to the enum
    status = scalar(select(Order.status).where(Order.id == OrderLine.order_id))
    (first,) = fetch(select(status).where(OrderLine.line_no == 2).order_by(OrderLine.order_id))[:1]
    assert first == (OrderStatus.PAID,)


def test_derived_tables(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    per_customer = (
        select(Order.customer_id, count().label("n"), sum_(Order.total).label("spent"))
        .group_by(Order.customer_id)
        .subquery("per_customer")
    )
    rows = fetch(
        select(per_customer.c.customer_id, per_customer["spent"])
        .select_from(per_customer)
        .where(per_customer.c.n > 1)
        .order_by(per_customer.c.customer_id)
    )
    assert rows == sql_rows(
        conn,
        "SELECT customer_id, spent FROM (SELECT customer_id, count(*) AS n, sum(total) AS spent"
        " FROM shop.orders GROUP BY customer_id) t WHERE n > 1 ORDER BY customer_id",
    )


def test_ctes(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    big = select(Order.id, Order.customer_id).where(Order.total > Decimal("20")).cte("big_orders")
    rows = fetch(
        select(Customer.name, count())
        .join(big, big.c.customer_id == Customer.id)
        .group_by(Customer.name)
        .order_by(Customer.name)
    )
    assert rows == sql_rows(
        conn,
        "WITH big_orders AS (SELECT id, customer_id FROM shop.orders WHERE total > 20)"
        " SELECT c.name, count(*) FROM shop.customers c JOIN big_orders b"
        " ON b.customer_id = c.id GROUP BY c.name ORDER BY c.name",
    )
    # a CTE used in FROM and another attached with with_(), referenced in a subquery
    vip = select(Customer.id).where(Customer.tags.any_eq("vip")).cte("vip")
    from_cte = fetch(
        select(big.c.id)
        .select_from(big)
        .with_(vip)
        .where(big.c.customer_id.in_(select(vip.c.id).select_from(vip)))
    )
    assert sorted(r[0] for r in from_cte) == sorted(
        r[0]
        for r in sql_rows(
            conn,
            "SELECT id FROM shop.orders WHERE total > 20 AND customer_id IN"
            " (SELECT id FROM shop.customers WHERE 'vip' = ANY(tags))",
        )
    )
    sql = select(big.c.id).select_from(big).sql
    assert sql.startswith('WITH "big_orders" AS (SELECT')


# -- SQL text: quoting, parameters, cache ---------------------------------------------------


def test_identifiers_are_quoted_and_values_are_parameters() -> None:
    hostile = "x'); DROP TABLE shop.customers; --"
    stmt = (
        select(Customer)
        .where(Customer.email == hostile, Customer.name.like("%" + hostile))
        .where(Customer.tags.contains([hostile]), Customer.id.in_([1, 2]))
        .limit(5)
        .offset(1)
    )
    compiled = stmt.compile()
    assert hostile not in compiled.sql
    assert "DROP" not in compiled.sql
    assert compiled.params == (hostile, "%" + hostile, [hostile], [1, 2], 5, 1)
    assert compiled.sql.count("%s") == len(compiled.params)
    assert '"shop"."customers"' in compiled.sql
    assert '"customers"."email"' in compiled.sql
    assert "SELECT " in compiled.sql and " email" not in compiled.sql


def test_hostile_values_do_not_change_the_statement(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    for hostile in ["' OR 1=1 --", "ann@example.com' --", "%", "%s", "\\", '"; DROP TABLE x']:
        assert fetch(select(Customer).where(Customer.email == hostile)) == []
    assert fetch(select(Customer.email).where(Customer.email.like("%'%"))) == []
    assert sql_rows(conn, "SELECT count(*) FROM shop.customers") == [(4,)]


def test_sql_is_cached_by_statement_shape() -> None:
    def stmt(email: str, limit: int) -> Any:
        return (
            select(Customer)
            .where(Customer.email == email, Customer.id.in_([limit, limit + 1]))
            .order_by(Customer.id)
            .limit(limit)
        )

    first = stmt("a@example.com", 3)
    before = SHAPES.cache_info()
    a = first.compile()
    after_first = SHAPES.cache_info()
    b = stmt("b@example.com", 7).compile()
    after_second = SHAPES.cache_info()

    assert a.sql is b.sql  # the very same text, not rendered again
    assert a.params == ("a@example.com", [3, 4], 3)
    assert b.params == ("b@example.com", [7, 8], 7)
    assert after_second.hits == after_first.hits + 1
    assert after_second.misses == after_first.misses
    assert after_first.hits + after_first.misses == before.hits + before.misses + 1
    assert first.compile() is a  # a statement object keeps its compiled form

    # another shape (a different operator, one more condition) renders its own SQL
    c = select(Customer).where(Customer.email != "x").order_by(Customer.id).limit(1).compile()
    assert c.sql != a.sql and "<>" in c.sql
    d = stmt("c@example.com", 1).where(Customer.name == "z").compile()
    assert d.sql != a.sql and d.params[-2:] == ("z", 1)


def test_cached_shapes_give_correct_rows(fetch: Fetch) -> None:
    for cid in (1, 2, 3, 4):
        rows = fetch(select(Order.number).where(Order.customer_id == cid).order_by(Order.number))
        expected = {1: ["N-001", "N-002"], 2: ["N-003", "N-005"], 3: ["N-004"], 4: []}[cid]
        assert [r[0] for r in rows] == expected


def test_statements_are_immutable_and_reusable(fetch: Fetch) -> None:
    base = select(Product.sku).order_by(Product.id)
    active = base.where(Product.active)
    assert len(fetch(base)) == 5
    assert [r[0] for r in fetch(active)] == ["B-1", "B-2", "M-1", "X-1"]
    assert len(fetch(base)) == 5
    assert fetch(active) == fetch(active)


def test_select_needs_something_to_select() -> None:
    with pytest.raises(ValueError):
        select()
    with pytest.raises(TypeError):
        select("customers")  # type: ignore[call-overload]


def test_category_and_stock_tables_are_usable(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO shop.warehouses (id, code, name) VALUES (1, 'W1', 'Main')")
    conn.execute(
        "INSERT INTO shop.stock (warehouse_id, product_id, quantity) VALUES (1, 1, 5), (1, 3, 2)"
    )
    rows = fetch(
        select(Warehouse.code, Product.sku, Stock.quantity)
        .select_from(Stock)
        .join(Warehouse)
        .join(Product)
        .order_by(Product.sku)
    )
    assert rows == [("W1", "B-1", 5), ("W1", "M-1", 2)]
    children = fetch(select(Category.name).where(Category.parent_id == 1).order_by(Category.name))
    assert children == [("Books",), ("Music",)]


def test_shape_cache_evicts_the_oldest_shape_when_full() -> None:
    from dibs.query.compiler import ShapeCache

    cache = ShapeCache(maxsize=2)
    for n in range(3):
        cache.put(("shape", n), f"SELECT {n}")
    assert cache.get(("shape", 0)) is None
    assert cache.get(("shape", 2)) == "SELECT 2"
    assert cache.cache_info() == (1, 1, 2, 2)


def test_declaring_tables_leaves_the_query_layer_unimported() -> None:
    """``dibs check`` imports schema modules: the builders must not ride along, and
    importing the statement module must not turn ``dibs.query.select`` into a module."""
    import subprocess
    import sys

    code = (
        "import sys, shop_schema\n"
        "assert 'dibs.query.selects' not in sys.modules, 'selects imported'\n"
        "assert 'psycopg' not in sys.modules, 'psycopg imported'\n"
        "import dibs.query.selects\n"
        "from dibs.query import select\n"
        "assert callable(select) and select.__module__ == 'dibs.query.selects'\n"
    )
    shop = Path(__file__).resolve().parents[2] / "examples" / "shop"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=shop, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
