"""Rename rules: hints resolve, heuristics only propose, the questioner decides."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dibs.autogenerate import (
    CannedQuestioner,
    FailClosedQuestioner,
    RenameDecisionRequired,
    diff,
)
from dibs.autogenerate.renames import column_candidates, name_ratio, table_candidates
from dibs.ops import RenameColumn, RenameTable
from dibs.schema.model import Column, PrimaryKey, Table
from tests.autogenerate.helpers import changes, col, op_types, schema, table

USERS = table(
    "users",
    col("id", "bigint", null=False),
    col("name", "text"),
    col("legacy_field", "text"),
    col("email", "text"),
    pk=["id"],
)


def _retitled(*cols: Column, name: str = "users") -> Table:
    return replace(USERS, name=name, columns=(USERS.columns[0], *cols, USERS.columns[3]))


def test_column_hint_renames_without_asking() -> None:
    b = schema(_retitled(col("display_name", "text", renamed_from=("name",)), USERS.columns[2]))
    ops = changes(schema(USERS), b, FailClosedQuestioner())
    assert op_types(ops) == ["RenameColumn"]
    assert ops[0] == RenameColumn("public", "users", "name", "display_name")


def test_matching_type_alone_is_never_a_candidate() -> None:
    """``legacy_field`` → ``bio``: same type, unrelated names: drop + add, nothing asked."""
    old = [USERS.columns[2]]
    new = [col("bio", "text")]
    assert column_candidates(USERS, old, new) == []
    b = schema(_retitled(USERS.columns[1], col("bio", "text")))
    ops = changes(schema(USERS), b, FailClosedQuestioner())
    assert op_types(ops) == ["DropColumn", "AddColumn"]


def test_similar_name_and_type_is_proposed_and_answer_decides() -> None:
    b = schema(_retitled(col("display_name", "text"), USERS.columns[2]))
    yes = CannedQuestioner({"users.name=display_name": True})
    assert op_types(changes(schema(USERS), b, yes)) == ["RenameColumn"]
    assert [c.spec for c in yes.asked] == ["users.name=display_name"]
    no = CannedQuestioner({"users.name": False})
    assert op_types(changes(schema(USERS), b, no)) == ["DropColumn", "AddColumn"]


def test_incompatible_type_is_not_a_candidate() -> None:
    assert column_candidates(USERS, [col("name", "text")], [col("names", "integer")]) == []
    # Widening keeps a candidate (score lowered), narrowing does not.
    (cand,) = column_candidates(USERS, [col("count", "integer")], [col("counts", "bigint")])
    assert cand.score == pytest.approx(name_ratio("count", "counts") - 0.1)


def test_fail_closed_lists_every_candidate_with_fixes() -> None:
    other = table(
        "people",
        col("id", "bigint", null=False),
        col("name", "text"),
        col("email", "text"),
        col("legacy_field", "text"),
        pk=["id"],
    )
    b = schema(
        replace(other, primary_key=PrimaryKey("people_pkey", ("id",))),
        _retitled(col("nick_name", "text"), col("legacy_fields", "text"), name="members"),
    )
    a = schema(USERS, table("persons", *other.columns))
    with pytest.raises(RenameDecisionRequired) as info:
        diff(a, b, questioner=FailClosedQuestioner())
    specs = {c.spec for c in info.value.candidates}
    assert "persons=people" in specs
    message = str(info.value)
    assert "--rename persons=people" in message and "--no-rename persons" in message
    assert "renamed_from=('persons',)" in message


def test_table_candidates_need_column_overlap() -> None:
    same_cols = table("accounts", *USERS.columns)
    (cand,) = table_candidates([USERS], [same_cols])
    assert cand.kind == "table" and cand.score >= 0.7
    unrelated = table("audit", col("at", "timestamptz"), col("what", "jsonb"))
    assert table_candidates([USERS], [unrelated]) == []


def test_table_rename_by_hint_then_column_rename_inside_it() -> None:
    renamed = replace(
        USERS,
        name="members",
        renamed_from=("users",),
        columns=(*USERS.columns[:3], col("email_address", "text", renamed_from=("email",))),
    )
    ops = changes(schema(USERS), schema(renamed), FailClosedQuestioner())
    assert op_types(ops) == ["RenameTable", "RenameColumn"]
    assert isinstance(ops[0], RenameTable) and ops[0].new_name == "members"


def test_table_rename_by_answer() -> None:
    b = schema(replace(USERS, name="members"))
    ops = changes(schema(USERS), b, CannedQuestioner({"users=members": True}))
    assert op_types(ops) == ["RenameTable"]
    ops = changes(schema(USERS), b, CannedQuestioner({"users=members": False}))
    # The new table reuses the primary key name users_pkey: the old table goes first.
    assert op_types(ops) == ["DropTable", "CreateTable"]
