"""Every column type change resets the column's planner statistics, even one without a rewrite.

The ``STATISTICS_RESET`` hazard of ``AlterColumnType`` rests on this
behaviour of Postgres (``RemoveStatistics`` in ``ATExecAlterColumnType``);
the test checks it on the server the suite runs against.
"""

from __future__ import annotations

from typing import Any

import pytest

from dibs.ops import AlterColumnType, Hazard, TypeChange
from dibs.render.alter import render_plan
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _stats(conn: Any) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stats WHERE tablename = 't' AND attname = 'a'"
    ).fetchone()
    return int(row[0])


@pytest.mark.parametrize(
    ("old", "new", "change"),
    [
        ("varchar(10)", "text", TypeChange.NO_REWRITE),
        ("varchar(10)", "varchar(20)", TypeChange.NO_REWRITE),
        ("integer", "bigint", TypeChange.WIDENING),
    ],
)
def test_type_change_resets_statistics(
    dibs_conn: Any, old: str, new: str, change: TypeChange
) -> None:
    before, after = schema(table("t", col("a", old))), schema(table("t", col("a", new)))
    migrate_for_real(dibs_conn, schema(), before)
    dibs_conn.execute("INSERT INTO t SELECT g FROM generate_series(1, 200) g")
    dibs_conn.execute("ANALYZE t")
    assert _stats(dibs_conn) == 1
    ops = changes(before, after)
    assert [type(op) for op in ops] == [AlterColumnType]
    op = ops[0]
    assert isinstance(op, AlterColumnType) and op.change is change
    assert Hazard.STATISTICS_RESET in op.hazards
    for stmt in render_plan(ops):
        dibs_conn.execute(stmt.encode())
    assert _stats(dibs_conn) == 0
