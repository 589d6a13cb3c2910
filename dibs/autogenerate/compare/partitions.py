"""Column changes a partitioned table passes on to its partitions.

Postgres adds, drops and retypes a column of every partition when it does so
on the partitioned table (and refuses to do it on a partition alone: "cannot
add column to a partition", "cannot alter inherited column"); setting or
dropping a default or NOT NULL on the parent reaches the partitions too.
Comparing each table on its own yields the change on the parent *and* on
every partition. This pass keeps the parent's operation, tells it which
partitions it reaches (its ``partitions``: the simulation and the ordering
keys follow them), and replaces the partitions' own operations on that
column with what is left once the parent's change reached them: a default
or NOT NULL the partition has beyond the parent's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.errors import ExpressionError
from dibs.ops import (
    AddColumn,
    AddPrimaryKey,
    AlterColumnType,
    AttachIndex,
    CreateIndex,
    DropColumn,
    DropDefault,
    DropIndex,
    DropNotNull,
    DropPrimaryKey,
    Op,
    SetDefault,
    SetNotNull,
)
from dibs.ops.columns import implied_drops
from dibs.ops.tables import partition_parent
from dibs.schema.expressions import referenced_columns
from dibs.schema.model import Column, Exclusion, Index, PrimaryKey, Schema, Table, Unique

__all__ = [
    "attach_partition_indexes",
    "check_key_backing_drops",
    "check_parent_indexes",
    "detached_partition",
    "inherit_column_changes",
    "name_partition_indexes",
    "partition_key_columns",
    "refuse_key_column_retype",
]

TableKey = tuple[str, str]
ColumnKey = tuple[str, str, str]
_Inherited = (
    AddColumn | DropColumn | AlterColumnType | SetDefault | DropDefault | SetNotNull | DropNotNull
)


def _column_of(op: Op) -> ColumnKey | None:
    """(schema, table, column) of an operation on one column, else None."""
    column = getattr(op, "column", None)
    name = column.name if isinstance(column, Column) else column
    schema, table = getattr(op, "schema", None), getattr(op, "table", None)
    if not isinstance(name, str) or not isinstance(schema, str) or not isinstance(table, str):
        return None
    return (schema, table, name)


def _partitions(old: Schema, new: Schema) -> dict[TableKey, list[TableKey]]:
    """Partitions present on both sides under the same parent, by parent."""
    children: dict[TableKey, list[TableKey]] = defaultdict(list)
    for table in new.tables:
        parent = partition_parent(table)
        if parent is None:
            continue
        before = old.table(table.name, table.schema)
        if before is not None and partition_parent(before) == parent:
            children[parent].append(table.key)
    return children


def _descendants(children: dict[TableKey, list[TableKey]], key: TableKey) -> tuple[TableKey, ...]:
    out: list[TableKey] = []
    for child in children.get(key, []):
        out += [child, *_descendants(children, child)]
    return tuple(out)


def _column(schema: Schema, key: ColumnKey) -> Column | None:
    table = schema.table(key[1], key[0])
    return table.column(key[2]) if table is not None else None


def inherit_column_changes(ops: list[Op], old: Schema, new: Schema) -> list[Op]:
    """Return ``ops`` with column changes of partitioned tables passed on (module docstring)."""
    children = _partitions(old, new)
    if not children:
        return ops
    parent_of = {child: parent for parent, kids in children.items() for child in kids}

    def ancestors(key: TableKey) -> list[TableKey]:
        out = []
        while key in parent_of:
            key = parent_of[key]
            out.append(key)
        return out

    changed = {
        where for op in ops if isinstance(op, _Inherited) and (where := _column_of(op)) is not None
    }
    # The topmost table of a tree with a change to a column: its changes reach the
    # partitions below, whose own changes to that column are replaced.
    tops = {
        where
        for where in changed
        if (where[0], where[1]) in children
        and not any((*a, where[2]) in changed for a in ancestors((where[0], where[1])))
    }
    covered = {
        (s, t, where[2]) for where in tops for s, t in _descendants(children, (where[0], where[1]))
    }
    out: list[Op] = []
    settled: set[ColumnKey] = set()
    for op in ops:
        where = _column_of(op)
        if where is not None and where in covered:
            continue  # replaced by what the partition still needs (_settle)
        if where is None or not isinstance(op, _Inherited):
            out.append(op)
            continue
        if where not in tops:
            out.append(op)
            continue
        table = (where[0], where[1])
        reaching = _reaching(op, _descendants(children, table), old, where[2])
        out.append(reaching)
        settled.add(where)
    for where in sorted(settled):
        own = [o for o in out if isinstance(o, _Inherited) and _column_of(o) == where]
        out += _settle((where[0], where[1]), where[2], own, children, old, new)
        if any(isinstance(o, DropNotNull) for o in own):
            out += _rebuild_keys(where, children, old, new, out)
    return out


def _rebuild_keys(
    where: ColumnKey,
    children: dict[TableKey, list[TableKey]],
    old: Schema,
    new: Schema,
    ops: list[Op],
) -> list[Op]:
    """Primary keys of partitions on a column whose NOT NULL the parent drops.

    Postgres refuses ``DROP NOT NULL`` on the parent while a partition's
    primary key holds the column ("column is in a primary key"), with or
    without ``ONLY``: the key is dropped first and added again after.
    """
    replaced = {(o.schema, o.table) for o in ops if isinstance(o, DropPrimaryKey)}
    out: list[Op] = []
    for s, t in _descendants(children, (where[0], where[1])):
        before, after = old.table(t, s), new.table(t, s)
        if before is None or after is None or (s, t) in replaced:
            continue
        pk = before.primary_key
        if pk is not None and where[2] in pk.columns and after.primary_key == pk:
            out += [DropPrimaryKey(s, t, pk), AddPrimaryKey(s, t, pk, in_partition_tree=True)]
    return out


def _settle(
    table: TableKey,
    name: str,
    reaching: list[_Inherited],
    children: dict[TableKey, list[TableKey]],
    old: Schema,
    new: Schema,
) -> list[Op]:
    """The partitions' own settings of column ``name``, level by level below ``table``."""
    out: list[Op] = []
    for child in children.get(table, []):
        where = (*child, name)
        left = _left_over(reaching, where, old, new)
        parts = _descendants(children, child)
        left = [replace(op, partitions=parts) for op in left] if parts else left
        out += left
        out += _settle(child, name, [*reaching, *left], children, old, new)
    return out


def _reaching(op: _Inherited, parts: tuple[TableKey, ...], old: Schema, name: str) -> _Inherited:
    """``op`` told which partitions it reaches, with what that implies."""
    op = replace(op, partitions=parts)
    if isinstance(op, AlterColumnType) and op.old_default is None:
        # Postgres casts each partition's own default too: the parent's DROP
        # DEFAULT (which reaches the partitions) has to run first.
        own = [c.default for s, t in parts if (c := _column(old, (s, t, name))) is not None]
        if any(d is not None for d in own):
            op = replace(op, old_default=next(d for d in own if d is not None))
    if isinstance(op, DropColumn):
        implied = set(op.implied)
        for s, t in parts:
            table = old.table(t, s)
            if table is not None:
                implied |= implied_drops(table, name)
        op = replace(op, implied=frozenset(implied))
    return op


def _after(column: Column | None, op: _Inherited) -> Column | None:
    """A partition's column once the parent's ``op`` reached it."""
    if isinstance(op, AddColumn):
        return op.column
    if column is None or isinstance(op, DropColumn):
        return None
    if isinstance(op, AlterColumnType):
        touched = op.old_default is not None or op.new_default is not None
        return replace(
            column,
            type=op.new_type,
            collation=op.collation,
            default=op.new_default if touched else column.default,
        )
    if isinstance(op, SetDefault):
        return replace(column, default=op.default)
    if isinstance(op, DropDefault):
        return replace(column, default=None)
    return replace(column, nullable=isinstance(op, DropNotNull))


def _left_over(
    parent_ops: list[_Inherited], where: ColumnKey, old: Schema, new: Schema
) -> list[_Inherited]:
    """What the partition's column still needs after the parent's changes reached it."""
    s, t, name = where
    target = _column(new, where)
    reached = _column(old, where)
    for op in parent_ops:
        reached = _after(reached, op)
    if target is None or reached is None:
        return []
    left: list[_Inherited] = []
    if reached.default != target.default and target.identity is None:
        if target.default is None:
            left.append(DropDefault(s, t, name, reached.default))
        else:
            left.append(SetDefault(s, t, name, target.default))
    if reached.nullable != target.nullable:
        left.append(DropNotNull(s, t, name) if target.nullable else SetNotNull(s, t, name))
    return left


def _definition(index: Index) -> Index:
    """What Postgres compares when it looks for a partition index to attach."""
    return replace(index, name="", comment=None, storage=())


def check_parent_indexes(ops: list[Op], old: Schema, new: Schema) -> None:
    """Refuse a new index on a partitioned table that a partition's own index duplicates.

    Postgres builds such an index by attaching each partition's matching index
    when there is one, so a partition index the target keeps as the
    partition's own would stop being it. (An own index that the target does
    not keep is dropped first: the planner orders it so.)

    Raises:
        UnsupportedChange: naming both indexes.
    """
    children = _partitions(old, new)
    for op in ops:
        if not isinstance(op, CreateIndex) or (op.schema, op.table) not in children:
            continue
        wanted = _definition(op.index)
        for s, t in _descendants(children, (op.schema, op.table)):
            before, after = old.table(t, s), new.table(t, s)
            if before is None or after is None:
                continue
            kept = {i.name for i in before.indexes} & {i.name for i in after.indexes}
            for index in after.indexes:
                if index.name in kept and _definition(index) == wanted:
                    raise UnsupportedChange(
                        f"index {op.index.name} on partitioned table {op.table} has the "
                        f"definition of {t}'s own index {index.name}, which the schema keeps: "
                        "Postgres would attach that index to the new one",
                        location=op.index.location,
                        hint=f"drop {index.name} (the new index covers {t}), or give the "
                        "two indexes different definitions",
                    )


def partition_key_columns(table: Table) -> frozenset[str]:
    """The columns a partitioned table's key reads (``RANGE (a, lower(b))``: a and b).

    Postgres refuses to retype or drop them ("cannot alter column … because it is
    part of the partition key"). When the key does not parse as an expression list
    (an operator class after a column), every identifier in it counts: a wider set
    only makes dibs refuse where Postgres might not have.
    """
    spec = table.partition_by
    if spec is None or "(" not in spec:
        return frozenset()
    inner = spec[spec.index("(") + 1 : spec.rindex(")")]
    try:
        return frozenset(referenced_columns(inner))
    except ExpressionError:
        words = re.findall(r'"(?:[^"]|"")+"|\w+', inner)
        return frozenset(w[1:-1].replace('""', '"') if w.startswith('"') else w for w in words)


def refuse_key_column_retype(table: Table, columns: set[str] | list[str], why: str) -> None:
    """Raise when ``columns`` (about to be retyped or re-created) hold ``table``'s partition key."""
    hit = sorted(set(columns) & partition_key_columns(table))
    if hit:
        raise UnsupportedChange(
            f"column {table.schema}.{table.name}.{hit[0]} is part of the table's partition key "
            f"and {why}: Postgres cannot change the type of a partition key column",
            hint="re-create the partitioned table and copy its rows in a hand-written "
            "migration (`dibs generate --empty`)",
        )


def name_partition_indexes(ops: list[Op], new: Schema) -> list[Op]:
    """Give a new index on a partitioned table the partitions' copies ``new`` names.

    Postgres builds a partitioned index's copy on every partition under a name of
    its own choosing, unless the partition already has an index of that definition,
    which it attaches. Where the target (a live database: ``Table.attached_indexes``)
    records the copies' names, they are built first, deepest level first, and the
    parent's index attaches them (``CreateIndex.partition_indexes``).
    """
    children: dict[TableKey, list[Table]] = defaultdict(list)
    for table in new.tables:
        parent = partition_parent(table)
        if parent is not None:
            children[parent].append(table)
    if not children:
        return ops

    def copies(key: TableKey, index_name: str) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for child in sorted(children.get(key, []), key=lambda t: t.key):
            own = dict(child.attached_indexes).get(index_name)
            if own is None:
                continue  # Postgres names it; nothing recorded to follow
            if own in _own_index_names(child):
                continue  # the partition's own key or index, built by its own operation
            found += copies(child.key, own)  # the deeper level first
            found.append((child.schema, child.name, own))
        return found

    out: list[Op] = []
    for op in ops:
        if isinstance(op, CreateIndex) and (op.schema, op.table) in children:
            named = copies((op.schema, op.table), op.index.name)
            if named:
                op = replace(op, partition_indexes=tuple(named))
        out.append(op)
    return out


def _own_index_names(table: Table) -> set[str]:
    """Names of the indexes ``table`` has in the model: its own indexes and keys."""
    return {i.name for i in table.indexes} | _key_names(table)


def _key_names(table: Table) -> set[str]:
    """Names of ``table``'s primary key, unique and exclusion constraints (and their indexes)."""
    names = {u.name for u in table.uniques} | {x.name for x in table.exclusions}
    if table.primary_key is not None:
        names.add(table.primary_key.name)
    return names


def attach_partition_indexes(ops: list[Op], old: Schema, new: Schema) -> list[Op]:
    """Attach a partition's own index where the target has it attached, instead of dropping it.

    The model keeps an attached index as the parent's, so a partition index that
    the target attaches to an existing parent index (one built ``ON ONLY``, still
    waiting for it) looks dropped. When the target records the attachment
    (``attached_indexes``), the source has the index as the partition's own with
    the parent index's definition, and the parent index exists on both sides,
    the drop becomes an ``AttachIndex``.
    """
    out: list[Op] = []
    for op in ops:
        attach = _attachment(op, old, new) if isinstance(op, DropIndex) else None
        out.append(attach or op)
    return out


def _attachment(op: DropIndex, old: Schema, new: Schema) -> AttachIndex | None:
    target = new.table(op.table, op.schema)
    source = old.table(op.table, op.schema)
    if target is None or source is None:
        return None
    parent_key = partition_parent(target)
    if parent_key is None or parent_key != partition_parent(source):
        return None
    wanted = {own: parent for parent, own in target.attached_indexes}
    parent_index = wanted.get(op.index.name)
    if parent_index is None or parent_index in dict(source.attached_indexes):
        return None
    before, after = old.table(parent_key[1], parent_key[0]), new.table(parent_key[1], parent_key[0])
    if before is None or after is None:
        return None
    index = op.index
    key: str | None = None
    plain = [i for i in after.indexes if i.name == parent_index]
    if plain:
        if plain[0] not in before.indexes or _definition(plain[0]) != _definition(
            replace(index, name=plain[0].name)
        ):
            return None
    else:
        con: PrimaryKey | Unique | None = None
        if after.primary_key is not None and after.primary_key.name == parent_index:
            con, key = after.primary_key, "PRIMARY KEY"
        else:
            con = next((u for u in after.uniques if u.name == parent_index), None)
            key = "UNIQUE"
        if con is None or not _backs(index, con.columns):
            return None
        kept = (before.primary_key,) if key == "PRIMARY KEY" else before.uniques
        if con not in kept:
            return None
        if isinstance(con, Unique) and con.nulls_not_distinct != index.nulls_not_distinct:
            return None
    return AttachIndex(op.schema, op.table, index, parent_key[0], parent_index, key)


def _backs(index: Index, columns: tuple[str, ...]) -> bool:
    """Whether ``index`` has the shape of a key's index on ``columns``."""
    plain_keys = all(
        e.expression is None
        and not e.descending
        and not e.nulls_first
        and e.opclass is None
        and e.collation is None
        for e in index.elements
    )
    return (
        index.unique
        and index.method == "btree"
        and index.where is None
        and not index.include
        and plain_keys
        and tuple(e.column for e in index.elements) == columns
    )


def detached_partition(table: Table, parent: Table) -> Table | None:
    """``table`` as ``ALTER TABLE parent DETACH PARTITION table`` leaves it, if the names are known.

    The copies of the parent's indexes and keys become the table's own under the
    names the source recorded (``attached_indexes``); without a recorded name
    (a schema from code, not from a live database) there is no telling, and
    ``None`` says so. The parent's checks (but ``NO INHERIT`` ones) and foreign
    keys become the table's own under their names. Copies carry no comments.
    """
    own = dict(table.attached_indexes)
    copied: list[Unique | Exclusion | Index] = [
        *parent.uniques,
        *parent.exclusions,
        *parent.indexes,
    ]
    if parent.primary_key is not None and parent.primary_key.name not in own:
        return None
    if any(x.name not in own for x in copied):
        return None
    primary_key = table.primary_key
    if parent.primary_key is not None:
        primary_key = replace(parent.primary_key, name=own[parent.primary_key.name], comment=None)
    uniques = [replace(u, name=own[u.name], comment=None) for u in parent.uniques]
    exclusions = [replace(x, name=own[x.name], comment=None) for x in parent.exclusions]
    indexes = [replace(i, name=own[i.name], comment=None) for i in parent.indexes]
    checks = [replace(c, comment=None) for c in parent.checks if not c.no_inherit]
    foreign_keys = [replace(f, comment=None) for f in parent.foreign_keys]
    return replace(
        table,
        partition_of=None,
        partition_bound=None,
        attached_indexes=(),
        primary_key=primary_key,
        uniques=_named(table.uniques, uniques),
        exclusions=_named(table.exclusions, exclusions),
        indexes=_named(table.indexes, indexes),
        checks=_named(table.checks, checks),
        foreign_keys=_named(table.foreign_keys, foreign_keys),
    )


def _named(mine: tuple[Any, ...], inherited: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted((*mine, *inherited), key=lambda c: c.name))


def check_key_backing_drops(ops: list[Op], old: Schema) -> None:
    """Refuse dropping a partitioned table's index whose copy backs a partition's own key.

    When a partition's primary key or unique constraint uses the index attached to
    the parent's plain index, neither can go first: Postgres refuses to drop the
    parent's index ("other objects depend on it") and to drop the partition's
    key (its index belongs to the parent's). Only ``DROP INDEX … CASCADE`` does
    it, which dibs never plans by itself (pg-schema-diff refuses these too).
    """
    drops = [op for op in ops if isinstance(op, DropIndex)]
    if not drops:
        return
    children: dict[TableKey, list[Table]] = defaultdict(list)
    for table in old.tables:
        if table.attached_indexes and (parent := partition_parent(table)) is not None:
            children[parent].append(table)
    for op in drops:
        for child in children.get((op.schema, op.table), []):
            own = dict(child.attached_indexes).get(op.index.name)
            if own is not None and own in _key_names(child):
                raise UnsupportedChange(
                    f"index {op.index.name} on {op.table} cannot be dropped: the key "
                    f"{own} of partition {child.qualified_name} uses its copy, and Postgres "
                    "can drop neither the index nor the key first",
                    hint="write the change by hand (`dibs generate --empty`): drop the "
                    f"index with CASCADE (it takes {own} with it) after checking what "
                    "else depends on them, then add the new key",
                )
