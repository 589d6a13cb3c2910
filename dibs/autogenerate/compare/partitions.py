"""Column changes a partitioned table passes on to its partitions.

Postgres adds, drops and retypes a column of every partition when it does so
on the partitioned table, and refuses to do it on a partition alone ("cannot
add column to a partition", "cannot alter inherited column"). Comparing each
table on its own yields the change on the parent *and* on every partition;
this pass keeps the parent's operation, tells it which partitions it reaches
(its ``partitions``, for the simulation and the ordering keys), and replaces
the partitions' own operations on that column with what is left: a default
or NOT NULL the partition has beyond what the parent's change gives it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from dibs.ops import (
    AddColumn,
    AlterColumnType,
    DropColumn,
    DropDefault,
    DropNotNull,
    Op,
    SetDefault,
    SetNotNull,
)
from dibs.ops.columns import implied_drops
from dibs.ops.tables import partition_parent
from dibs.schema.model import Column, Schema

__all__ = ["inherit_column_changes"]

TableKey = tuple[str, str]
_Inherited = AddColumn | DropColumn | AlterColumnType


def _column_of(op: Op) -> tuple[str, str, str] | None:
    """(schema, table, column) of an operation on one column, else None."""
    column = getattr(op, "column", None)
    name = column.name if isinstance(column, Column) else column
    if not isinstance(name, str) or not hasattr(op, "schema") or not hasattr(op, "table"):
        return None
    return (str(op.schema), str(op.table), name)


def _partitions(old: Schema, new: Schema) -> dict[TableKey, list[TableKey]]:
    """Partitions present on both sides under the same parent, by parent."""
    children: dict[TableKey, list[TableKey]] = defaultdict(list)
    for table in new.tables:
        parent = partition_parent(table)
        before = old.table(table.name, table.schema)
        if parent is not None and before is not None and partition_parent(before) == parent:
            children[parent].append(table.key)
    return children


def _descendants(children: dict[TableKey, list[TableKey]], key: TableKey) -> tuple[TableKey, ...]:
    out: list[TableKey] = []
    for child in children.get(key, []):
        out += [child, *_descendants(children, child)]
    return tuple(out)


def inherit_column_changes(ops: list[Op], old: Schema, new: Schema) -> list[Op]:
    """Return ``ops`` with column changes of partitioned tables passed on (module docstring)."""
    children = _partitions(old, new)
    if not children:
        return ops
    parents: dict[tuple[str, str, str], _Inherited] = {}
    with_partitions: list[Op] = []
    for op in ops:
        where = _column_of(op)
        if isinstance(op, _Inherited) and where and (where[0], where[1]) in children:
            # A partition's own op under a parent op is dropped below, so only the
            # topmost partitioned table's op remains, reaching every level.
            parts = _descendants(children, (where[0], where[1]))
            op = replace(op, partitions=parts)
            if isinstance(op, DropColumn):
                implied = set(op.implied)
                for s, t in parts:
                    table = old.table(t, s)
                    if table is not None:
                        implied |= implied_drops(table, where[2])
                op = replace(op, implied=frozenset(implied))
            for s, t in parts:
                parents.setdefault((s, t, where[2]), op)
        with_partitions.append(op)
    out: list[Op] = []
    done: set[tuple[str, str, str]] = set()
    for op in with_partitions:
        where = _column_of(op)
        parent_op = parents.get(where) if where else None
        if where is None or parent_op is None or parent_op is op:
            out.append(op)
            continue
        if where not in done:
            done.add(where)
            out += _left_over(parent_op, where, old, new)
    return out


def _left_over(
    parent_op: _Inherited, where: tuple[str, str, str], old: Schema, new: Schema
) -> list[Op]:
    """What the partition's column still needs after the parent's change reached it."""
    s, t, name = where
    target_table = new.table(t, s)
    target = target_table.column(name) if target_table is not None else None
    if isinstance(parent_op, DropColumn) or target is None:
        return []
    if isinstance(parent_op, AddColumn):
        reached = parent_op.column
    else:
        before_table = old.table(t, s)
        before = before_table.column(name) if before_table is not None else None
        if before is None:
            return []
        touched = parent_op.old_default is not None or parent_op.new_default is not None
        reached = replace(
            before,
            type=parent_op.new_type,
            collation=parent_op.collation,
            default=parent_op.new_default if touched else before.default,
        )
    left: list[Op] = []
    if reached.default != target.default and target.identity is None:
        if target.default is None:
            left.append(DropDefault(s, t, name, reached.default))
        else:
            left.append(SetDefault(s, t, name, target.default))
    if reached.nullable != target.nullable:
        left.append(DropNotNull(s, t, name) if target.nullable else SetNotNull(s, t, name))
    return left
