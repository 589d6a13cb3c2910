"""Plans against a real Postgres: database at A + rendered plan → introspection equals B."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest

from dibs.autogenerate import CannedQuestioner, diff
from dibs.ops import Hazard
from dibs.planner import PlanError, plan, simulate
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.schema.model import (
    Check,
    EnumType,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Sequence,
    Unique,
)
from tests.autogenerate.helpers import col, expr, op_types, schema, table

Conn = psycopg.Connection[Any]


def _create(conn: Conn, target: Schema) -> None:
    """Create ``target`` from nothing (through ``render_schema`` when it exists)."""
    try:
        from dibs.render.ddl import render_schema  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        statements = render_plan(
            plan(diff(Schema(), target, questioner=CannedQuestioner()), Schema(), target)
        )
    else:
        statements = render_schema(target)
    for statement in statements:
        conn.execute(statement.encode())


def migrate(conn: Conn, a: Schema, b: Schema, answers: dict[str, bool] | None = None) -> list[str]:
    """Apply the plan a → b to a database at ``a``; return the statements run."""
    ops = plan(diff(a, b, questioner=CannedQuestioner(answers or {}, default=False)), a, b)
    statements = render_plan(ops)
    with conn.transaction():
        for statement in statements:
            conn.execute(statement.encode())
    return statements


STATUS = EnumType("status", ("new", "paid", "void"), schema="shop")
USERS = table(
    "users",
    col("id", "bigint", null=False, identity="always"),
    col("name", "varchar(20)", null=False),
    col("legacy_field", "text"),
    col("score", "integer", default=expr("0")),
    pk=["id"],
    checks=(Check("users_score_check", expr("score >= 0")),),
    uniques=(Unique("users_name_key", ("name",)),),
)
ORDERS = table(
    "orders",
    col("id", "integer", null=False, default=expr("nextval('shop.orders_id_seq'::regclass)")),
    col("user_id", "bigint", null=False),
    col("status", "shop.status", null=False, default=expr("'new'::shop.status")),
    col("placed", "timestamp"),
    schema="shop",
    pk=["id"],
    foreign_keys=(ForeignKey("orders_user_id_fkey", ("user_id",), "public", "users", ("id",)),),
    indexes=(Index("orders_user_id_idx", (IndexElement("user_id"),)),),
)
A = schema(
    USERS,
    ORDERS,
    schemas=["shop"],
    enums=[STATUS],
    sequences=[Sequence("orders_id_seq", "shop", "integer", owned_by=("shop", "orders", "id"))],
)

MEMBERS = replace(
    USERS,
    name="members",
    renamed_from=("users",),
    columns=(
        USERS.columns[0],
        col("display_name", "text", null=False, renamed_from=("name",), comment="shown"),
        col("bio", "text"),
        col("score", "bigint", default=expr("1")),
    ),
    primary_key=PrimaryKey("members_pkey", ("id",)),
    checks=(Check("users_score_check", expr("score >= 1")),),
    uniques=(Unique("members_display_name_key", ("display_name",)),),
    comment="people",
)
ORDERS_B = replace(
    ORDERS,
    columns=(
        *ORDERS.columns[:2],
        col("status", "shop.status", null=False, default=expr("'paid'::shop.status")),
        col("placed", "timestamptz"),
    ),
    primary_key=PrimaryKey("orders_pkey", ("id", "user_id")),
    foreign_keys=(replace(ORDERS.foreign_keys[0], ref_table="members", on_delete="CASCADE"),),
    indexes=(Index("orders_user_id_idx", (IndexElement("user_id", descending=True),)),),
)
B = replace(
    A,
    tables=(MEMBERS, ORDERS_B),
    enums=(replace(STATUS, values=("draft", "paid", "new")),),
).normalized()


def test_shop_migration_reaches_b_and_keeps_rows(dibs_conn: Conn) -> None:
    _create(dibs_conn, A)
    assert introspect(dibs_conn).managed() == A
    dibs_conn.execute(
        "INSERT INTO users (name, legacy_field, score) VALUES ('ann', 'x', 3), ('bob', 'y', 5)"
    )
    dibs_conn.execute(
        "INSERT INTO shop.orders (user_id, status, placed)"
        " SELECT id, 'paid', '2024-01-02 03:04' FROM users"
    )
    statements = migrate(dibs_conn, A, B)
    assert introspect(dibs_conn).managed() == B
    rows = dibs_conn.execute("SELECT display_name, score FROM members ORDER BY id").fetchall()
    assert rows == [("ann", 3), ("bob", 5)]
    statuses = dibs_conn.execute("SELECT status::text FROM shop.orders").fetchall()
    assert statuses == [("paid",), ("paid",)]
    assert any("NOT VALID" in s for s in statements)  # FK re-added without blocking writes


def test_plan_is_idempotent_after_migration(dibs_conn: Conn) -> None:
    _create(dibs_conn, A)
    migrate(dibs_conn, A, B)
    current = introspect(dibs_conn)
    assert diff(current.managed(), B, questioner=CannedQuestioner()) == []


def test_enum_value_added_and_used_later(dibs_conn: Conn) -> None:
    a = schema(table("t", col("s", "mood")), enums=[EnumType("mood", ("sad", "happy"))])
    b = replace(a, enums=(EnumType("mood", ("sad", "ok", "happy", "great")),))
    _create(dibs_conn, a)
    dibs_conn.execute("INSERT INTO t VALUES ('happy')")
    migrate(dibs_conn, a, b)
    assert introspect(dibs_conn).managed() == b
    assert dibs_conn.execute("SELECT s::text FROM t").fetchall() == [("happy",)]


def test_column_rename_by_answer_keeps_data_and_widening_is_safe(dibs_conn: Conn) -> None:
    a = schema(table("p", col("id", "integer", null=False), col("title", "varchar(20)"), pk=["id"]))
    b = schema(table("p", col("id", "bigint", null=False), col("titles", "varchar(50)"), pk=["id"]))
    _create(dibs_conn, a)
    dibs_conn.execute("INSERT INTO p VALUES (1, 'hello')")
    ops = plan(diff(a, b, questioner=CannedQuestioner({"p.title=titles": True})), a, b)
    assert op_types(ops) == ["RenameColumn", "AlterColumnType", "AlterColumnType"]
    assert all(Hazard.DATA_LOSS not in op.hazards for op in ops)
    migrate(dibs_conn, a, b, {"p.title=titles": True})
    assert introspect(dibs_conn).managed() == b
    assert dibs_conn.execute("SELECT id, titles FROM p").fetchall() == [(1, "hello")]


def test_narrowing_with_using_cast(dibs_conn: Conn) -> None:
    a = schema(table("n", col("v", "text")))
    b = schema(table("n", col("v", "integer")))
    _create(dibs_conn, a)
    dibs_conn.execute("INSERT INTO n VALUES ('42')")
    (op,) = plan(diff(a, b, questioner=CannedQuestioner()), a, b)
    assert Hazard.DATA_LOSS in op.hazards
    migrate(dibs_conn, a, b)
    assert dibs_conn.execute("SELECT v FROM n").fetchall() == [(42,)]


def test_mutually_referencing_tables_dropped_on_postgres(dibs_conn: Conn) -> None:
    a = schema(
        table(
            "a",
            col("id", "integer", null=False),
            col("b_id", "integer"),
            pk=["id"],
            foreign_keys=(ForeignKey("a_b_id_fkey", ("b_id",), "public", "b", ("id",)),),
        ),
        table(
            "b",
            col("id", "integer", null=False),
            col("a_id", "integer"),
            pk=["id"],
            foreign_keys=(ForeignKey("b_a_id_fkey", ("a_id",), "public", "a", ("id",)),),
        ),
    )
    _create(dibs_conn, a)
    assert introspect(dibs_conn).managed() == a
    migrate(dibs_conn, a, Schema())
    assert introspect(dibs_conn).managed() == Schema()


def test_quoted_identifiers_and_comment_literals(dibs_conn: Conn) -> None:
    a = schema(
        table("Odd Table", col("select", "text", comment='it\'s "quoted"'), col("Mixed", "integer"))
    )
    _create(dibs_conn, a)
    assert introspect(dibs_conn).managed() == a
    b = schema(table("Odd Table", col("select", "text", comment="o'k"), col("Mixed", "bigint")))
    migrate(dibs_conn, a, b)
    assert introspect(dibs_conn).managed() == b


def test_simulation_mismatch_is_an_internal_error() -> None:
    a = schema(table("t", col("a")))
    b = schema(table("t", col("a"), col("b")))
    with pytest.raises(PlanError, match="do not turn the source schema into the target"):
        plan([], a, b)
    assert simulate(diff(a, b, questioner=CannedQuestioner()), a) == b
