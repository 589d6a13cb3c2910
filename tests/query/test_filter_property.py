"""Property: a random filter built with the builder returns what the same SQL, hand-written, does.

Hypothesis draws rows for ``shop.products`` and a random tree of conditions
(comparisons, IN / NOT IN, BETWEEN, LIKE / ILIKE, IS [NOT] NULL under AND / OR /
NOT) over its columns. Each tree is turned into a builder expression *and*,
independently, into an SQL string with ``%s`` parameters; both queries run on
the same rows and must return the same ids. Many trees share a shape, so this
also checks that SQL reused from the shape cache is bound to the right values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shop_schema import Product

from dibs.query import and_, not_, or_, select
from dibs.query.compiler import SHAPES
from dibs.query.expr import Expr


@dataclass(frozen=True)
class Filter:
    """One condition, both ways: the builder expression and hand-written SQL."""

    expr: Expr[bool]
    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    attr: str
    values: st.SearchStrategy[Any]
    nullable: bool
    text: bool


_WORDS = st.text(alphabet="abAB _%", min_size=0, max_size=4)
_PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99.99"), places=2)
COLUMNS = [
    Column("id", st.integers(min_value=-2, max_value=25), False, False),
    Column("name", _WORDS, False, True),
    Column("description", _WORDS, True, True),
    Column("price", _PRICES, False, False),
    Column("category_id", st.sampled_from([1, 2, 3]), True, False),
    Column("active", st.booleans(), False, False),
]
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda c, v: c == v,
    "<>": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
}


def _col(column: Column) -> Any:
    return getattr(Product, column.attr)


@st.composite
def leaves(draw: st.DrawFn) -> Filter:
    column = draw(st.sampled_from(COLUMNS))
    col, name = _col(column), f'"{column.attr}"'
    kinds = ["cmp", "in", "not in", "between"]
    kinds += ["like", "ilike"] if column.text else []
    kinds += ["is null", "is not null"] if column.nullable else []
    kind = draw(st.sampled_from(kinds))
    if kind == "cmp":
        op = draw(st.sampled_from(sorted(_OPS)))
        value = draw(column.values)
        return Filter(_OPS[op](col, value), f"{name} {op} %s", (value,))
    if kind in ("in", "not in"):
        values = draw(st.lists(column.values, min_size=1, max_size=4))
        marks = ", ".join(["%s"] * len(values))
        expr = col.in_(values) if kind == "in" else col.not_in(values)
        return Filter(expr, f"{name} {kind.upper()} ({marks})", tuple(values))
    if kind == "between":
        low, high = draw(column.values), draw(column.values)
        return Filter(col.between(low, high), f"{name} BETWEEN %s AND %s", (low, high))
    if kind in ("like", "ilike"):
        pattern = draw(_WORDS)
        expr = col.like(pattern) if kind == "like" else col.ilike(pattern)
        return Filter(expr, f"{name} {kind.upper()} %s", (pattern,))
    expr = col.is_null() if kind == "is null" else col.is_not_null()
    return Filter(expr, f"{name} {kind.upper()}", ())


def _combine(children: st.SearchStrategy[Filter]) -> st.SearchStrategy[Filter]:
    def both(op: str, items: list[Filter]) -> Filter:
        build = and_ if op == "AND" else or_
        sql = "(" + f" {op} ".join(f"({f.sql})" for f in items) + ")"
        return Filter(build(*(f.expr for f in items)), sql, sum((f.params for f in items), ()))

    def negate(item: Filter) -> Filter:
        return Filter(not_(item.expr), f"NOT ({item.sql})", item.params)

    def operator(item: Filter) -> Filter:
        return Filter(~item.expr, f"NOT ({item.sql})", item.params)

    def pair(op: str, a: Filter, b: Filter) -> Filter:
        expr = a.expr & b.expr if op == "AND" else a.expr | b.expr
        return Filter(expr, f"(({a.sql}) {op} ({b.sql}))", a.params + b.params)

    ops = st.sampled_from(["AND", "OR"])
    return st.one_of(
        st.builds(both, ops, st.lists(children, min_size=1, max_size=3)),
        st.builds(negate, children),
        st.builds(operator, children),
        st.builds(pair, ops, children, children),
    )


filters = st.recursive(leaves(), _combine, max_leaves=8)

product_rows = st.lists(
    st.tuples(
        _WORDS,
        st.one_of(st.none(), _WORDS),
        _PRICES,
        st.one_of(st.none(), st.sampled_from([1, 2, 3])),
        st.booleans(),
    ),
    max_size=12,
)


@pytest.fixture(autouse=True)
def _verify_shapes() -> Iterator[None]:
    """Re-render every statement whose SQL comes from the shape cache, and compare."""
    SHAPES.verify = True
    yield
    SHAPES.verify = False


@pytest.fixture
def products(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    for cat in (1, 2, 3):
        conn.execute(
            "INSERT INTO shop.categories (id, name, slug) OVERRIDING SYSTEM VALUE"
            " VALUES (%s, %s, %s)",
            (cat, f"c{cat}", f"c{cat}"),
        )
    return conn


def _load(conn: psycopg.Connection[Any], rows: list[tuple[Any, ...]]) -> None:
    conn.execute("DELETE FROM shop.products")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO shop.products (id, sku, name, description, price, category_id, active)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(i, f"S{i}", *row) for i, row in enumerate(rows, start=1)],
        )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=product_rows, condition=filters)
def test_builder_filters_match_hand_written_sql(
    products: psycopg.Connection[Any], rows: list[tuple[Any, ...]], condition: Filter
) -> None:
    conn = products
    _load(conn, rows)
    expected = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM shop.products WHERE {condition.sql} ORDER BY id",  # type: ignore[arg-type]
            condition.params,
        ).fetchall()
    ]
    got = select(Product.id).where(condition.expr).order_by(Product.id).fetch(conn)
    assert [r[0] for r in got] == expected, (condition.sql, condition.params)
    whole = select(Product).where(condition.expr).order_by(Product.id).fetch(conn)
    assert [p.id for p in whole] == expected


@pytest.mark.slow
@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=product_rows, condition=filters)
def test_builder_filters_match_hand_written_sql_slow(
    products: psycopg.Connection[Any], rows: list[tuple[Any, ...]], condition: Filter
) -> None:
    test_builder_filters_match_hand_written_sql.hypothesis.inner_test(  # type: ignore[attr-defined]
        products, rows, condition
    )
