"""INSERT, upsert, UPDATE and DELETE on the example shop, on sync and async connections."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from shop_schema import Category, Customer, Order, OrderLine, OrderStatus, Product

from dibs.query import (
    QueryError,
    UnsafeStatement,
    delete,
    insert,
    insert_many,
    raw_sql,
    select,
    update,
)
from tests.query.support import CountingCursor, count_rows, on_async


def _customer(n: int = 1, **extra: Any) -> Customer:
    return Customer(email=f"c{n}@example.org", name=f"Customer {n}", **extra)


def _order(customer_id: int, number: str, total: str = "10.00") -> Order:
    return Order(number=number, customer_id=customer_id, total=Decimal(total))


@pytest.fixture
def counting(shop_url: str) -> Any:
    with psycopg.connect(shop_url, autocommit=True, cursor_factory=CountingCursor) as c:
        CountingCursor.log.clear()
        yield c


# -- INSERT one row ------------------------------------------------------------------


def test_insert_one_fills_identity_and_defaults_into_the_instance(
    conn: psycopg.Connection[Any],
) -> None:
    customer = _customer()
    assert "id" not in customer.__dict__  # the database fills it

    stored = insert(customer).fetch_one(conn)

    row = conn.execute(
        "SELECT id, created_at, marketing_opt_in FROM shop.customers WHERE email = %s",
        (customer.email,),
    ).fetchone()
    assert row is not None
    assert (customer.id, customer.created_at, customer.marketing_opt_in) == row
    assert isinstance(customer.created_at, datetime)
    assert stored == customer
    assert stored is not customer


def test_insert_one_async_fills_the_instance(shop_url: str, conn: psycopg.Connection[Any]) -> None:
    customer = _customer()

    async def work(aconn: psycopg.AsyncConnection[Any]) -> Customer:
        return await insert(customer).afetch_one(aconn)

    stored = on_async(shop_url, work)

    assert stored.id == customer.id
    assert count_rows(conn, "shop.customers") == 1
    assert select(Customer).where(Customer.id == customer.id).fetch_one(conn) == customer


def test_insert_values_by_attribute_and_enum_and_uuid(conn: psycopg.Connection[Any]) -> None:
    customer = insert(_customer()).fetch_one(conn)
    stmt = insert(Order).values(
        number="A-1", customer_id=customer.id, status=OrderStatus.PAID, total=Decimal("12.50")
    )

    order = stmt.fetch_one(conn)

    assert isinstance(order.id, UUID)
    assert order.status is OrderStatus.PAID
    stored = conn.execute("SELECT status::text, total FROM shop.orders").fetchall()
    assert stored == [("paid", Decimal("12.50"))]


def test_insert_values_rejects_an_unknown_attribute() -> None:
    with pytest.raises(QueryError, match="unknown column 'emial'") as info:
        insert(Customer).values(emial="x@example.org")
    assert "email" in str(info.value)  # the closest match is suggested


def test_generated_column_is_never_written_but_returned(conn: psycopg.Connection[Any]) -> None:
    customer = insert(_customer()).fetch_one(conn)
    order = insert(_order(customer.id, "G-1")).fetch_one(conn)
    product = insert(
        Product(sku="P1", name="Pen", description=None, price=Decimal("2.50"), category_id=None)
    ).fetch_one(conn)

    line = insert(
        OrderLine(
            order_id=order.id,
            line_no=1,
            product_id=product.id,
            quantity=4,
            unit_price=Decimal("2.50"),
        )
    ).fetch_one(conn)

    assert line.line_total == Decimal("10.00")


# -- INSERT many rows -------------------------------------------------------------------


def test_insert_many_is_one_statement_and_returns_rows_in_order(
    counting: psycopg.Connection[Any],
) -> None:
    customers = [_customer(n) for n in range(25)]
    stmt = insert_many(customers)
    assert stmt.sql.count("INSERT") == 1
    assert stmt.sql.count("), (") == 24  # one multi-row VALUES list

    stored = stmt.fetch(counting)

    assert len(CountingCursor.log) == 1
    assert [c.email for c in stored] == [c.email for c in customers]
    assert len({c.id for c in stored}) == 25
    assert count_rows(counting, "shop.customers") == 25


def test_insert_many_async_is_one_statement(shop_url: str, conn: psycopg.Connection[Any]) -> None:
    from tests.query.support import AsyncCountingCursor

    stmt = insert_many([_customer(n) for n in range(10)])
    AsyncCountingCursor.log.clear()

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Customer]:
        return await stmt.afetch(aconn)

    stored = on_async(shop_url, work, counting=True)

    assert len(AsyncCountingCursor.log) == 1
    assert len(stored) == 10
    assert count_rows(conn, "shop.customers") == 10


def test_insert_many_with_different_columns_uses_default(conn: psycopg.Connection[Any]) -> None:
    stmt = (
        insert(Category)
        .values(name="Root", slug="root", parent_id=None)
        .values(name="Other", slug="other")
    )
    assert "DEFAULT" in stmt.sql

    rows = stmt.fetch(conn)

    assert [(r.slug, r.parent_id) for r in rows] == [("root", None), ("other", None)]


def test_insert_many_needs_a_row() -> None:
    with pytest.raises(QueryError):
        insert_many([])


# -- upsert ------------------------------------------------------------------------------


def test_upsert_do_update_overwrites_the_clashing_row(conn: psycopg.Connection[Any]) -> None:
    first = insert(_customer(1)).fetch_one(conn)
    again = Customer(email=first.email, name="Renamed", marketing_opt_in=True)

    stmt = insert(again).on_conflict_do_update(Customer.email, set=[Customer.name])
    assert 'ON CONFLICT ("email") DO UPDATE SET "name" = EXCLUDED."name"' in stmt.sql
    row = stmt.fetch_one(conn)

    assert row.id == first.id
    assert (row.name, row.marketing_opt_in) == ("Renamed", False)  # only name was set
    assert count_rows(conn, "shop.customers") == 1


def test_upsert_do_update_default_set_is_every_other_column(conn: psycopg.Connection[Any]) -> None:
    first = insert(_customer(1)).fetch_one(conn)
    again = Customer(email=first.email, name="Renamed", marketing_opt_in=True)

    row = insert(again).on_conflict_do_update(Customer.email).fetch_one(conn)

    assert (row.id, row.name, row.marketing_opt_in) == (first.id, "Renamed", True)


def test_upsert_do_nothing_skips_clashing_rows(conn: psycopg.Connection[Any]) -> None:
    insert(_customer(1)).fetch(conn)
    batch = [Customer(email="c1@example.org", name="Dup"), _customer(2)]

    rows = insert_many(batch).on_conflict_do_nothing(Customer.email).fetch(conn)

    assert [r.email for r in rows] == ["c2@example.org"]
    names = conn.execute("SELECT name FROM shop.customers ORDER BY id").fetchall()
    assert names == [("Customer 1",), ("Customer 2",)]


def test_upsert_async(shop_url: str, conn: psycopg.Connection[Any]) -> None:
    insert(_customer(1)).fetch(conn)
    stmt = insert(Customer(email="c1@example.org", name="Async")).on_conflict_do_update(
        Customer.email, set=[Customer.name]
    )

    async def work(aconn: psycopg.AsyncConnection[Any]) -> Customer:
        return await stmt.afetch_one(aconn)

    assert on_async(shop_url, work).name == "Async"
    assert count_rows(conn, "shop.customers") == 1


def test_conflict_target_must_be_a_column_of_the_table() -> None:
    with pytest.raises(TypeError, match=r"shop\.customers"):
        insert(_customer()).on_conflict_do_nothing(Order.number)


# -- UPDATE --------------------------------------------------------------------------------


@pytest.fixture
def orders(conn: psycopg.Connection[Any]) -> list[Order]:
    customer = insert(_customer()).fetch_one(conn)
    return insert_many(
        [_order(customer.id, f"N-{i}", total=f"{10 * (i + 1)}.00") for i in range(4)]
    ).fetch(conn)


def test_update_where_returns_the_updated_rows(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    stmt = (
        update(Order)
        .set(Order.status, OrderStatus.SHIPPED)
        .set(Order.total, Order.total * 2)
        .where(Order.total >= Decimal("30"))
    )

    rows = stmt.fetch(conn)

    assert sorted(r.number for r in rows) == ["N-2", "N-3"]
    assert all(r.status is OrderStatus.SHIPPED for r in rows)
    stored = conn.execute("SELECT number, status::text, total FROM shop.orders ORDER BY number")
    assert stored.fetchall() == [
        ("N-0", "pending", Decimal("10.00")),
        ("N-1", "pending", Decimal("20.00")),
        ("N-2", "shipped", Decimal("60.00")),
        ("N-3", "shipped", Decimal("80.00")),
    ]


def test_update_an_instance_by_primary_key(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    order = orders[1]
    order.note = "gift wrap"

    row = update(order).fetch_one(conn)

    assert row.note == "gift wrap"
    notes = conn.execute("SELECT number FROM shop.orders WHERE note IS NOT NULL").fetchall()
    assert notes == [("N-1",)]


def test_update_values_by_attribute_async(
    shop_url: str, conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    stmt = update(Order).values(note="async").where(Order.number.in_(["N-0", "N-3"]))

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Order]:
        return await stmt.afetch(aconn)

    assert sorted(r.number for r in on_async(shop_url, work)) == ["N-0", "N-3"]
    assert count_rows(conn, "shop.orders") == 4
    noted = conn.execute("SELECT count(*) FROM shop.orders WHERE note = 'async'").fetchone()
    assert noted == (2,)


def test_update_without_where_refuses_to_run(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    stmt = update(Order).set(Order.note, "everyone")

    with pytest.raises(UnsafeStatement, match="without WHERE") as info:
        stmt.fetch(conn)
    assert info.value.hint is not None and "all_rows()" in info.value.hint
    assert conn.execute("SELECT count(*) FROM shop.orders WHERE note IS NOT NULL").fetchone() == (
        0,
    )

    assert len(stmt.all_rows().fetch(conn)) == 4


def test_update_with_nothing_to_set_is_an_error(orders: list[Order]) -> None:
    with pytest.raises(QueryError, match="sets no column"):
        _ = update(Order).where(Order.number == "N-0").sql


# -- DELETE ----------------------------------------------------------------------------------


def test_delete_where_returns_the_deleted_rows(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    rows = delete(Order).where(Order.total < Decimal("25")).fetch(conn)

    assert sorted(r.number for r in rows) == ["N-0", "N-1"]
    left = conn.execute("SELECT number FROM shop.orders ORDER BY number").fetchall()
    assert left == [("N-2",), ("N-3",)]


def test_delete_an_instance_async(
    shop_url: str, conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Order]:
        return await delete(orders[0]).afetch(aconn)

    deleted = on_async(shop_url, work)

    assert deleted == [orders[0]]
    assert count_rows(conn, "shop.orders") == 3


def test_delete_without_where_refuses_unless_all_rows(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    with pytest.raises(UnsafeStatement):
        delete(Order).fetch(conn)
    assert count_rows(conn, "shop.orders") == 4

    assert len(delete(Order).all_rows().fetch(conn)) == 4
    assert count_rows(conn, "shop.orders") == 0


def test_delete_of_a_row_without_its_key_is_an_error() -> None:
    with pytest.raises(QueryError, match="primary key"):
        delete(_order(1, "X"))


# -- raw SQL -----------------------------------------------------------------------------------


def test_raw_sql_binds_values_as_parameters(
    conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    hostile = "N-0' OR '1'='1"
    stmt = raw_sql(
        "SELECT number FROM shop.orders WHERE number = %s OR number = %s", hostile, "N-2"
    )

    assert stmt.fetch(conn) == [("N-2",)]


def test_raw_sql_runs_on_async_connections(
    shop_url: str, conn: psycopg.Connection[Any], orders: list[Order]
) -> None:
    stmt = raw_sql("SELECT count(*), sum(total) FROM shop.orders WHERE total > %s", Decimal(15))

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[tuple[Any, ...]]:
        return await stmt.afetch(aconn)

    assert on_async(shop_url, work) == stmt.fetch(conn) == [(3, Decimal("90.00"))]
