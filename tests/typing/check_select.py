"""Static checks (mypy and pyright): what typed selects return.

Never run: ``assert_type`` is checked by the type checkers only (CI runs both on
tests/typing/). Named ``check_*`` so pytest does not collect it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, assert_type
from uuid import UUID

import psycopg

from dibs.query import (
    Col,
    Expr,
    Select,
    and_,
    array_agg,
    avg,
    coalesce,
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
    with_children,
)
from dibs.query.expr import OrderBy
from dibs.query.nested import related
from tests.typing.typed_shop import (
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Product,
)


def columns_at_class_level() -> None:
    assert_type(Customer.email, Col[str])
    assert_type(Customer.id, Col[int])
    assert_type(Customer.default_address_id, Col[int | None])
    assert_type(Order.id, Col[UUID])
    assert_type(Order.status, Col[OrderStatus])
    assert_type(Product.attributes, Col[dict[str, Any]])
    assert_type(Customer.tags, Col[list[str]])


def values_on_instances(customer: Customer, order: Order) -> None:
    assert_type(customer.email, str)
    assert_type(customer.id, int)
    assert_type(customer.default_address_id, int | None)
    assert_type(customer.tags, list[str])
    assert_type(order.status, OrderStatus)
    assert_type(order.total, Decimal)
    assert_type(order.placed_at, datetime)


def a_table_gives_its_rows(conn: psycopg.Connection[Any]) -> None:
    assert_type(select(Customer), Select[Customer])
    assert_type(select(Customer).fetch(conn), list[Customer])
    assert_type(select(Customer).where(Customer.id == 1).fetch_one(conn), Customer)
    assert_type(select(Customer).where(Customer.id == 1).fetch_optional(conn), Customer | None)
    builder = (
        select(Order)
        .where(Order.status.in_([OrderStatus.PAID, OrderStatus.SHIPPED]))
        .order_by(Order.placed_at.desc(nulls="last"), Order.id)
        .limit(10)
        .offset(20)
    )
    assert_type(builder, Select[Order])
    assert_type(builder.distinct(Order.customer_id), Select[Order])
    assert_type(builder.for_update(), Select[Order])


async def async_fetches(aconn: psycopg.AsyncConnection[Any]) -> None:
    assert_type(await select(Customer).afetch(aconn), list[Customer])
    assert_type(await select(Customer.email).afetch_one(aconn), tuple[str])
    assert_type(await select(Order).afetch_optional(aconn), Order | None)


def columns_give_typed_tuples(conn: psycopg.Connection[Any]) -> None:
    assert_type(select(Customer.email), Select[tuple[str]])
    assert_type(select(Customer.email, Customer.id).fetch(conn), list[tuple[str, int]])
    assert_type(
        select(Order.id, Order.number, Order.customer_id).fetch_one(conn),
        tuple[UUID, str, int],
    )
    assert_type(
        select(Order.id, Order.number, Order.customer_id, Order.shipping_address_id),
        Select[tuple[UUID, str, int, int | None]],
    )
    assert_type(
        select(Order.id, Order.number, Order.customer_id, Order.shipping_address_id, Order.status),
        Select[tuple[UUID, str, int, int | None, OrderStatus]],
    )
    assert_type(
        select(
            Order.id,
            Order.number,
            Order.customer_id,
            Order.shipping_address_id,
            Order.status,
            Order.total,
        ),
        Select[tuple[UUID, str, int, int | None, OrderStatus, Decimal]],
    )
    assert_type(
        select(
            Order.id,
            Order.number,
            Order.customer_id,
            Order.shipping_address_id,
            Order.status,
            Order.total,
            Order.placed_at,
        ),
        Select[tuple[UUID, str, int, int | None, OrderStatus, Decimal, datetime]],
    )
    assert_type(
        select(
            Order.id,
            Order.number,
            Order.customer_id,
            Order.shipping_address_id,
            Order.status,
            Order.total,
            Order.placed_at,
            Order.note,
        ),
        Select[tuple[UUID, str, int, int | None, OrderStatus, Decimal, datetime, str | None]],
    )
    assert_type(
        select(
            Customer.id,
            Customer.email,
            Customer.name,
            Customer.default_address_id,
            Customer.marketing_opt_in,
            Customer.tags,
            Customer.created_at,
            Customer.password_hash,
            Order.total,
        ).fetch(conn),
        list[tuple[int, str, str, int | None, bool, list[str], datetime, str | None, Decimal]],
    )
    assert_type(
        select(
            Customer.id,
            Customer.email,
            Customer.name,
            Customer.default_address_id,
            Customer.marketing_opt_in,
            Customer.tags,
            Customer.created_at,
            Customer.password_hash,
            Order.total,
            Order.status,
        ).fetch_one(conn),
        tuple[
            int, str, str, int | None, bool, list[str], datetime, str | None, Decimal, OrderStatus
        ],
    )
    # Past ten items the tuple is untyped.
    assert_type(
        select(
            Customer.id,
            Customer.email,
            Customer.name,
            Customer.default_address_id,
            Customer.marketing_opt_in,
            Customer.tags,
            Customer.created_at,
            Customer.password_hash,
            Order.total,
            Order.status,
            Order.id,
        ),
        Select[tuple[Any, ...]],
    )


def tables_and_columns_mixed(conn: psycopg.Connection[Any]) -> None:
    assert_type(select(Order, Customer.email).join(Customer).fetch(conn), list[tuple[Order, str]])
    assert_type(select(Order, Customer).join(Customer).fetch_one(conn), tuple[Order, Customer])
    assert_type(select(OrderLine.quantity, Product).join(Product), Select[tuple[int, Product]])


def joins(conn: psycopg.Connection[Any]) -> None:
    inferred = select(Order.number, Customer.email).join(Customer)
    assert_type(inferred, Select[tuple[str, str]])
    assert_type(inferred.fetch(conn), list[tuple[str, str]])
    named = select(Customer.email, Order.number).join(Order, fk="orders_customer_id_fkey")
    assert_type(named, Select[tuple[str, str]])
    on = select(Customer.name, Order.total).left_join(Order, Order.customer_id == Customer.id)
    assert_type(on.fetch(conn), list[tuple[str, Decimal]])
    assert_type(select(Order).join(Customer, left=True), Select[Order])


def aggregates(conn: psycopg.Connection[Any]) -> None:
    assert_type(count(), Expr[int])
    assert_type(select(count()).fetch_one(conn), tuple[int])
    assert_type(sum_(Order.total), Expr[Decimal | None])
    assert_type(avg(Order.total), Expr[Decimal | None])
    assert_type(min_(Order.placed_at), Expr[datetime | None])
    assert_type(max_(OrderLine.quantity), Expr[int | None])
    assert_type(array_agg(Order.number), Expr[list[str]])
    assert_type(json_agg(Order.number), Expr[list[Any]])
    assert_type(coalesce(sum_(Order.total), Decimal(0)), Expr[Decimal])
    assert_type(lower(Customer.email), Expr[str])
    per_customer = (
        select(Customer.email, count(Order.id), sum_(Order.total))
        .join(Order)
        .group_by(Customer.email)
        .having(count(Order.id) > 2, sum_(Order.total) > Decimal(100))
        .order_by(sum_(Order.total).desc())
    )
    assert_type(per_customer.fetch(conn), list[tuple[str, int, Decimal | None]])
    assert_type(count(Order.customer_id, distinct=True), Expr[int])


def conditions() -> None:
    assert_type(Customer.email == "a@example.com", Expr[bool])
    assert_type(Customer.email.eq("a@example.com"), Expr[bool])
    assert_type(Customer.email.ne("a@example.com"), Expr[bool])
    assert_type(Customer.id < 3, Expr[bool])
    assert_type(Order.total >= Decimal("9.99"), Expr[bool])
    assert_type(Order.placed_at.between(datetime(2024, 1, 1), datetime(2025, 1, 1)), Expr[bool])
    assert_type(Customer.email.ilike("%@example.com"), Expr[bool])
    assert_type(Order.note.like("%gift%"), Expr[bool])
    assert_type(Order.note.is_null(), Expr[bool])
    assert_type(Customer.id.in_([1, 2, 3]), Expr[bool])
    assert_type(Customer.id.not_in(select(Order.customer_id)), Expr[bool])
    assert_type(Product.attributes.json("size"), Expr[Any])
    assert_type(Product.attributes.json_text("colour"), Expr[str | None])
    assert_type(Product.attributes.contains({"colour": "red"}), Expr[bool])
    assert_type(Product.attributes.has_key("colour"), Expr[bool])
    assert_type(Customer.tags.any_eq("vip"), Expr[bool])
    assert_type(
        (Customer.id > 1) & (Customer.id < 9) | ~Customer.marketing_opt_in.eq(True), Expr[bool]
    )
    assert_type(and_(Customer.id > 1, or_(Customer.id < 0, not_(Customer.id == 5))), Expr[bool])
    assert_type(Order.total * Decimal(2), Expr[Decimal])
    assert_type(Order.placed_at.desc(nulls="first"), OrderBy)


def subqueries() -> None:
    big = select(Order.customer_id).where(Order.total > Decimal(100))
    assert_type(Customer.id.in_(big), Expr[bool])
    assert_type(exists(select(Order.id).where(Order.customer_id == Customer.id)), Expr[bool])
    assert_type(scalar(select(max_(Order.total))), Expr[Decimal | None])
    totals = select(Order.customer_id, sum_(Order.total).label("spent")).group_by(Order.customer_id)
    derived = totals.subquery("totals")
    assert_type(derived.c.spent, Expr[Any])
    assert_type(
        select(Customer.email, derived["spent"]).join(
            derived, derived.c.customer_id == Customer.id
        ),
        Select[tuple[str, Any]],
    )
    cte = totals.cte("totals")
    assert_type(
        select(Customer).join(cte, cte.c.customer_id == Customer.id).with_(cte), Select[Customer]
    )


def nested_children(conn: psycopg.Connection[Any]) -> None:
    orders = with_children(select(Order), OrderLine, related(Payment))
    assert_type(orders.fetch(conn), list[tuple[Order, list[OrderLine], list[Payment]]])
    lines = select(OrderLine).order_by(OrderLine.line_no.desc())
    assert_type(
        with_children(select(Order).where(Order.total > Decimal(0)), lines).fetch_one(conn),
        tuple[Order, list[OrderLine]],
    )
