"""Ordering and conversion bugs the independent-pairs property test found; real Postgres."""

from __future__ import annotations

from typing import Any

from dibs.ops import Hazard
from dibs.schema.model import EnumType, ForeignKey, Index, IndexElement, Unique
from tests.autogenerate.helpers import (
    changes,
    col,
    expr,
    migrate_for_real,
    op_types,
    schema,
    table,
)


def test_a_column_read_by_a_generated_column_can_change_type(dibs_conn: Any) -> None:
    gen = col("twice", "integer", generated=expr("n * 2"))
    a = schema(table("t", col("n", "integer"), gen))
    b = schema(table("t", col("n", "bigint"), col("twice", "integer", generated=expr("n * 2"))))
    statements = migrate_for_real(dibs_conn, a, b)
    assert [s.split()[3:6] for s in statements][:1] == [["DROP", "COLUMN", "twice"]]


def test_a_foreign_key_comes_after_the_unique_key_it_needs(dibs_conn: Any) -> None:
    parent = table("parent", col("code", "text", null=False))
    keyed = table(
        "parent", col("code", "text", null=False), uniques=(Unique("parent_code_key", ("code",)),)
    )
    child = table(
        "child",
        col("code", "text"),
        foreign_keys=(ForeignKey("child_code_fkey", ("code",), "public", "parent", ("code",)),),
    )
    a = schema(parent)
    b = schema(keyed, child)
    assert migrate_for_real(dibs_conn, a, b)


def test_a_type_without_a_cast_is_dropped_and_added_with_data_loss(dibs_conn: Any) -> None:
    a = schema(table("t", col("at", "integer")))
    b = schema(table("t", col("at", "timestamp")))
    ops = changes(a, b)
    assert op_types(ops) == ["DropColumn", "AddColumn"]
    assert Hazard.DATA_LOSS in ops[0].hazards
    migrate_for_real(dibs_conn, a, b)


def test_an_explicit_cast_gets_using_and_an_assignment_cast_does_not(dibs_conn: Any) -> None:
    a = schema(table("t", col("a", "text"), col("b", "varchar(20)")))
    b = schema(table("t", col("a", "text[]"), col("b", "varchar(10)")))
    statements = migrate_for_real(dibs_conn, a, b)
    assert any("TYPE text[] USING a::text[]" in s for s in statements)
    assert any(s.endswith("TYPE varchar(10)") for s in statements)  # fails, never truncates


def test_an_enum_can_take_the_name_of_a_dropped_table(dibs_conn: Any) -> None:
    a = schema(table("order", col("id", "integer")))
    b = schema(enums=[EnumType("order", ("new", "paid"))])
    assert op_types(changes(a, b)) == ["DropTable", "CreateEnum"]
    migrate_for_real(dibs_conn, a, b)


def test_an_index_can_take_the_name_of_an_index_on_a_dropped_table(dibs_conn: Any) -> None:
    idx = Index("shared_name", (IndexElement("id"),))
    a = schema(table("old", col("id", "integer"), indexes=(idx,)))
    b = schema(table("new", col("id", "integer"), indexes=(idx,)))
    assert migrate_for_real(dibs_conn, a, b)


def test_a_new_primary_key_replaces_one_on_a_replaced_column(dibs_conn: Any) -> None:
    a = schema(table("t", col("k", "integer", null=False), col("j", "text", null=False), pk=["k"]))
    b = schema(
        table(
            "t",
            col("k", "timestamp", null=False),
            col("j", "text", null=False),
            pk=["j"],
        )
    )
    migrate_for_real(dibs_conn, a, b)


def test_a_foreign_key_on_an_existing_partitioned_table_is_added_in_one_step(
    dibs_conn: Any,
) -> None:
    parent = table("parent", col("id", "integer", null=False), pk=["id"])
    events = table(
        "events",
        col("at", "integer", null=False),
        col("parent_id", "integer"),
        partition_by="RANGE (at)",
    )
    linked = table(
        "events",
        col("at", "integer", null=False),
        col("parent_id", "integer"),
        partition_by="RANGE (at)",
        foreign_keys=(
            ForeignKey("events_parent_id_fkey", ("parent_id",), "public", "parent", ("id",)),
        ),
    )
    statements = migrate_for_real(dibs_conn, schema(parent, events), schema(parent, linked))
    assert not any("NOT VALID" in s for s in statements)


def test_a_serial_sequence_is_dropped_after_the_default_that_uses_it(dibs_conn: Any) -> None:
    from dibs.schema.model import Sequence

    seq = Sequence("t_id_seq", type="integer", owned_by=("public", "t", "id"))
    a = schema(
        table("t", col("id", "integer", null=False, default=expr("nextval('t_id_seq'::regclass)"))),
        sequences=[seq],
    )
    b = schema(table("t", col("id", "text", null=False)))
    statements = migrate_for_real(dibs_conn, a, b)
    assert statements[-1] == "DROP SEQUENCE public.t_id_seq"


def test_a_check_is_dropped_before_its_column_changes_type(dibs_conn: Any) -> None:
    from dibs.schema.model import Check

    bar_check = (Check("t_bar_check", expr("bar > 0")),)
    a = schema(table("t", col("bar", "bigint"), checks=bar_check))
    b = schema(table("t", col("bar", "text")))
    statements = migrate_for_real(dibs_conn, a, b)
    assert statements[0] == "ALTER TABLE public.t DROP CONSTRAINT t_bar_check"


def test_a_foreign_key_is_added_after_both_sides_change_type(dibs_conn: Any) -> None:
    parent = table("parent", col("id", "integer", null=False), pk=["id"])
    child = table("child", col("parent_id", "integer"))
    fk = (ForeignKey("child_parent_id_fkey", ("parent_id",), "public", "parent", ("id",)),)
    a = schema(parent, child)
    b = schema(
        table("parent", col("id", "bigint", null=False), pk=["id"]),
        table("child", col("parent_id", "bigint"), foreign_keys=fk),
    )
    statements = migrate_for_real(dibs_conn, a, b)
    assert "FOREIGN KEY" in statements[-1] or "VALIDATE" in statements[-1]


def test_a_new_primary_key_waits_for_the_old_one_to_go(dibs_conn: Any) -> None:
    from dataclasses import replace

    from dibs.schema.model import PrimaryKey

    old = table("t", col("id", "bigint", null=False), col("name", "bigint", null=False))
    a = schema(replace(old, primary_key=PrimaryKey("PK of t", ("id", "name"))))
    b = schema(table("t", col("id", "bigint", null=False), col("during", "tstzrange"), pk=["id"]))
    migrate_for_real(dibs_conn, a, b)


def test_identity_is_added_after_the_column_becomes_an_integer(dibs_conn: Any) -> None:
    a = schema(table("t", col("id", "text", null=False)))
    b = schema(table("t", col("id", "bigint", null=False, identity="always")))
    statements = migrate_for_real(dibs_conn, a, b)
    assert statements[-1].endswith("ADD GENERATED ALWAYS AS IDENTITY")


def test_a_number_cannot_become_an_enum_so_the_column_is_replaced(dibs_conn: Any) -> None:
    mood = EnumType("mood", ("new",))
    a = schema(table("t", col("m", "bigint")))
    b = schema(table("t", col("m", "mood[]")), enums=[mood])
    assert op_types(changes(a, b)) == ["CreateEnum", "DropColumn", "AddColumn"]
    migrate_for_real(dibs_conn, a, b)
    text_to_enum = schema(table("t", col("m", "text")))
    assert "AlterColumnType" in op_types(
        changes(text_to_enum, schema(table("t", col("m", "mood")), enums=[mood]))
    )


def test_key_columns_lose_not_null_after_a_dropped_column_takes_the_key(dibs_conn: Any) -> None:
    from dataclasses import replace

    from dibs.schema.model import PrimaryKey

    old = table("t", col("x", "inet", null=False), col("id", "bigint", null=False))
    a = schema(replace(old, primary_key=PrimaryKey("PK of t", ("x", "id"))))
    b = schema(table("t", col("x", "bigint", null=False, identity="always"), col("id", "bigint")))
    statements = migrate_for_real(dibs_conn, a, b)
    drop = next(i for i, s in enumerate(statements) if "DROP COLUMN x" in s)
    assert drop < next(i for i, s in enumerate(statements) if "DROP NOT NULL" in s)


def test_an_enum_column_becoming_jsonb_is_replaced(dibs_conn: Any) -> None:
    mood = EnumType("mood", ("new",))
    a = schema(table("t", col("m", "mood")), enums=[mood])
    b = schema(table("t", col("m", "jsonb")))
    assert sorted(op_types(changes(a, b))) == ["AddColumn", "DropColumn", "DropEnum"]
    migrate_for_real(dibs_conn, a, b)


def test_foreign_key_follows_its_unique_key_into_a_primary_key(dibs_conn: Any) -> None:
    """A unique constraint an FK references becomes the primary key: the FK is bound to
    the old index (Postgres refuses to drop it), so it is dropped and added again."""

    def build(key_is_pk: bool) -> Any:
        parent = table(
            "parent",
            col("email", "text", null=False),
            uniques=() if key_is_pk else (Unique("parent_email_key", ("email",)),),
            pk=("email",) if key_is_pk else (),
        )
        child = table(
            "child",
            col("email", "text"),
            foreign_keys=(
                ForeignKey("child_email_fkey", ("email",), "public", "parent", ("email",)),
            ),
        )
        return schema(parent, child)

    statements = migrate_for_real(dibs_conn, build(False), build(True))
    assert any("DROP CONSTRAINT child_email_fkey" in s for s in statements), statements


def test_a_sequence_moves_owner_before_its_old_owner_column_is_dropped(dibs_conn: Any) -> None:
    """``OWNED BY`` is a dependency: dropping the old owner first drops the sequence
    (pg-schema-diff sequence_cases/025); the move runs first and the sequence keeps
    its position."""
    from dibs.postgres.introspect import introspect
    from dibs.render.alter import render_plan
    from dibs.render.ddl import render_schema
    from dibs.schema.model import Sequence

    seq = Sequence("s", start=10, owned_by=("public", "a", "n"))
    before = schema(table("a", col("n", "bigint"), col("keep")), sequences=[seq])
    after = schema(
        table("a", col("keep")),
        table("b", col("n", "bigint")),
        sequences=[Sequence("s", start=10, owned_by=("public", "b", "n"))],
    )
    with dibs_conn.transaction():
        for stmt in render_schema(before):
            dibs_conn.execute(stmt.encode())
    dibs_conn.execute("SELECT nextval('s'), nextval('s')")
    statements = render_plan(changes(before, after))
    owned = [i for i, s in enumerate(statements) if "OWNED BY" in s]
    dropped = [i for i, s in enumerate(statements) if "DROP COLUMN" in s]
    assert owned and dropped and owned[0] < dropped[0], statements
    with dibs_conn.transaction():
        for stmt in statements:
            dibs_conn.execute(stmt.encode())
    assert introspect(dibs_conn).managed() == after.managed()
    assert dibs_conn.execute("SELECT nextval('s')").fetchone()[0] == 12
