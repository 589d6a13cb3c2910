"""Compare tables: create, drop, or compare the columns, constraints and indexes of each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from dibs.autogenerate.compare.columns import compare_columns
from dibs.autogenerate.compare.constraints import compare_constraints, compare_indexes
from dibs.autogenerate.compare.partitions import (
    attach_partition_indexes,
    check_key_backing_drops,
    check_parent_indexes,
    detached_partition,
    inherit_column_changes,
    name_partition_indexes,
)
from dibs.errors import DibsError
from dibs.ops import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    DetachPartition,
    DropConstraint,
    DropTable,
    Op,
    SetComment,
)
from dibs.ops.tables import partition_parent
from dibs.schema.model import Schema, Table

__all__ = ["compare_tables"]


def compare_tables(
    old: Schema, new: Schema, enum_types: frozenset[str], domains: Mapping[str, str]
) -> list[Op]:
    """Return table operations; ``old`` is the source with renames already applied."""
    ops: list[Op] = []
    for table in new.tables:
        before = old.table(table.name, table.schema)
        if before is None:
            parent = partition_parent(table)
            ops += _create(table, new.table(parent[1], parent[0]) if parent else None)
        elif before != table:
            detach = _detach(old, before, table)
            if detach is not None:
                ops.append(detach)
                before = detach.detached
            ops += _alter(before, table, enum_types, domains)
    for table in old.tables:
        if new.table(table.name, table.schema) is None:
            ops += _drop(table)
    check_parent_indexes(ops, old, new)
    check_key_backing_drops(ops, old)
    ops = attach_partition_indexes(ops, old, new)
    return name_partition_indexes(inherit_column_changes(ops, old, new), new)


def _detach(old: Schema, before: Table, after: Table) -> DetachPartition | None:
    """A partition leaving its tree (and staying a table): detached, when dibs can tell how."""
    parent_key = partition_parent(before)
    if parent_key is None or after.partition_of is not None:
        return None
    parent = old.table(parent_key[1], parent_key[0])
    detached = detached_partition(before, parent) if parent is not None else None
    if detached is None:
        return None
    return DetachPartition(before, detached, parent_key)


def _create(table: Table, parent: Table | None) -> list[Op]:
    """Create the table bare; foreign keys and indexes follow as their own operations."""
    s, t = table.key
    valid_checks = tuple(c for c in table.checks if not c.not_valid)
    bare = replace(table, foreign_keys=(), indexes=(), checks=valid_checks)
    ops: list[Op] = [CreateTable(bare, parent)]
    ops += [CreateIndex(s, t, i, existing_table=False) for i in table.indexes]
    ops += [
        AddConstraint(s, t, fk, existing_table=False, partitioned=table.partition_by is not None)
        for fk in table.foreign_keys
    ]
    # CREATE TABLE would store a NOT VALID check as validated: add it afterwards.
    ops += [AddConstraint(s, t, c, existing_table=False) for c in table.checks if c.not_valid]
    return ops


def _drop(table: Table) -> list[Op]:
    """Drop foreign keys to other tables first, so tables referencing each other can go."""
    s, t = table.key
    outside = [f for f in table.foreign_keys if (f.ref_schema, f.ref_table) != table.key]
    ops: list[Op] = [DropConstraint(s, t, fk) for fk in outside]
    kept = tuple(f for f in table.foreign_keys if f not in outside)
    ops.append(DropTable(replace(table, foreign_keys=kept)))
    return ops


_PARTITION_FIELDS = ("partition_by", "partition_of", "partition_bound")


def _alter(
    old: Table, new: Table, enum_types: frozenset[str], domains: Mapping[str, str]
) -> list[Op]:
    for field in _PARTITION_FIELDS:
        if getattr(old, field) != getattr(new, field):
            raise DibsError(
                f"table {new.qualified_name} changes its partitioning ({field}): "
                f"{getattr(old, field)!r} -> {getattr(new, field)!r}",
                location=new.location,
                hint="Postgres cannot alter partitioning in place; create a new table, "
                "copy the rows, and rename it in a hand-written migration (a partition "
                "that leaves its tree is detached when the source is a live database, "
                "which names the copies of the parent's indexes)",
            )
    ops, replaced = compare_columns(old, new, enum_types, domains)
    ops += compare_constraints(old, new, replaced)
    ops += compare_indexes(old, new, replaced)
    if old.comment != new.comment:
        ops.append(SetComment("table", new.schema, new.name, new.comment))
    return ops
