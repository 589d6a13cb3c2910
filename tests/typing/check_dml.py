"""Static checks (mypy and pyright): rows are built with checked constructors; writes return rows.

Never run; see check_select.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, assert_type
from uuid import UUID

import psycopg

import dibs
from dibs.query import (
    Delete,
    HookContext,
    Insert,
    Update,
    ValidationError,
    delete,
    insert,
    insert_many,
    update,
)
from dibs.query.dynamic import Catalog
from dibs.query.hooks import Origin
from tests.typing.typed_shop import Customer, Order, OrderStatus


def constructors() -> None:
    # Columns the database fills (identity, DEFAULT) and columns with a Python
    # default may be left out; every other column is a required keyword.
    assert_type(Customer(email="a@example.com", name="Ann"), Customer)
    assert_type(
        Customer(email="a@example.com", name="Ann", marketing_opt_in=True, tags=["vip"], id=7),
        Customer,
    )
    assert_type(Order(number="A-1", customer_id=1, status=OrderStatus.PAID), Order)


def inserts(conn: psycopg.Connection[Any]) -> None:
    ann = Customer(email="a@example.com", name="Ann")
    assert_type(insert(ann), Insert[Customer])
    assert_type(insert(ann).fetch_one(conn), Customer)
    assert_type(insert(ann).fetch(conn), list[Customer])
    assert_type(insert(Customer).values(email="b@example.com", name="Bob"), Insert[Customer])
    rows = [Customer(email=f"{i}@example.com", name=str(i)) for i in range(3)]
    assert_type(insert_many(rows).fetch(conn), list[Customer])
    upsert = insert(ann).on_conflict_do_update(Customer.email, set=[Customer.name])
    assert_type(upsert.fetch_optional(conn), Customer | None)
    assert_type(insert(ann).on_conflict_do_nothing(Customer.email), Insert[Customer])
    assert_type(insert(ann).without_hooks(), Insert[Customer])
    stored = insert(Order(number="A-1", customer_id=1)).fetch_one(conn)
    assert_type(stored.id, UUID)


async def async_inserts(aconn: psycopg.AsyncConnection[Any]) -> None:
    ann = Customer(email="a@example.com", name="Ann")
    assert_type(await insert(ann).afetch_one(aconn), Customer)


def updates_and_deletes(conn: psycopg.Connection[Any], order: Order) -> None:
    paid = update(Order).set(Order.status, OrderStatus.PAID).where(Order.id == order.id)
    assert_type(paid, Update[Order])
    assert_type(paid.fetch(conn), list[Order])
    assert_type(update(Order).set(Order.total, Order.total * Decimal(2)).all_rows(), Update[Order])
    assert_type(update(Order).values(note="gift").where(Order.id == order.id), Update[Order])
    assert_type(update(order).fetch_one(conn), Order)
    gone = delete(Order).where(Order.status == OrderStatus.CANCELLED)
    assert_type(gone, Delete[Order])
    assert_type(gone.without_hooks().fetch(conn), list[Order])
    assert_type(delete(order).fetch_optional(conn), Order | None)


def hooks() -> None:
    @dibs.hooks.before_create(Order)
    def validate(order: Order, ctx: HookContext) -> Order:
        if order.total < 0:
            raise ValidationError("negative total", fields={"total": ["must be >= 0"]})
        return order

    @dibs.hooks.after_commit_create(Order)
    def send_email(order: Order, ctx: HookContext) -> None:
        assert_type(ctx.origin, Origin)
        assert_type(order, Order)


def dynamic(conn: psycopg.Connection[Any], catalog: Catalog) -> None:
    rows = catalog.select("shop.orders", ["number", "total"], [("status", "=", "paid")])
    assert_type(rows.fetch(conn), list[dict[str, Any]])
    assert_type(
        catalog.insert("shop.customers", {"email": "x", "name": "X"}).fetch_one(conn),
        dict[str, Any],
    )
    assert_type(
        catalog.update("shop.orders", {"note": "n"}).where(("id", "=", 1)).fetch(conn),
        list[dict[str, Any]],
    )
