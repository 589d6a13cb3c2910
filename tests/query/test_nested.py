"""``with_children``: parent rows with their child rows as typed lists, in one round trip."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest
from shop_schema import (
    Address,
    Category,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    Stock,
    StockMove,
    Warehouse,
)

from dibs.query import JoinError, QueryError, related, select, with_children
from tests.query.shop_data import Fetch, seed, sql_rows
from tests.query.support import CountingCursor


def _lines_by_sql(
    conn: psycopg.Connection[Any], order_by: str = "line_no"
) -> dict[UUID, list[Any]]:
    out: dict[UUID, list[Any]] = {}
    for row in sql_rows(
        conn,
        "SELECT order_id, line_no, product_id, quantity, unit_price, line_total"
        f" FROM shop.order_lines ORDER BY order_id, {order_by}",
    ):
        out.setdefault(row[0], []).append(row)
    return out


def _line_tuple(line: OrderLine) -> tuple[Any, ...]:
    return (
        line.order_id,
        line.line_no,
        line.product_id,
        line.quantity,
        line.unit_price,
        line.line_total,
    )


def test_orders_with_their_lines_typed_and_in_order(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    rows = fetch(with_children(select(Order).order_by(Order.number), OrderLine))

    expected = _lines_by_sql(conn)
    assert [o.number for o, _ in rows] == [
        r[0] for r in sql_rows(conn, "SELECT number FROM shop.orders ORDER BY number")
    ]
    for order, lines in rows:
        assert type(order) is Order
        assert all(type(line) is OrderLine for line in lines)
        assert [_line_tuple(line) for line in lines] == expected.get(order.id, [])
    first_line = rows[0][1][0]
    assert type(first_line.order_id) is UUID
    assert type(first_line.unit_price) is Decimal and first_line.unit_price == Decimal("12.50")
    assert first_line.line_total == Decimal("25.00")  # the generated column, as numeric


def test_children_in_the_requested_order_filtered_and_limited(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    newest_first = select(OrderLine).order_by(OrderLine.line_no.desc())
    rows = fetch(with_children(select(Order).order_by(Order.number), newest_first))
    expected = _lines_by_sql(conn, "line_no DESC")
    for order, lines in rows:
        assert [_line_tuple(line) for line in lines] == expected.get(order.id, [])
    assert [line.line_no for line in rows[0][1]] == [2, 1]

    # a filter and a limit apply per parent
    top = select(OrderLine).where(OrderLine.quantity >= 1).order_by(OrderLine.line_no.desc())
    limited = fetch(with_children(select(Order).order_by(Order.number), top.limit(1)))
    assert [[line.line_no for line in lines] for _, lines in limited] == [
        [lines[0][1]] if lines else [] for lines in (expected.get(o.id, []) for o, _ in rows)
    ]
    big = fetch(
        with_children(
            select(Order).where(Order.number == "N-005"),
            select(OrderLine).where(OrderLine.unit_price > Decimal("10")),
        )
    )
    assert [[line.line_no for line in lines] for _, lines in big] == [[1]]


def test_several_children_with_enums_and_timestamps(
    fetch: Fetch, conn: psycopg.Connection[Any]
) -> None:
    rows = fetch(
        with_children(
            select(Order).where(Order.status == OrderStatus.PAID).order_by(Order.number),
            OrderLine,
            select(Payment).order_by(Payment.paid_at.desc()),
        )
    )
    assert [o.number for o, _, _ in rows] == ["N-001", "N-005"]
    _, lines, payments = rows[1]
    assert [line.line_no for line in lines] == [1, 2]
    expected = sql_rows(
        conn,
        "SELECT id, order_id, amount, method, paid_at FROM shop.payments"
        " WHERE order_id = %s ORDER BY paid_at DESC",
        rows[1][0].id,
    )
    assert [(p.id, p.order_id, p.amount, p.method.value, p.paid_at) for p in payments] == expected
    assert [p.method for p in payments] == [PaymentMethod.VOUCHER, PaymentMethod.CARD]
    assert all(type(p.paid_at) is datetime and p.paid_at.tzinfo is not None for p in payments)
    assert rows[0][2][0].amount == Decimal("33.00")


def test_parents_without_children_get_empty_lists(fetch: Fetch) -> None:
    rows = fetch(with_children(select(Customer).order_by(Customer.id), Order, Address))
    by_name = {c.name: (orders, addresses) for c, orders, addresses in rows}
    assert by_name["Dee"] == ([], [])
    assert [o.number for o in by_name["Ann"][0]] == ["N-001", "N-002"]
    assert [a.city for a in by_name["Ann"][1]] == ["Paris", "Lyon"]
    assert [a.line2 for a in by_name["Ann"][1]] == [None, "Apt 3"]
    customers_tags = {c.name: c.tags for c, _, _ in rows}
    assert customers_tags["Ann"] == ["vip", "early"]
    # a text[] column and a jsonb column inside children
    products = fetch(
        with_children(
            select(Category).where(Category.id == 4),
            select(Product).order_by(Product.price),
        )
    )
    ((category, items),) = products
    assert category.name == "Novels"
    assert [(p.sku, p.attributes, p.active, p.description) for p in items] == [
        ("B-2", {"pages": 300, "tags": ["classic"]}, True, None),
        ("B-1", {"color": "red", "pages": 412}, True, "sci-fi"),
    ]


def test_a_table_nests_rows_of_itself(fetch: Fetch) -> None:
    rows = fetch(
        with_children(
            select(Category).order_by(Category.id),
            select(Category).order_by(Category.name.desc()),
        )
    )
    tree = {parent.name: [c.name for c in children] for parent, children in rows}
    assert tree == {"All": ["Music", "Books"], "Books": ["Novels"], "Music": [], "Novels": []}


def test_composite_foreign_key_links_children(fetch: Fetch, conn: psycopg.Connection[Any]) -> None:
    conn.execute("INSERT INTO shop.warehouses (id, code, name) VALUES (1, 'W1', 'Main')")
    conn.execute(
        "INSERT INTO shop.stock (warehouse_id, product_id, quantity) VALUES (1, 1, 5), (1, 2, 3)"
    )
    conn.execute(
        "INSERT INTO shop.stock_moves (warehouse_id, product_id, delta, reason)"
        " VALUES (1, 1, 5, 'in'), (1, 1, -1, 'sale'), (1, 2, 3, 'in')"
    )
    rows = fetch(
        with_children(
            select(Stock).order_by(Stock.product_id), select(StockMove).order_by(StockMove.id)
        )
    )
    assert [(s.product_id, [m.delta for m in moves]) for s, moves in rows] == [
        (1, [5, -1]),
        (2, [3]),
    ]


def test_the_foreign_key_is_inferred_or_named() -> None:
    with pytest.raises(JoinError) as none:
        with_children(select(Customer), Product)
    assert "shop.products" in str(none.value)

    # stock references both warehouses and products: two candidates when both are present
    parent = select(Warehouse).join(Stock).join(Product)
    with pytest.raises(JoinError) as several:
        with_children(parent, Stock)
    text = str(several.value) + str(several.value.hint)
    assert "stock_product_id_fkey" in text and "stock_warehouse_id_fkey" in text
    assert "fk=" in text
    chosen = with_children(parent, related(Stock, fk="stock_warehouse_id_fkey"))
    assert '"warehouses"."id"' in chosen.sql

    with pytest.raises(JoinError) as wrong:
        with_children(select(Order), related(OrderLine, fk="nope"))
    assert "order_lines_order_id_fkey" in str(wrong.value.hint)


def test_named_foreign_key_runs(fetch: Fetch) -> None:
    rows = fetch(
        with_children(
            select(Warehouse).join(Stock).join(Product).where(Product.id == 0),
            related(select(Stock), fk="stock_warehouse_id_fkey"),
        )
    )
    assert rows == []


def test_children_must_be_plain_table_queries() -> None:
    with pytest.raises(QueryError):
        with_children(select(Order), select(OrderLine.line_no))
    with pytest.raises(QueryError):
        with_children(select(Order), select(OrderLine).distinct())
    with pytest.raises(ValueError):
        with_children(select(Order))


def test_one_round_trip_and_values_as_parameters(shop_url: str) -> None:
    with psycopg.connect(shop_url, autocommit=True, cursor_factory=CountingCursor) as c:
        seed(c)
        CountingCursor.log.clear()
        hostile = "N-001' OR '1'='1"
        stmt = with_children(
            select(Order).where(Order.number.in_(["N-001", "N-005", hostile])),
            select(OrderLine).where(OrderLine.quantity > 1).limit(5),
        )
        rows = stmt.fetch(c)
        assert len(CountingCursor.log) == 1
    assert sorted(o.number for o, _ in rows) == ["N-001", "N-005"]
    compiled = stmt.compile()
    assert hostile not in compiled.sql
    # the child subquery sits in the select list: its values come first
    assert compiled.params == (1, 5, ["N-001", "N-005", hostile])
    # the same shape reuses the SQL text
    other = with_children(
        select(Order).where(Order.number.in_(["N-002"])),
        select(OrderLine).where(OrderLine.quantity > 7).limit(1),
    ).compile()
    assert other.sql is compiled.sql and other.params == (7, 1, ["N-002"])
