"""A value added to an enum and used in the same migration rebuilds the type.

Postgres refuses to use a value added by ``ALTER TYPE … ADD VALUE`` before the
transaction that added it commits ("unsafe use of new value"), while values of
a type created in the same transaction are usable. A dibs migration is one
transaction, so a plan that adds a value and uses it (a default, a check, a
partition bound) recreates the type; a value nobody uses yet is added in place.
Every case runs on the server, in one transaction, with rows kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest

from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.ops import AddEnumValue, RecreateEnum
from dibs.render.alter import render_plan
from dibs.schema.model import Check as CheckConstraint
from dibs.schema.model import EnumType
from tests.autogenerate.helpers import changes, col, expr, migrate_for_real, schema, table

STATUS = EnumType("status", ("new", "paid"))
GROWN = replace(STATUS, values=("new", "shipped", "paid"))


def _rows(conn: Any) -> list[tuple[str, str]]:
    return [(r[0], str(r[1])) for r in conn.execute("SELECT id, s FROM orders ORDER BY id")]


def _seed(conn: Any) -> None:
    conn.execute("INSERT INTO orders (id, s) VALUES ('a', 'new'), ('b', 'paid')")


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(
            table("orders", col("id"), col("s", "status", default=expr("'shipped'::status"))),
            id="default",
        ),
        pytest.param(
            table(
                "orders",
                col("id"),
                col("s", "status"),
                checks=(CheckConstraint("orders_s_check", expr("s <> 'shipped'::status")),),
            ),
            id="check",
        ),
    ],
)
def test_added_value_used_in_the_same_plan_recreates_the_type(dibs_conn: Any, after: Any) -> None:
    before = schema(table("orders", col("id"), col("s", "status")), enums=[STATUS])
    target = schema(after, enums=[GROWN])
    ops = changes(before, target)
    recreated = [op for op in ops if isinstance(op, RecreateEnum)]
    assert len(recreated) == 1 and not any(isinstance(op, AddEnumValue) for op in ops)
    assert "add 'shipped' used in the same migration" in recreated[0].describe()
    # The in-place form fails on the server: the reason for the rebuild.
    with dibs_conn.transaction():
        for stmt in render_plan(changes(schema(), before)):
            dibs_conn.execute(stmt.encode())
    _seed(dibs_conn)
    with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage), dibs_conn.transaction():
        dibs_conn.execute("ALTER TYPE status ADD VALUE 'shipped' AFTER 'new'")
        dibs_conn.execute("ALTER TABLE orders ALTER COLUMN s SET DEFAULT 'shipped'::status")
    # dibs's plan runs in one transaction, reaches the target and keeps the rows.
    with dibs_conn.transaction():
        for stmt in render_plan(ops):
            dibs_conn.execute(stmt.encode())
    from dibs.postgres.introspect import introspect

    assert introspect(dibs_conn).managed() == target.managed()
    assert _rows(dibs_conn) == [("a", "new"), ("b", "paid")]


def test_unused_added_value_is_added_in_place(dibs_conn: Any) -> None:
    # A check the table already had mentions the literal on a text column: it was
    # written before the value existed, so it does not force a rebuild.
    note = CheckConstraint("orders_note_check", expr("note <> 'shipped'"))
    t = table("orders", col("id"), col("s", "status"), col("note"), checks=(note,))
    before, after = schema(t, enums=[STATUS]), schema(t, enums=[GROWN])
    ops = changes(before, after)
    assert [type(op) for op in ops] == [AddEnumValue]
    migrate_for_real(dibs_conn, before, after)


def test_partition_key_column_of_a_rebuilt_enum_is_refused(dibs_conn: Any) -> None:
    """A new value used as a partition bound: neither form runs in one transaction.

    ``ADD VALUE`` then ``FOR VALUES IN ('shipped')`` is an unsafe use, and the
    rebuild cannot convert a partition key column; dibs refuses with what to do.
    """
    parent = table("orders", col("id"), col("s", "status"), partition_by="LIST (s)")
    first = table(
        "orders_new",
        col("id"),
        col("s", "status"),
        partition_of="orders",
        partition_bound="FOR VALUES IN ('new')",
    )
    shipped = replace(first, name="orders_shipped", partition_bound="FOR VALUES IN ('shipped')")
    before = schema(parent, first, enums=[STATUS])
    after = schema(parent, first, shipped, enums=[GROWN])
    with pytest.raises(UnsupportedChange, match=r"orders\.s is part of the table's partition key"):
        changes(before, after)
    # Both forms fail on the server, as the refusal says.
    with dibs_conn.transaction():
        for stmt in render_plan(changes(schema(), before)):
            dibs_conn.execute(stmt.encode())
    with pytest.raises(psycopg.errors.UnsafeNewEnumValueUsage), dibs_conn.transaction():
        dibs_conn.execute("ALTER TYPE status ADD VALUE 'shipped'")
        dibs_conn.execute(
            "CREATE TABLE orders_shipped PARTITION OF orders FOR VALUES IN ('shipped')"
        )
    with pytest.raises(psycopg.errors.InvalidTableDefinition), dibs_conn.transaction():
        dibs_conn.execute("ALTER TABLE orders ALTER COLUMN s TYPE text")
    # Added in one migration, used in the next: both in place.
    middle = schema(parent, first, enums=[GROWN])
    assert [type(op) for op in changes(before, middle)] == [AddEnumValue]
    assert not any(isinstance(op, RecreateEnum) for op in changes(middle, after))


def test_partition_key_column_type_change_is_refused() -> None:
    parent = table("events", col("id"), col("day", "date"), partition_by="RANGE (day)")
    retyped = replace(parent, columns=(col("id"), col("day", "timestamptz")))
    with pytest.raises(UnsupportedChange, match=r"events\.day .* changes its type"):
        changes(schema(parent), schema(retyped))
    # A column outside the key changes as usual.
    other = replace(parent, columns=(col("id", "varchar(20)"), col("day", "date")))
    assert changes(schema(parent), schema(other))
