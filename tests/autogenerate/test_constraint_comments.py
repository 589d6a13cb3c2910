"""Comments on constraints (``COMMENT ON CONSTRAINT``): declared, read back, changed in place.

psqldef's CommentOnConstraint cases found them missing: a comment on a primary
key was neither read nor written.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dibs.ops import SetConstraintComment
from dibs.schema.canonical import fingerprint
from dibs.schema.codegen import generate_python
from dibs.schema.declare import load_schema
from dibs.schema.model import Check, PrimaryKey, Schema, Unique
from tests.autogenerate.helpers import changes, col, expr, migrate_for_real, schema, table


def _t(pk: str | None = None, check: str | None = None, unique: str | None = None) -> Schema:
    t = table("test", col("id", "integer", null=False), col("b", "integer"))
    return schema(
        replace(
            t,
            primary_key=PrimaryKey("test_pkey", ("id",), comment=pk),
            checks=(Check("my.constraint", expr("b < 5"), comment=check),),
            uniques=(Unique("test_b_key", ("b",), comment=unique),),
        )
    )


def test_declared_on_every_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "commented_schema.py").write_text(
        textwrap.dedent(
            """
            from typing import Annotated
            import dibs

            @dibs.table(
                primary_key=("id",),
                primary_key_comment="Primary key constraint",
                checks=[dibs.check("b < 5", name="my.constraint", comment="dot")],
            )
            class Test:
                id: int
                b: Annotated[int | None, dibs.unique(comment="one b")]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = load_schema(["commented_schema"])
    t = declared.tables[0]
    assert t.primary_key is not None and t.primary_key.comment == "Primary key constraint"
    assert [c.comment for c in t.checks] == ["dot"]
    assert [u.comment for u in t.uniques] == ["one b"]
    assert "primary_key_comment='Primary key constraint'" in generate_python(declared)


def test_created_with_comments_and_read_back(dibs_conn: Any) -> None:
    statements = migrate_for_real(dibs_conn, schema(), _t("Primary key", "dot", "'quoted'"))
    assert any(s.startswith('COMMENT ON CONSTRAINT "my.constraint"') for s in statements)


def test_a_changed_comment_is_changed_in_place(dibs_conn: Any) -> None:
    a, b = _t("old", None, "kept"), _t(None, "new", "kept")
    ops = changes(a, b)
    assert sorted(type(op).__name__ for op in ops) == ["SetConstraintComment"] * 2
    assert {(op.constraint, op.comment) for op in ops if isinstance(op, SetConstraintComment)} == {
        ("test_pkey", None),
        ("my.constraint", "new"),
    }
    migrate_for_real(dibs_conn, a, b)


def test_a_comment_is_in_the_fingerprint_and_an_empty_one_is_none() -> None:
    assert fingerprint(_t()) != fingerprint(_t(check="x"))
    assert Check("c", expr("true"), comment="") == Check("c", expr("true"))
