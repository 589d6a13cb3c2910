"""Keys added to existing tables are built as an index first, then attached.

``ALTER TABLE … ADD CONSTRAINT … UNIQUE (…)`` holds ACCESS EXCLUSIVE (no reads)
for the whole index build; ``CREATE UNIQUE INDEX`` takes SHARE (reads go on)
and ``ADD CONSTRAINT … USING INDEX`` then changes only the catalog. Postgres
refuses ``USING INDEX`` on partitioned tables, so there the one-step form stays.
"""

from __future__ import annotations

from typing import Any

from dibs.ops import AddConstraint, AddPrimaryKey, Hazard
from dibs.render.alter import render_plan
from dibs.schema.model import Unique
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table

A = schema(table("t", col("id", "bigint", null=False), col("a", "text"), col("b", "integer")))


def _with(**kw: Any) -> Any:
    return schema(
        table("t", col("id", "bigint", null=False), col("a", "text"), col("b", "integer"), **kw)
    )


def test_unique_on_existing_table_is_built_then_attached() -> None:
    b = _with(uniques=(Unique("t_a_b_key", ("a", "b"), nulls_not_distinct=True),))
    ops = changes(A, b)
    [add] = [op for op in ops if isinstance(op, AddConstraint)]
    assert add.hazards == (Hazard.INDEX_BUILD_BLOCKS_WRITES,)
    sql = render_plan(ops)
    assert any(
        s.startswith("CREATE UNIQUE INDEX t_a_b_key") and "NULLS NOT DISTINCT" in s for s in sql
    )
    assert any("UNIQUE USING INDEX t_a_b_key" in s for s in sql), sql


def test_primary_key_on_existing_table_is_built_then_attached() -> None:
    b = _with(pk=("id",))
    ops = changes(A, b)
    [add] = [op for op in ops if isinstance(op, AddPrimaryKey)]
    assert Hazard.ACCESS_EXCLUSIVE_LOCK not in add.hazards
    assert any("PRIMARY KEY USING INDEX t_pkey" in s for s in render_plan(ops))


def test_partitioned_table_keeps_the_one_step_form() -> None:
    kw: dict[str, Any] = {"partition_by": "RANGE (b)"}
    a = schema(table("p", col("a", "text"), col("b", "integer", null=False), **kw))
    b = schema(
        table(
            "p",
            col("a", "text"),
            col("b", "integer", null=False),
            uniques=(Unique("p_a_b_key", ("a", "b")),),
            **kw,
        )
    )
    ops = changes(a, b)
    [add] = [op for op in ops if isinstance(op, AddConstraint)]
    assert Hazard.ACCESS_EXCLUSIVE_LOCK in add.hazards
    assert not any("USING INDEX" in s for s in render_plan(ops))


def test_keys_attached_from_indexes_read_back_as_declared(dibs_conn: Any) -> None:
    """Deferrable and NULLS NOT DISTINCT survive the two-step form on a real server."""
    b = _with(
        pk=("id",),
        uniques=(
            Unique("t_a_key", ("a",), deferrable=True, initially_deferred=True),
            Unique("t_b_key", ("b",), nulls_not_distinct=True),
        ),
    )
    statements = migrate_for_real(dibs_conn, A, b)
    assert sum("USING INDEX" in s for s in statements) == 3
