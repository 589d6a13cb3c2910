"""Domains are diffed: created before the columns using them, altered in place, dropped after.

Each case runs against real Postgres: the database is built at A, the plan's
SQL applied, and introspection must give B.
"""

from __future__ import annotations

from typing import Any

import pytest

from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.schema.model import Check, Domain
from tests.autogenerate.helpers import (
    changes,
    col,
    expr,
    migrate_for_real,
    op_types,
    schema,
    table,
)

POSITIVE = Domain(
    "positive",
    "integer",
    nullable=False,
    default=expr("1"),
    checks=(Check("positive_check", expr("VALUE > 0")),),
    comment="strictly positive",
)


def test_a_new_domain_comes_before_the_column_that_uses_it(dibs_conn: Any) -> None:
    a = schema(table("item", col("id", "integer", null=False)))
    b = schema(
        table("item", col("id", "integer", null=False), col("qty", "positive")),
        domains=[POSITIVE],
    )
    ops = changes(a, b)
    assert op_types(ops) == ["CreateDomain", "AddColumn"]
    statements = migrate_for_real(dibs_conn, a, b)
    assert statements[0].startswith("CREATE DOMAIN public.positive AS integer DEFAULT 1 NOT NULL")


def test_a_domain_is_altered_in_place(dibs_conn: Any) -> None:
    changed = Domain(
        "positive",
        "integer",
        nullable=True,
        default=None,
        checks=(Check("positive_small", expr("VALUE < 1000")),),
        comment=None,
    )
    a = schema(table("item", col("qty", "positive")), domains=[POSITIVE])
    b = schema(table("item", col("qty", "positive")), domains=[changed])
    ops = changes(a, b)
    assert op_types(ops) == ["AlterDomain"]
    assert ops[0].hazards != ()  # a new check validates every column of the domain
    statements = migrate_for_real(dibs_conn, a, b)
    assert "ALTER DOMAIN public.positive DROP DEFAULT" in statements
    assert "ALTER DOMAIN public.positive DROP NOT NULL" in statements
    assert "ALTER DOMAIN public.positive DROP CONSTRAINT positive_check" in statements


def test_a_domain_is_dropped_after_its_last_column(dibs_conn: Any) -> None:
    a = schema(table("item", col("id", "integer"), col("qty", "positive")), domains=[POSITIVE])
    b = schema(table("item", col("id", "integer")))
    assert op_types(changes(a, b)) == ["DropColumn", "DropDomain"]
    migrate_for_real(dibs_conn, a, b)


def test_changing_a_domain_base_type_is_refused_with_a_way_out() -> None:
    a = schema(domains=[POSITIVE])
    b = schema(domains=[Domain("positive", "bigint", checks=POSITIVE.checks)])
    with pytest.raises(UnsupportedChange) as info:
        changes(a, b)
    assert "positive changes its base type" in info.value.message
    assert info.value.hint and "new name" in info.value.hint


@pytest.mark.parametrize(
    ("new_type", "expected"),
    [
        # No cast from integer to timestamptz, so none from a domain over it: the
        # column is replaced (found by the pairs property: USING y::timestamptz failed).
        ("timestamptz", ["DropColumn", "AddColumn"]),
        # A domain converts as its base type does: to text in place, to bigint too.
        ("text", ["AlterColumnType"]),
        ("bigint", ["AlterColumnType"]),
    ],
)
def test_a_domain_column_converts_as_its_base_type(
    dibs_conn: Any, new_type: str, expected: list[str]
) -> None:
    a = schema(table("item", col("y", "positive")), domains=[POSITIVE])
    b = schema(table("item", col("y", new_type)), domains=[POSITIVE])
    assert op_types(changes(a, b)) == expected
    migrate_for_real(dibs_conn, a, b)
