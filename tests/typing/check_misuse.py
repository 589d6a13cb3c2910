"""Static checks (mypy and pyright): misuse that both checkers must reject.

Each line below is an error; its ``# type: ignore[code]`` (mypy) and
``# pyright: ignore[rule]`` comments expect it. Both checkers run with
unnecessary ignores as errors (mypy's ``warn_unused_ignores`` under strict,
pyright's ``reportUnnecessaryTypeIgnoreComment``, and pyright does not honour
``type: ignore``), so a misuse that stops being an error fails the check.
Never run; see check_select.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg

import dibs
from dibs.query import raw, select, update
from tests.typing.typed_shop import Customer, Order, OrderStatus


def ordering_with_a_value_of_the_wrong_type() -> None:
    select(Customer).where(Customer.name < 3)  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    select(Customer).where(Customer.id >= "7")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    select(Order).where(Order.total > 1.5)  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    select(Order).where(Order.placed_at <= "2024-01-01")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
    select(Order).where(Order.status > "paid")  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


def typed_equality_and_predicates() -> None:
    # ``==`` cannot be typed strictly (object.__eq__); .eq() / .ne() can.
    select(Customer).where(Customer.email == 3)  # accepted: see docs/queries.md
    select(Customer).where(Customer.email.eq(3))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    select(Customer).where(Customer.id.ne("1"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    select(Customer).where(Customer.id.in_(["1", "2"]))  # type: ignore[list-item]  # pyright: ignore[reportArgumentType]
    select(Customer).where(Customer.id.between(1, "9"))  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    select(Customer).where(Customer.id.like("1%"))  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    select(Customer).where((Customer.id > 1) & Customer.name)  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]


def unknown_columns() -> None:
    select(Customer.nope)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    select(Customer).where(Customer.emial == "a@example.com")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]
    select(Customer).order_by(Order.nope)  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue]


def wrong_row_payloads() -> None:
    Customer(email=1, name="Ann")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Customer(email="a@example.com", name="Ann", emial="typo")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Customer(email="a@example.com")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    Order(number="A-1", customer_id=1, status="paid")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    Order(number="A-1", customer_id=1, total=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def wrong_update_values(order: Order) -> None:
    update(Order).set(Order.total, "12.00")  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    update(Order).set(Order.status, OrderStatus)  # type: ignore[misc]  # pyright: ignore[reportArgumentType]
    order.total = 1.5  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]


def wrong_result_types(conn: psycopg.Connection[Any]) -> None:
    customer: Customer = select(Order).fetch_one(conn)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    email: int = select(Customer.email).fetch_one(conn)[0]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    total: Decimal = select(Order.total, Order.note).fetch_one(conn)[1]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    print(customer, email, total)


def raw_sql_must_be_literal(user_input: str) -> None:
    # LiteralString: pyright rejects SQL built from runtime strings; mypy does
    # not implement PEP 675, so only pyright's ignore is expected here.
    raw("lower(email) = %s", user_input)
    raw("lower(email) = '" + user_input + "'")  # pyright: ignore[reportArgumentType]


@dibs.table(schema="shop", name="misdeclared")
class Misdeclared:
    id: dibs.Col[int] = dibs.default_value("one")  # type: ignore[arg-type]  # pyright: ignore[reportAssignmentType]
    flag: dibs.Col[bool] = False  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
