"""Hooks around every write: before (reject, modify), after (same transaction), after commit.

The roadmap's ``orders => before_create: validate; after_create: send e-mail``
is ``test_roadmap_example_validate_then_send_email``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from shop_schema import Customer, Order, OrderStatus

import dibs
from dibs.query import (
    HookContext,
    ValidationError,
    delete,
    insert,
    insert_many,
    select,
    transaction,
    update,
)
from dibs.query import commit as dibs_commit
from dibs.query import rollback as dibs_rollback
from dibs.query import settle as dibs_settle
from tests.query.support import count_rows, on_async


@pytest.fixture
def customer(conn: psycopg.Connection[Any]) -> Customer:
    return insert(Customer(email="ann@example.org", name="Ann")).fetch_one(conn)


def _order(customer: Customer, number: str, total: str = "10.00") -> Order:
    return Order(number=number, customer_id=customer.id, total=Decimal(total))


# -- the roadmap's example -------------------------------------------------------------


def test_roadmap_example_validate_then_send_email(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    outbox: list[str] = []

    @dibs.hooks.before_create(Order)
    def validate(order: Order, ctx: HookContext) -> None:
        if order.total <= 0:
            raise ValidationError(fields={"total": "must be positive"})

    @dibs.hooks.after_commit_create(Order)
    def send_email(order: Order, ctx: HookContext) -> None:
        outbox.append(f"order {order.number} ({order.id}) received")

    with pytest.raises(ValidationError) as info:
        insert(_order(customer, "BAD", total="0")).fetch(conn)
    assert info.value.fields == {"total": ["must be positive"]}
    assert "total: must be positive" in str(info.value)
    assert count_rows(conn, "shop.orders") == 0
    assert outbox == []

    order = insert(_order(customer, "A-1")).fetch_one(conn)

    assert outbox == [f"order A-1 ({order.id}) received"]
    assert count_rows(conn, "shop.orders") == 1


# -- before hooks -----------------------------------------------------------------------------


def test_before_hook_rejection_stops_the_whole_multi_row_insert(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    seen: list[str] = []

    @dibs.hooks.before_create(Order)
    def validate(order: Order, ctx: HookContext) -> None:
        seen.append(order.number)
        if order.number.startswith("X"):
            raise ValidationError("bad order", fields={"number": ["must not start with X"]})

    rows = [_order(customer, n) for n in ("A-1", "X-2", "A-3")]
    with pytest.raises(ValidationError):
        insert_many(rows).fetch(conn)

    assert seen == ["A-1", "X-2"]  # per row, stopping at the first rejection
    assert count_rows(conn, "shop.orders") == 0


def test_before_hook_modifies_the_row_in_place_or_by_returning_one(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    @dibs.hooks.before_create(Order)
    def normalise(order: Order, ctx: HookContext) -> None:
        order.number = order.number.upper()

    @dibs.hooks.before_create(Order)
    def stamp(order: Order, ctx: HookContext) -> Order:
        return Order(
            number=order.number,
            customer_id=order.customer_id,
            total=order.total,
            note=f"by {ctx.actor}",
        )

    stored = insert(_order(customer, "a-1")).fetch_one(conn, actor="alice")

    assert (stored.number, stored.note) == ("A-1", "by alice")
    row = conn.execute("SELECT number, note FROM shop.orders").fetchall()
    assert row == [("A-1", "by alice")]


def test_before_update_sees_the_new_row_and_the_old_one(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    insert_many([_order(customer, f"N-{i}", f"{i + 1}0.00") for i in range(3)]).fetch(conn)
    seen: list[tuple[str, OrderStatus, OrderStatus]] = []

    @dibs.hooks.before_update(Order)
    def audit(order: Order, ctx: HookContext) -> None:
        seen.append((order.number, ctx.old.status, order.status))
        order.note = f"was {ctx.old.status.value}"

    rows = update(Order).set(Order.status, OrderStatus.PAID).where(Order.total > 15).fetch(conn)

    assert sorted(seen) == [
        ("N-1", OrderStatus.PENDING, OrderStatus.PAID),
        ("N-2", OrderStatus.PENDING, OrderStatus.PAID),
    ]
    assert sorted((r.number, r.note) for r in rows) == [
        ("N-1", "was pending"),
        ("N-2", "was pending"),
    ]
    stored = conn.execute("SELECT number, status::text, note FROM shop.orders ORDER BY 1")
    assert stored.fetchall() == [
        ("N-0", "pending", None),
        ("N-1", "paid", "was pending"),
        ("N-2", "paid", "was pending"),
    ]


def test_before_update_rejection_changes_nothing(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    insert_many([_order(customer, f"N-{i}") for i in range(3)]).fetch(conn)

    @dibs.hooks.before_update(Order)
    def frozen(order: Order, ctx: HookContext) -> None:
        if order.number == "N-2":
            raise ValidationError(fields={"status": "N-2 is frozen"})

    with pytest.raises(ValidationError):
        update(Order).set(Order.status, OrderStatus.CANCELLED).all_rows().fetch(conn)

    statuses = conn.execute("SELECT DISTINCT status::text FROM shop.orders").fetchall()
    assert statuses == [("pending",)]


def test_before_delete_can_refuse(conn: psycopg.Connection[Any], customer: Customer) -> None:
    insert_many([_order(customer, "KEEP"), _order(customer, "GO")]).fetch(conn)

    @dibs.hooks.before_delete(Order)
    def keep(order: Order, ctx: HookContext) -> None:
        if order.number == "KEEP":
            raise ValidationError(fields={"number": "cannot delete KEEP"})

    with pytest.raises(ValidationError):
        delete(Order).all_rows().fetch(conn)
    assert count_rows(conn, "shop.orders") == 2

    assert [o.number for o in delete(Order).where(Order.number == "GO").fetch(conn)] == ["GO"]
    assert count_rows(conn, "shop.orders") == 1


# -- after hooks ---------------------------------------------------------------------------------


def test_after_hook_runs_in_the_transaction_and_sees_the_returned_row(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    seen: list[tuple[Any, int, str]] = []

    @dibs.hooks.after_create(Order)
    def check(order: Order, ctx: HookContext) -> None:
        visible = ctx.conn.execute(
            "SELECT count(*) FROM shop.orders WHERE id = %s", (order.id,)
        ).fetchone()[0]
        status = ctx.conn.info.transaction_status.name
        seen.append((order.id, visible, status))

    order = insert(_order(customer, "A-1")).fetch_one(conn)

    assert seen == [(order.id, 1, "INTRANS")]


def test_after_hook_failure_rolls_the_write_back(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    @dibs.hooks.after_create(Order)
    def log_then_fail(order: Order, ctx: HookContext) -> None:
        ctx.conn.execute(
            "INSERT INTO audit.events (action, actor) VALUES ('order created', %s)", (ctx.actor,)
        )
        raise RuntimeError("mail server down")

    with pytest.raises(RuntimeError, match="mail server down"):
        insert(_order(customer, "A-1")).fetch(conn, actor="bob")

    assert count_rows(conn, "shop.orders") == 0
    assert count_rows(conn, "audit.events") == 0


def test_after_hooks_roll_back_with_an_explicit_transaction(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    @dibs.hooks.after_create(Order)
    def log(order: Order, ctx: HookContext) -> None:
        ctx.conn.execute("INSERT INTO audit.events (action) VALUES (%s)", (order.number,))

    with pytest.raises(LookupError), transaction(conn):
        insert(_order(customer, "A-1")).fetch(conn)
        assert count_rows(conn, "audit.events") == 1  # the hook ran, in this transaction
        raise LookupError("abandon")

    assert count_rows(conn, "shop.orders") == 0
    assert count_rows(conn, "audit.events") == 0


def test_set_based_update_and_delete_feed_after_hooks_from_returning(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    insert_many([_order(customer, f"N-{i}", f"{i + 1}0.00") for i in range(4)]).fetch(conn)
    updated: list[tuple[str, Decimal, Decimal]] = []
    deleted: list[str] = []

    @dibs.hooks.after_update(Order)
    def on_update(order: Order, ctx: HookContext) -> None:
        updated.append((order.number, ctx.old.total, order.total))

    @dibs.hooks.after_delete(Order)
    def on_delete(order: Order, ctx: HookContext) -> None:
        assert ctx.event == "delete" and ctx.table == "shop.orders"
        deleted.append(order.number)

    update(Order).set(Order.total, Order.total + 1).where(Order.total >= 20).fetch(conn)
    delete(Order).where(Order.total < 20).fetch(conn)

    assert sorted(updated) == [
        ("N-1", Decimal("20.00"), Decimal("21.00")),
        ("N-2", Decimal("30.00"), Decimal("31.00")),
        ("N-3", Decimal("40.00"), Decimal("41.00")),
    ]
    assert deleted == ["N-0"]


def test_multi_row_insert_calls_every_hook_once_per_row(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    calls: list[tuple[str, str]] = []

    @dibs.hooks.before_create(Order)
    def before(order: Order, ctx: HookContext) -> None:
        calls.append(("before", order.number))

    @dibs.hooks.after_create(Order)
    def after(order: Order, ctx: HookContext) -> None:
        assert order.id is not None
        calls.append(("after", order.number))

    @dibs.hooks.after_commit_create(Order)
    def later(order: Order, ctx: HookContext) -> None:
        calls.append(("commit", order.number))

    insert_many([_order(customer, f"N-{i}") for i in range(3)]).fetch(conn)

    numbers = ["N-0", "N-1", "N-2"]
    assert calls == (
        [("before", n) for n in numbers]
        + [("after", n) for n in numbers]
        + [("commit", n) for n in numbers]
    )


def test_without_hooks_skips_every_hook(conn: psycopg.Connection[Any], customer: Customer) -> None:
    calls: list[str] = []

    for register in (
        dibs.hooks.before_create,
        dibs.hooks.after_create,
        dibs.hooks.after_commit_create,
        dibs.hooks.before_update,
        dibs.hooks.after_update,
        dibs.hooks.before_delete,
        dibs.hooks.after_delete,
    ):
        register(Order)(lambda row, ctx: calls.append(ctx.event))

    insert_many([_order(customer, f"N-{i}") for i in range(3)]).without_hooks().fetch(conn)
    update(Order).set(Order.note, "bulk").all_rows().without_hooks().fetch(conn)
    assert count_rows(conn, "shop.orders") == 3
    delete(Order).all_rows().without_hooks().fetch(conn)

    assert calls == []
    assert count_rows(conn, "shop.orders") == 0


def test_hook_context_carries_connection_actor_and_origin(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    contexts: list[HookContext] = []

    @dibs.hooks.before_create(Order)
    def remember(order: Order, ctx: HookContext) -> None:
        contexts.append(ctx)

    insert(_order(customer, "A-1")).fetch(conn)
    insert(_order(customer, "A-2")).fetch(conn, actor="admin:eve", origin="admin")

    assert [(c.conn is conn, c.actor, c.origin) for c in contexts] == [
        (True, None, "application"),
        (True, "admin:eve", "admin"),
    ]
    assert {(c.table, c.event) for c in contexts} == {("shop.orders", "create")}


def test_hooks_registered_by_table_name_run_too(
    conn: psycopg.Connection[Any], customer: Customer
) -> None:
    seen: list[str] = []
    dibs.hooks.after_create("shop.orders")(lambda order, ctx: seen.append(order.number))

    insert(_order(customer, "A-1")).fetch(conn)

    assert seen == ["A-1"]


# -- after-commit hooks --------------------------------------------------------------------------


@pytest.fixture
def mailed() -> list[str]:
    box: list[str] = []
    dibs.hooks.after_commit_create(Order)(lambda order, ctx: box.append(order.number))
    return box


def test_after_commit_waits_for_the_explicit_transaction(
    conn: psycopg.Connection[Any], customer: Customer, mailed: list[str]
) -> None:
    with transaction(conn):
        insert(_order(customer, "A-1")).fetch(conn)
        insert(_order(customer, "A-2")).fetch(conn)
        assert mailed == []

    assert mailed == ["A-1", "A-2"]


def test_after_commit_never_runs_after_a_rollback(
    conn: psycopg.Connection[Any], customer: Customer, mailed: list[str]
) -> None:
    with pytest.raises(ZeroDivisionError), transaction(conn):
        insert(_order(customer, "A-1")).fetch(conn)
        _ = 1 / 0

    insert(_order(customer, "A-2")).fetch(conn)  # a later commit must not flush A-1

    assert mailed == ["A-2"]


def test_after_commit_on_autocommit_runs_after_each_statement_unless_it_fails(
    conn: psycopg.Connection[Any], customer: Customer, mailed: list[str]
) -> None:
    insert(_order(customer, "A-1")).fetch(conn)
    assert mailed == ["A-1"]

    @dibs.hooks.after_create(Order)
    def fail_late(order: Order, ctx: HookContext) -> None:
        if order.number == "A-2":
            raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        insert(_order(customer, "A-2")).fetch(conn)
    assert mailed == ["A-1"]


def test_after_commit_with_plain_psycopg_commit_and_rollback(
    shop_url: str, customer: Customer, mailed: list[str]
) -> None:
    with psycopg.connect(shop_url) as conn:  # not autocommit: the caller ends transactions
        insert(_order(customer, "KEPT")).fetch(conn)
        assert conn.info.transaction_status.name == "INTRANS"  # left open, like psycopg
        conn.commit()
        assert mailed == []  # dibs did not see that commit yet
        dibs_settle(conn)  # Postgres knows which transaction committed
        assert mailed == ["KEPT"]

        insert(_order(customer, "LOST")).fetch(conn)
        conn.rollback()
        dibs_settle(conn)
        insert(_order(customer, "NEXT")).fetch(conn)  # would flush anything still queued

        assert mailed == ["KEPT"]
        conn.rollback()
        assert conn.info.transaction_status.name == "IDLE"


def test_after_commit_queued_before_a_plain_commit_runs_on_the_next_statement(
    shop_url: str, customer: Customer, mailed: list[str]
) -> None:
    with psycopg.connect(shop_url) as conn:
        insert(_order(customer, "A-1")).fetch(conn)
        conn.commit()
        insert(_order(customer, "A-2")).fetch(conn)  # settles A-1 first
        assert mailed == ["A-1"]
        conn.rollback()
        insert(_order(customer, "A-3")).fetch(conn)
        assert mailed == ["A-1"]  # A-2 rolled back: dropped
        dibs_commit(conn)
        assert mailed == ["A-1", "A-3"]


def test_after_commit_with_dibs_commit_and_rollback(
    shop_url: str, customer: Customer, mailed: list[str]
) -> None:
    with psycopg.connect(shop_url) as conn:
        insert(_order(customer, "A-1")).fetch(conn)
        dibs_rollback(conn)
        assert mailed == []
        insert(_order(customer, "A-2")).fetch(conn)
        dibs_commit(conn)
        assert mailed == ["A-2"]
        rows = select(Order.number).fetch(conn)
        assert rows == [("A-2",)]


# -- async ----------------------------------------------------------------------------------------


def test_hooks_on_async_connections_sync_and_async_functions(
    shop_url: str, conn: psycopg.Connection[Any], customer: Customer
) -> None:
    calls: list[str] = []

    @dibs.hooks.before_create(Order)
    async def validate(order: Order, ctx: HookContext) -> None:
        if order.total <= 0:
            raise ValidationError(fields={"total": "must be positive"})
        order.note = "checked"

    @dibs.hooks.after_create(Order)
    async def log(order: Order, ctx: HookContext) -> None:
        await ctx.conn.execute("INSERT INTO audit.events (action) VALUES (%s)", (order.number,))
        calls.append(f"after {order.number}")

    @dibs.hooks.after_commit_create(Order)
    def send_email(order: Order, ctx: HookContext) -> None:
        calls.append(f"mail {order.number}")

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Order]:
        with pytest.raises(ValidationError):
            await insert(_order(customer, "BAD", total="0")).afetch(aconn)
        return await insert_many([_order(customer, "A-1"), _order(customer, "A-2")]).afetch(aconn)

    rows = on_async(shop_url, work)

    assert [r.note for r in rows] == ["checked", "checked"]
    assert calls == ["after A-1", "after A-2", "mail A-1", "mail A-2"]
    assert count_rows(conn, "shop.orders") == 2
    assert count_rows(conn, "audit.events") == 2


def test_async_after_commit_only_after_commit(
    shop_url: str, conn: psycopg.Connection[Any], customer: Customer, mailed: list[str]
) -> None:
    from dibs.query import atransaction

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[str]:
        with pytest.raises(KeyError):
            async with atransaction(aconn):
                await insert(_order(customer, "LOST")).afetch(aconn)
                raise KeyError("abandon")
        async with atransaction(aconn):
            await insert(_order(customer, "KEPT")).afetch(aconn)
            assert mailed == []
        return list(mailed)

    assert on_async(shop_url, work) == ["KEPT"]
    assert [r[0] for r in conn.execute("SELECT number FROM shop.orders")] == ["KEPT"]


def test_async_set_based_update_calls_hooks_per_row(
    shop_url: str, conn: psycopg.Connection[Any], customer: Customer
) -> None:
    insert_many([_order(customer, f"N-{i}") for i in range(3)]).fetch(conn)
    seen: list[str] = []
    dibs.hooks.after_update(Order)(lambda order, ctx: seen.append(order.number))

    async def work(aconn: psycopg.AsyncConnection[Any]) -> list[Order]:
        return await update(Order).set(Order.note, "x").all_rows().afetch(aconn)

    assert len(on_async(shop_url, work)) == 3
    assert sorted(seen) == ["N-0", "N-1", "N-2"]
