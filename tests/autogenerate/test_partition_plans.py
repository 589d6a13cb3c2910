"""Partitions in plans: settings a new partition has beyond its parent, and index reuse.

Found by pg-schema-diff's partition cases: a partition created in a plan lost
the NOT NULL it had beyond its parent (``CREATE TABLE … PARTITION OF`` copies
the parent's), and an index added to a partitioned table was built before a
partition's new primary key, so the partition got a second, identical index
instead of Postgres attaching the key's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dibs.ops import AddPrimaryKey, CreateIndex
from dibs.planner import plan
from dibs.schema.model import Index, IndexElement
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _parent(**kw: Any) -> Any:
    return table(
        "p",
        col("k", "text", null=False),
        col("id", "integer"),
        col("note", "text", default="'x'::text"),
        partition_by="LIST (k)",
        **kw,
    )


def _partition(*, null: bool = True, **kw: Any) -> Any:
    return table(
        "p_1",
        col("k", "text", null=False),
        col("id", "integer", null=null),
        col("note", "text", default="'y'::text"),
        partition_of="p",
        partition_bound="FOR VALUES IN ('a')",
        **kw,
    )


def test_new_partition_keeps_its_own_not_null_and_default(dibs_conn: Any) -> None:
    statements = migrate_for_real(
        dibs_conn, schema(_parent()), schema(_parent(), _partition(null=False))
    )
    assert any("SET NOT NULL" in s for s in statements), statements
    assert any("SET DEFAULT 'y'" in s for s in statements), statements


def test_parent_index_reuses_the_new_partition_key(dibs_conn: Any) -> None:
    index = Index("p_k_id_idx", (IndexElement(column="k"), IndexElement(column="id")), unique=True)
    a = schema(_parent(), _partition())
    b = schema(_parent(indexes=(index,)), _partition(null=False, pk=("k", "id")))
    ops = changes(a, b)
    ordered = plan(ops, a, b)
    kinds = [type(op) for op in ordered if isinstance(op, AddPrimaryKey | CreateIndex)]
    assert kinds == [AddPrimaryKey, CreateIndex]
    migrate_for_real(dibs_conn, a, b)
    indexes = dibs_conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'p_1'::regclass"
    ).fetchall()
    assert indexes == [("p_1_pkey",)]  # attached to p_k_id_idx, not built twice
    attached = dibs_conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'p_k_id_idx'::regclass"
    ).fetchall()
    assert attached == [("p_1_pkey",)]


def test_partition_plain_index_stays_its_own(dibs_conn: Any) -> None:
    """A partition's own index identical to a new parent index is built after it, so
    Postgres does not attach it (it would leave the partition's model)."""
    parent_index = Index("p_id_idx", (IndexElement(column="id"),))
    own = Index("p_1_own_idx", (IndexElement(column="id"),))
    a = schema(_parent(), _partition())
    b = schema(_parent(indexes=(parent_index,)), _partition(indexes=(own,)))
    migrate_for_real(dibs_conn, a, b)


def _tree(parent_cols: tuple[Any, ...], part_cols: tuple[Any, ...], *, sub: bool = False) -> Any:
    """A LIST-partitioned table ``p`` with partition ``p_1`` (itself partitioned when ``sub``)."""
    key = col("k", "text", null=False)
    tables = [
        table("p", key, *parent_cols, partition_by="LIST (k)"),
        table(
            "p_1",
            key,
            *part_cols,
            partition_of="p",
            partition_bound="FOR VALUES IN ('a', 'b')",
            partition_by="LIST (k)" if sub else None,
        ),
    ]
    if sub:
        tables.append(
            table(
                "p_1_a", key, *part_cols, partition_of="p_1", partition_bound="FOR VALUES IN ('a')"
            )
        )
    return schema(*tables)


def test_column_added_to_a_partitioned_table_is_added_once(dibs_conn: Any) -> None:
    """Postgres refuses ADD COLUMN on a partition; the partition's own NOT NULL and
    default are set after the parent's column reached it."""
    a = _tree((), (), sub=True)
    b = _tree(
        (col("n", "integer", default="0"),),
        (col("n", "integer", null=False, default="1"),),
        sub=True,
    )
    statements = migrate_for_real(dibs_conn, a, b)
    assert sum("ADD COLUMN" in s for s in statements) == 1, statements


def test_column_dropped_from_a_partitioned_table_is_dropped_once(dibs_conn: Any) -> None:
    own = Index("p_1_n_idx", (IndexElement(column="n"),))
    a = schema(
        table("p", col("k", "text", null=False), col("n", "integer"), partition_by="LIST (k)"),
        table(
            "p_1",
            col("k", "text", null=False),
            col("n", "integer"),
            partition_of="p",
            partition_bound="FOR VALUES IN ('a')",
            indexes=(own,),
        ),
    )
    b = _tree((), ())
    b = schema(b.tables[0], replace(b.tables[1], partition_bound="FOR VALUES IN ('a')"))
    statements = migrate_for_real(dibs_conn, a, b)
    assert sum("DROP COLUMN" in s for s in statements) == 1, statements
    assert statements.index("DROP INDEX public.p_1_n_idx") < next(
        i for i, s in enumerate(statements) if "DROP COLUMN" in s
    )


def test_column_retyped_on_a_partitioned_table_is_retyped_once(dibs_conn: Any) -> None:
    a = _tree((col("n", "integer", default="0"),), (col("n", "integer", default="0"),), sub=True)
    b = _tree(
        (col("n", "text", default="'0'::text"),),
        (col("n", "text", null=False, default="'1'::text"),),
        sub=True,
    )
    statements = migrate_for_real(dibs_conn, a, b)
    assert sum(" TYPE text" in s for s in statements) == 1, statements
