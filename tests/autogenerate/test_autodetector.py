"""The autodetector in domain terms: which operations a change between two models produces."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dibs.autogenerate import CannedQuestioner, FailClosedQuestioner, diff
from dibs.ops import AlterColumnType, Hazard, RecreateEnum, TypeChange
from dibs.planner import UnsafePlan, plan
from dibs.schema.model import (
    Check,
    EnumType,
    Extension,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Sequence,
    Unique,
    Unmanaged,
)
from tests.autogenerate.helpers import changes, col, expr, op_types, schema, table

USERS = table(
    "users",
    col("id", "bigint", null=False),
    col("name", "varchar(20)"),
    col("email", "text", null=False),
    pk=["id"],
)
POSTS = table(
    "posts",
    col("id", "bigint", null=False),
    col("author_id", "bigint"),
    col("body", "text"),
    pk=["id"],
    foreign_keys=(ForeignKey("posts_author_id_fkey", ("author_id",), "public", "users", ("id",)),),
)
BASE = schema(USERS, POSTS)


def test_identical_schemas_have_no_changes() -> None:
    assert diff(BASE, BASE, questioner=FailClosedQuestioner()) == []


def test_create_and_drop_table() -> None:
    assert op_types(changes(schema(), schema(USERS))) == ["CreateTable"]
    assert op_types(changes(schema(USERS), schema())) == ["DropTable"]


def test_new_tables_come_before_foreign_keys_to_them() -> None:
    assert op_types(changes(schema(), BASE)) == ["CreateTable", "CreateTable", "AddConstraint"]


def test_mutually_referencing_tables_are_created_and_dropped() -> None:
    a = table(
        "a",
        col("id", "integer", null=False),
        col("b_id", "integer"),
        pk=["id"],
        foreign_keys=(ForeignKey("a_b_id_fkey", ("b_id",), "public", "b", ("id",)),),
    )
    b = table(
        "b",
        col("id", "integer", null=False),
        col("a_id", "integer"),
        pk=["id"],
        foreign_keys=(ForeignKey("b_a_id_fkey", ("a_id",), "public", "a", ("id",)),),
    )
    both = schema(a, b)
    assert op_types(changes(schema(), both)) == [
        "CreateTable",
        "CreateTable",
        "AddConstraint",
        "AddConstraint",
    ]
    assert op_types(changes(both, schema())) == [
        "DropConstraint",
        "DropConstraint",
        "DropTable",
        "DropTable",
    ]


def test_add_drop_and_retype_columns() -> None:
    wider = replace(USERS, columns=(*USERS.columns[:1], col("name", "text"), USERS.columns[2]))
    ops = changes(schema(USERS), schema(wider))
    assert op_types(ops) == ["AlterColumnType"]
    assert isinstance(ops[0], AlterColumnType)
    assert ops[0].change is TypeChange.NO_REWRITE
    assert ops[0].hazards == (Hazard.STATISTICS_RESET,)

    added = replace(USERS, columns=(*USERS.columns, col("bio")))
    assert op_types(changes(schema(USERS), schema(added))) == ["AddColumn"]
    assert op_types(changes(schema(added), schema(USERS))) == ["DropColumn"]
    assert changes(schema(added), schema(USERS))[0].hazards == (Hazard.DATA_LOSS,)


def test_timestamp_to_timestamptz_is_detected() -> None:
    a = schema(table("t", col("at", "timestamp")))
    b = schema(table("t", col("at", "timestamptz")))
    (op,) = changes(a, b)
    assert isinstance(op, AlterColumnType)
    assert (op.old_type, op.new_type, op.change) == (
        "timestamp",
        "timestamptz",
        TypeChange.WIDENING,
    )


def test_nullability_default_identity_and_comment() -> None:
    a = schema(table("t", col("n", "integer")))
    b = schema(table("t", col("n", "integer", null=False, identity="always", comment="counter")))
    assert op_types(changes(a, b)) == ["SetNotNull", "AddIdentity", "SetComment"]
    assert op_types(changes(b, a)) == ["DropIdentity", "DropNotNull", "SetComment"]
    c = schema(table("t", col("n", "integer", default=expr("42"))))
    assert op_types(changes(a, c)) == ["SetDefault"]
    assert op_types(changes(c, a)) == ["DropDefault"]
    d = schema(table("t", col("n", "integer", null=False, identity="by default")))
    assert op_types(changes(b, d)) == ["AlterIdentity", "SetComment"]


def test_changed_check_expression_is_drop_and_add() -> None:
    a = schema(table("t", col("n", "integer"), checks=(Check("t_n_check", expr("n > 0")),)))
    b = schema(table("t", col("n", "integer"), checks=(Check("t_n_check", expr("n > 1")),)))
    assert op_types(changes(a, b)) == ["DropConstraint", "AddConstraint"]
    # Postgres's stored spelling of the same check is not a change.
    same = schema(
        table("t", col("n", "integer"), checks=(Check("t_n_check", "(n > (0)::integer)"),))
    )
    assert diff(a, same, questioner=FailClosedQuestioner()) == []


def test_changed_foreign_key_action_is_drop_and_add() -> None:
    fk = POSTS.foreign_keys[0]
    cascading = replace(POSTS, foreign_keys=(replace(fk, on_delete="CASCADE"),))
    ops = changes(BASE, schema(USERS, cascading))
    assert op_types(ops) == ["DropConstraint", "AddConstraint"]
    assert ops[1].hazards == (Hazard.CONSTRAINT_SCAN,)


def test_changed_primary_key_is_detected() -> None:
    a = schema(
        table("t", col("a", "integer", null=False), col("b", "integer", null=False), pk=["a"])
    )
    b = schema(
        table("t", col("a", "integer", null=False), col("b", "integer", null=False), pk=["a", "b"])
    )
    assert op_types(changes(a, b)) == ["DropPrimaryKey", "AddPrimaryKey"]


def test_dropping_a_primary_key_and_not_null_runs_in_that_order() -> None:
    a = schema(table("t", col("a", "integer", null=False), pk=["a"]))
    b = schema(table("t", col("a", "integer")))
    assert op_types(changes(a, b)) == ["DropPrimaryKey", "DropNotNull"]


def test_index_changes_are_by_definition() -> None:
    idx = Index("t_a_idx", (IndexElement("a"),))
    a = schema(table("t", col("a", "integer"), col("b", "integer"), indexes=(idx,)))
    moved = replace(idx, elements=(IndexElement("b"),))
    assert op_types(changes(a, schema(replace(a.tables[0], indexes=(moved,))))) == [
        "DropIndex",
        "CreateIndex",
    ]
    renamed = replace(idx, name="t_a_index")
    assert op_types(changes(a, schema(replace(a.tables[0], indexes=(renamed,))))) == ["RenameIndex"]
    commented = replace(idx, comment="lookup")
    assert op_types(changes(a, schema(replace(a.tables[0], indexes=(commented,))))) == [
        "SetComment"
    ]
    assert changes(schema(replace(a.tables[0], indexes=())), a)[0].hazards == (
        Hazard.INDEX_BUILD_BLOCKS_WRITES,
    )


def test_unique_and_renamed_constraint() -> None:
    uq = Unique("users_email_key", ("email",))
    a = schema(replace(USERS, uniques=(uq,)))
    b = schema(replace(USERS, uniques=(replace(uq, name="users_email_uq"),)))
    assert op_types(changes(a, b)) == ["RenameConstraint"]
    assert op_types(changes(schema(USERS), a)) == ["AddConstraint"]


def test_enum_values_added_in_place_and_removed_by_recreation() -> None:
    status = EnumType("status", ("new", "paid"))
    t = table("orders", col("s", "status", null=False, default=expr("'new'::status")))
    a = schema(t, enums=[status])
    grown = schema(t, enums=[replace(status, values=("draft", "new", "sent", "paid"))])
    ops = changes(a, grown)
    assert op_types(ops) == ["AddEnumValue", "AddEnumValue"]
    assert [(o.value, o.before, o.after) for o in ops] == [  # type: ignore[attr-defined]
        ("draft", "new", None),
        ("sent", None, "new"),
    ]
    shrunk = schema(t, enums=[replace(status, values=("paid", "new"))])
    (op,) = changes(a, shrunk)
    assert isinstance(op, RecreateEnum)
    assert [c.column for c in op.columns] == ["s"]
    assert Hazard.DATA_LOSS not in op.hazards  # a reorder loses nothing
    (op,) = changes(a, schema(t, enums=[replace(status, values=("new",))]))
    assert Hazard.DATA_LOSS in op.hazards


def test_schemas_extensions_enums_before_their_users_and_dropped_after() -> None:
    status = EnumType("status", ("a", "b"), schema="app")
    t = table("t", col("s", "app.status"), schema="app")
    full = schema(t, enums=[status], schemas=["app"], extensions=[Extension("citext")])
    assert op_types(changes(schema(), full)) == [
        "CreateSchema",
        "CreateExtension",
        "CreateEnum",
        "CreateTable",
    ]
    assert op_types(changes(full, schema())) == [
        "DropTable",
        "DropEnum",
        "DropExtension",
        "DropSchema",
    ]


def test_sequences_created_before_tables_and_owned_after() -> None:
    seq = Sequence("t_id_seq", owned_by=("public", "t", "id"))
    t = table("t", col("id", "integer", null=False, default=expr("nextval('t_id_seq'::regclass)")))
    ops = changes(schema(), schema(t, sequences=[seq]))
    assert op_types(ops) == ["CreateSequence", "CreateTable", "AlterSequence"]
    # Dropping the table drops the sequence it owns: no separate DropSequence.
    assert op_types(changes(schema(t, sequences=[seq]), schema())) == ["DropTable"]
    free = Sequence("tickets")
    assert op_types(changes(schema(), schema(sequences=[free]))) == ["CreateSequence"]
    bumped = replace(free, increment=5)
    assert op_types(changes(schema(sequences=[free]), schema(sequences=[bumped]))) == [
        "AlterSequence",
    ]


def test_generated_expression_change_replaces_the_column_and_its_index() -> None:
    def with_gen(sql: str) -> object:
        return table(
            "t",
            col("a", "integer"),
            col("g", "integer", generated=expr(sql)),
            indexes=(Index("t_g_idx", (IndexElement("g"),)),),
        )

    ops = changes(schema(with_gen("a * 2")), schema(with_gen("a * 3")))  # type: ignore[arg-type]
    assert op_types(ops) == ["DropIndex", "DropColumn", "AddColumn", "CreateIndex"]
    assert ops[1].hazards == ()  # generated values are derived: nothing is lost


def test_unmanaged_dependents_stop_the_plan() -> None:
    view = Unmanaged("view", "public", "user_names", ("public.users",))
    a = replace(BASE, unmanaged=(view,))
    wider = replace(USERS, columns=(USERS.columns[0], col("name", "text"), USERS.columns[2]))
    b = schema(wider, POSTS)
    with pytest.raises(UnsafePlan, match=r"view public\.user_names depends on public\.users"):
        plan(diff(a, b, questioner=FailClosedQuestioner()), a, b)
    # A change elsewhere is fine.
    c = schema(USERS, replace(POSTS, comment="x"))
    assert op_types(plan(diff(a, c, questioner=FailClosedQuestioner()), a, c)) == ["SetComment"]


def test_enum_rebuild_reaching_an_inheriting_table_stops_the_plan() -> None:
    """A rebuilt enum converts its columns; on a parent that a table INHERITS from, the
    conversion reaches the child too, which the model does not know: stop."""
    status = EnumType("status", ("a", "b"))
    base = table("base", col("s", "status"))
    child = table("child", col("s", "status"), col("n", "integer"))
    link = Unmanaged("table inheritance", "public", "child", ("public.base",))
    a = replace(schema(base, child, enums=[status]), unmanaged=(link,))
    b = schema(base, child, enums=[replace(status, values=("b", "a"))])
    with pytest.raises(UnsafePlan, match=r"public\.child inherits from public\.base"):
        plan(diff(a, b, questioner=FailClosedQuestioner()), a, b)


def test_partitioning_change_is_refused() -> None:
    a = schema(table("e", col("at", "date"), partition_by="RANGE (at)"))
    b = schema(table("e", col("at", "date"), partition_by="LIST (at)"))
    with pytest.raises(Exception, match="partitioning"):
        diff(a, b, questioner=CannedQuestioner())


def test_primary_key_table_renamed_constraints_follow() -> None:
    renamed = replace(
        USERS,
        name="accounts",
        renamed_from=("users",),
        primary_key=PrimaryKey("accounts_pkey", ("id",)),
    )
    posts = replace(POSTS, foreign_keys=(replace(POSTS.foreign_keys[0], ref_table="accounts"),))
    assert op_types(changes(BASE, schema(renamed, posts))) == ["RenameTable", "RenameConstraint"]
