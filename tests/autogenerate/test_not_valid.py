"""NOT VALID checks and foreign keys: read back, kept, validated in place, never silent."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from dibs.ops import AddConstraint, DropConstraint, Hazard, ValidateConstraint
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.render.ddl import render_schema
from dibs.schema.canonical import to_json
from dibs.schema.declare import load_schema
from dibs.schema.model import Check, ForeignKey, PrimaryKey, Schema
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _s(*, check_nv: bool = False, fk_nv: bool = False) -> Schema:
    parent = table("p", col("id", "bigint", null=False), pk=("id",))
    child = table(
        "c",
        col("id", "bigint", null=False),
        col("p_id", "bigint"),
        col("n", "integer"),
        pk=("id",),
        checks=(Check("c_n_check", "n > 0", not_valid=check_nv),),
        foreign_keys=(
            ForeignKey("c_p_id_fkey", ("p_id",), "public", "p", ("id",), not_valid=fk_nv),
        ),
    )
    return schema(parent, child)


def test_created_not_valid_reads_back_not_valid(dibs_conn: Any) -> None:
    target = _s(check_nv=True, fk_nv=True)
    statements = migrate_for_real(dibs_conn, schema(), target)
    assert sum(s.endswith("NOT VALID") for s in statements) == 2, statements
    # the whole-schema script (dibs sql) does the same
    assert sum("NOT VALID" in s for s in render_schema(target)) == 2


def test_validating_is_in_place_and_the_reverse_is_drop_add(dibs_conn: Any) -> None:
    invalid, valid = _s(check_nv=True, fk_nv=True), _s()
    ops = changes(invalid, valid)
    assert [type(op) for op in ops] == [ValidateConstraint, ValidateConstraint]
    assert all(op.hazards == (Hazard.CONSTRAINT_SCAN,) for op in ops)
    assert all("VALIDATE CONSTRAINT" in s for s in render_plan(ops))
    back = changes(valid, invalid)
    assert {type(op) for op in back} == {DropConstraint, AddConstraint}
    assert all(op.hazards == () for op in back if isinstance(op, AddConstraint))
    migrate_for_real(dibs_conn, invalid, valid)


def test_a_hand_made_not_valid_constraint_is_a_difference(dibs_conn: Any) -> None:
    for stmt in render_schema(_s()):
        dibs_conn.execute(stmt.encode())
    dibs_conn.execute("ALTER TABLE c DROP CONSTRAINT c_n_check")
    dibs_conn.execute("ALTER TABLE c ADD CONSTRAINT c_n_check CHECK (n > 0) NOT VALID")
    live = introspect(dibs_conn)
    assert live.managed() == _s(check_nv=True).managed()
    assert [type(op) for op in changes(live.managed(), _s())] == [ValidateConstraint]


def test_fingerprint_json_unchanged_for_valid_constraints() -> None:
    assert "not_valid" not in to_json(_s())
    assert '"not_valid": true' in to_json(_s(fk_nv=True))


def test_declared_not_valid(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "nv_schema.py").write_text(
        textwrap.dedent(
            """
            from typing import Annotated
            import dibs

            @dibs.table
            class Parent:
                id: Annotated[int, dibs.pk]

            @dibs.table(checks=[dibs.check("n > 0", not_valid=True)])
            class Child:
                id: Annotated[int, dibs.pk]
                parent_id: Annotated[int, dibs.fk(Parent, not_valid=True)]
                n: int
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    child = load_schema(["nv_schema"]).table("child")
    assert child is not None
    assert child.checks[0].not_valid and child.foreign_keys[0].not_valid
    assert child.primary_key == PrimaryKey("child_pkey", ("id",))
