"""Running statements: one object on sync and async connections, single rows, transactions."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from shop_schema import Customer, Order

import dibs
from dibs.query import (
    HookContext,
    NotFound,
    TooManyRows,
    ValidationError,
    insert,
    insert_many,
    select,
    transaction,
    update,
)
from tests.query.support import count_rows, on_async


def _customers(n: int) -> list[Customer]:
    return [Customer(email=f"c{i}@example.org", name=f"C{i}") for i in range(n)]


def test_one_statement_object_runs_on_sync_and_async_connections(
    shop_url: str, conn: psycopg.Connection[Any]
) -> None:
    insert_many(_customers(3)).fetch(conn)
    stmt = select(Customer).where(Customer.email != "c1@example.org").order_by(Customer.id)
    compiled = stmt.compile()

    sync_rows = stmt.fetch(conn)

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Customer]:
        return await stmt.afetch(aconn)

    assert on_async(shop_url, work) == sync_rows
    assert [c.email for c in sync_rows] == ["c0@example.org", "c2@example.org"]
    assert stmt.compile() is compiled  # rendered once per statement object


def test_fetch_one_and_fetch_optional(conn: psycopg.Connection[Any]) -> None:
    insert_many(_customers(2)).fetch(conn)
    by_email = select(Customer).where(Customer.email == "c0@example.org")

    assert by_email.fetch_one(conn).name == "C0"
    assert select(Customer).where(Customer.id < 0).fetch_optional(conn) is None
    with pytest.raises(NotFound):
        select(Customer).where(Customer.id < 0).fetch_one(conn)
    with pytest.raises(TooManyRows, match="2 rows"):
        select(Customer).fetch_one(conn)


def test_fetch_one_async(shop_url: str, conn: psycopg.Connection[Any]) -> None:
    insert_many(_customers(2)).fetch(conn)

    async def work(aconn: psycopg.AsyncConnection[Any]) -> tuple[Any, Any]:
        one = (
            await select(Customer.name).where(Customer.email == "c1@example.org").afetch_one(aconn)
        )
        none = await select(Customer).where(Customer.id < 0).afetch_optional(aconn)
        return one, none

    assert on_async(shop_url, work) == (("C1",), None)


def test_statement_with_hooks_inside_a_caller_transaction_uses_a_savepoint(
    shop_url: str,
) -> None:
    @dibs.hooks.before_create(Customer)
    def no_spam(customer: Customer, ctx: HookContext) -> None:
        if customer.email.startswith("spam"):
            raise ValidationError(fields={"email": "looks like spam"})

    with psycopg.connect(shop_url) as conn:
        with conn.transaction():
            insert(Customer(email="ok@example.org", name="Ok")).fetch(conn)
            with pytest.raises(ValidationError):
                insert_many(
                    [
                        Customer(email="fine@example.org", name="F"),
                        Customer(email="spam@x", name="S"),
                    ]
                ).fetch(conn)
            insert(Customer(email="ok2@example.org", name="Ok2")).fetch(conn)
        emails = [r[0] for r in conn.execute("SELECT email FROM shop.customers ORDER BY id")]
        assert emails == ["ok@example.org", "ok2@example.org"]


def test_non_autocommit_connection_keeps_its_implicit_transaction_with_or_without_hooks(
    shop_url: str, conn: psycopg.Connection[Any]
) -> None:
    with psycopg.connect(shop_url) as tx:
        insert(Customer(email="a@example.org", name="A")).fetch(tx)  # no hooks: one statement
        dibs.hooks.after_create(Customer)(lambda row, ctx: None)
        insert(Customer(email="b@example.org", name="B")).fetch(tx)  # hooks: a plan
        assert tx.info.transaction_status.name == "INTRANS"
        assert count_rows(conn, "shop.customers") == 0  # nothing committed yet
        tx.rollback()
    assert count_rows(conn, "shop.customers") == 0


def test_failed_statement_with_hooks_on_an_idle_non_autocommit_connection_rolls_back(
    shop_url: str,
) -> None:
    @dibs.hooks.after_create(Customer)
    def boom(customer: Customer, ctx: HookContext) -> None:
        raise RuntimeError("after hook failed")

    with psycopg.connect(shop_url) as tx:
        with pytest.raises(RuntimeError):
            insert(Customer(email="a@example.org", name="A")).fetch(tx)
        assert tx.info.transaction_status.name == "IDLE"
        assert count_rows(tx, "shop.customers") == 0


def test_dibs_transaction_nests_and_commits_once(conn: psycopg.Connection[Any]) -> None:
    committed: list[str] = []
    dibs.hooks.after_commit_update(Order)(lambda row, ctx: committed.append(row.number))
    customer = insert(Customer(email="a@example.org", name="A")).fetch_one(conn)
    insert(Order(number="A-1", customer_id=customer.id)).fetch(conn)

    with transaction(conn):
        update(Order).set(Order.note, "one").where(Order.number == "A-1").fetch(conn)
        with transaction(conn):
            update(Order).set(Order.note, "two").where(Order.number == "A-1").fetch(conn)
        assert committed == []

    assert committed == ["A-1", "A-1"]
    assert conn.execute("SELECT note FROM shop.orders").fetchall() == [("two",)]
