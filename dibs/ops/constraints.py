"""Operations on primary keys, table constraints and indexes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dibs.ops.base import (
    Hazard,
    Key,
    Op,
    column_key,
    constraint_key,
    get_table,
    index_key,
    index_unique_columns,
    replace_table,
    table_key,
    unique_key,
)
from dibs.ops.columns import column_type_key, nullable_key
from dibs.ops.tables import fk_targets
from dibs.schema.expressions import referenced_columns
from dibs.schema.model import Check, Exclusion, ForeignKey, Index, PrimaryKey, Schema, Table, Unique

__all__ = [
    "AddConstraint",
    "AddPrimaryKey",
    "Constraint",
    "CreateIndex",
    "DropConstraint",
    "DropIndex",
    "DropPrimaryKey",
    "RenameConstraint",
    "RenameIndex",
    "SetConstraintComment",
    "constraint_columns",
    "index_columns",
]

Constraint = Unique | ForeignKey | Check | Exclusion
_BUILD = (Hazard.INDEX_BUILD_BLOCKS_WRITES, Hazard.ACCESS_EXCLUSIVE_LOCK)


def constraint_columns(con: Constraint | PrimaryKey) -> tuple[str, ...]:
    """Columns of its own table a constraint reads."""
    if isinstance(con, Check):
        return tuple(referenced_columns(con.expression))
    if isinstance(con, Exclusion):
        found: list[str] = []
        for text in [e.expression for e in con.elements] + ([con.where] if con.where else []):
            found += referenced_columns(text)
        return tuple(dict.fromkeys(found))
    return con.columns


def index_columns(index: Index) -> tuple[str, ...]:
    """Columns an index reads: keys, expression keys, INCLUDE and WHERE."""
    found: list[str] = []
    for e in index.elements:
        found += [e.column] if e.column else referenced_columns(e.expression or "")
    found += index.include
    found += referenced_columns(index.where) if index.where else []
    return tuple(dict.fromkeys(found))


_KINDS: dict[type, tuple[str, str]] = {
    Unique: ("unique", "uniques"),
    ForeignKey: ("foreign key", "foreign_keys"),
    Check: ("check", "checks"),
    Exclusion: ("exclusion", "exclusions"),
}


def _kind(con: Constraint) -> str:
    return _KINDS[type(con)][0]


def _field(con: Constraint) -> str:
    """The ``Table`` field holding constraints of this kind."""
    return _KINDS[type(con)][1]


def _with(table: Table, field: str, value: tuple[Any, ...]) -> Table:
    changes: dict[str, Any] = {field: value}
    return replace(table, **changes)


def _own_columns(schema: str, table: str, columns: tuple[str, ...]) -> set[Key]:
    """The table, its columns and their types: a constraint or index that is dropped goes
    before its columns change type (its expression may not fit the new type), and one
    that is added comes after."""
    keys = {table_key(schema, table)} | {column_key(schema, table, c) for c in columns}
    return keys | {column_type_key(schema, table, c) for c in columns}


def _constraint_keys(schema: str, table: str, con: Constraint | PrimaryKey) -> frozenset[Key]:
    keys = {constraint_key(schema, table, con.name)}
    if isinstance(con, Unique | Exclusion | PrimaryKey):
        keys.add(index_key(schema, con.name))
    if isinstance(con, Unique | PrimaryKey):
        keys.add(unique_key(schema, table, con.columns))
    if isinstance(con, PrimaryKey):
        keys.add(("primary key", schema, table))
    return frozenset(keys)


def _index_keys(schema: str, table: str, index: Index) -> frozenset[Key]:
    keys = {index_key(schema, index.name)}
    columns = index_unique_columns(index)
    if columns:
        keys.add(unique_key(schema, table, columns))
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class AddPrimaryKey(Op):
    """Add a primary key.

    On an existing table outside a partition tree the index is built first
    (``CREATE UNIQUE INDEX``: a SHARE lock, reads go on) and then turned into
    the key (``ADD CONSTRAINT … USING INDEX``: a brief ACCESS EXCLUSIVE lock);
    ``ALTER TABLE … ADD PRIMARY KEY`` would hold ACCESS EXCLUSIVE for the whole
    build. Postgres refuses ``USING INDEX`` on partitioned tables, so there and
    on partitions the key is added in one step.
    """

    schema: str
    table: str
    primary_key: PrimaryKey
    existing_table: bool = True
    in_partition_tree: bool = False

    def describe(self) -> str:
        return f"add primary key {self.primary_key.name} ({', '.join(self.primary_key.columns)})"

    @property
    def builds_index_first(self) -> bool:
        return self.existing_table and not self.in_partition_tree

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        if not self.existing_table:
            return ()
        return (Hazard.INDEX_BUILD_BLOCKS_WRITES,) if self.builds_index_first else _BUILD

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        pk_cols = set(self.primary_key.columns)
        cols = tuple(replace(c, nullable=False) if c.name in pk_cols else c for c in table.columns)
        new = replace(table, primary_key=self.primary_key, columns=cols)
        return replace_table(schema, table, new)

    def creates(self) -> frozenset[Key]:
        return _constraint_keys(self.schema, self.table, self.primary_key)

    def requires(self) -> frozenset[Key]:
        return frozenset(_own_columns(self.schema, self.table, self.primary_key.columns))


@dataclass(frozen=True, slots=True)
class DropPrimaryKey(Op):
    """Drop a primary key; its columns stay NOT NULL, as in Postgres."""

    schema: str
    table: str
    primary_key: PrimaryKey
    removes = True

    def describe(self) -> str:
        return f"drop primary key {self.primary_key.name} of {self.table}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.INDEX_DROPPED,)  # the key's index goes with it

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        return replace_table(schema, table, replace(table, primary_key=None))

    def creates(self) -> frozenset[Key]:
        return frozenset(nullable_key(self.schema, self.table, c) for c in self.primary_key.columns)

    def drops(self) -> frozenset[Key]:
        return _constraint_keys(self.schema, self.table, self.primary_key)

    def requires(self) -> frozenset[Key]:
        return frozenset(_own_columns(self.schema, self.table, self.primary_key.columns))


@dataclass(frozen=True, slots=True)
class AddConstraint(Op):
    """Add a unique, foreign key, check or exclusion constraint.

    On an existing table a foreign key or check is added ``NOT VALID`` and then
    validated, so the scan does not block writes (it still reads the table).
    Postgres cannot add a ``NOT VALID`` foreign key to a partitioned table
    (``partitioned``): there it is added, and checked, in one step. A unique
    constraint on an existing table outside a partition tree is built as an
    index first and then attached, as ``AddPrimaryKey`` explains.
    """

    schema: str
    table: str
    constraint: Constraint
    existing_table: bool = True
    partitioned: bool = False
    in_partition_tree: bool = False

    def describe(self) -> str:
        return f"add {_kind(self.constraint)} {self.constraint.name} on {self.table}"

    @property
    def builds_index_first(self) -> bool:
        return (
            isinstance(self.constraint, Unique)
            and self.existing_table
            and not self.in_partition_tree
        )

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        if not self.existing_table:
            return ()
        if isinstance(self.constraint, ForeignKey | Check):
            return () if self.constraint.not_valid else (Hazard.CONSTRAINT_SCAN,)
        return (Hazard.INDEX_BUILD_BLOCKS_WRITES,) if self.builds_index_first else _BUILD

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        field = _field(self.constraint)
        current = getattr(table, field)
        return replace_table(schema, table, _with(table, field, (*current, self.constraint)))

    def creates(self) -> frozenset[Key]:
        return _constraint_keys(self.schema, self.table, self.constraint)

    def requires(self) -> frozenset[Key]:
        cols = constraint_columns(self.constraint)
        keys = _own_columns(self.schema, self.table, cols)
        if isinstance(self.constraint, ForeignKey):
            keys |= fk_targets(self.constraint)
        return frozenset(keys)


@dataclass(frozen=True, slots=True)
class ValidateConstraint(Op):
    """Validate a ``NOT VALID`` check or foreign key (``ALTER TABLE … VALIDATE CONSTRAINT``).

    The scan takes SHARE UPDATE EXCLUSIVE: writes go on. Postgres cannot make a
    valid constraint ``NOT VALID`` again; that direction is a drop and re-add.
    """

    schema: str
    table: str
    constraint: Check | ForeignKey

    def describe(self) -> str:
        return f"validate {_kind(self.constraint)} {self.constraint.name} on {self.table}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.CONSTRAINT_SCAN,)

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        field = _field(self.constraint)
        name = self.constraint.name
        updated = tuple(self.constraint if c.name == name else c for c in getattr(table, field))
        return replace_table(schema, table, _with(table, field, updated))

    def requires(self) -> frozenset[Key]:
        return _constraint_keys(self.schema, self.table, self.constraint)


@dataclass(frozen=True, slots=True)
class DropConstraint(Op):
    schema: str
    table: str
    constraint: Constraint
    removes = True

    def describe(self) -> str:
        return f"drop {_kind(self.constraint)} {self.constraint.name} on {self.table}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        # Unique and exclusion constraints are backed by an index, dropped with them.
        return (Hazard.INDEX_DROPPED,) if isinstance(self.constraint, Unique | Exclusion) else ()

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        field = _field(self.constraint)
        kept = tuple(c for c in getattr(table, field) if c.name != self.constraint.name)
        return replace_table(schema, table, _with(table, field, kept))

    def drops(self) -> frozenset[Key]:
        return _constraint_keys(self.schema, self.table, self.constraint)

    def requires(self) -> frozenset[Key]:
        cols = constraint_columns(self.constraint)
        keys = _own_columns(self.schema, self.table, cols)
        if isinstance(self.constraint, ForeignKey):
            keys |= fk_targets(self.constraint)
        return frozenset(keys)


@dataclass(frozen=True, slots=True)
class RenameConstraint(Op):
    """Rename a constraint whose definition is unchanged (e.g. after a table rename)."""

    schema: str
    table: str
    old: str
    new: str
    has_index: bool = False
    moves = True

    def describe(self) -> str:
        return f"rename constraint {self.old} on {self.table} to {self.new}"

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        pk = table.primary_key
        changes: dict[str, Any] = {}
        if pk is not None and pk.name == self.old:
            changes["primary_key"] = replace(pk, name=self.new)
        for field in ("uniques", "foreign_keys", "checks", "exclusions"):
            changes[field] = tuple(
                replace(c, name=self.new) if c.name == self.old else c
                for c in getattr(table, field)
            )
        return replace_table(schema, table, replace(table, **changes))

    def _keys(self, name: str) -> frozenset[Key]:
        keys = {constraint_key(self.schema, self.table, name)}
        if self.has_index:
            keys.add(index_key(self.schema, name))
        return frozenset(keys)

    def creates(self) -> frozenset[Key]:
        return self._keys(self.new)

    def drops(self) -> frozenset[Key]:
        return self._keys(self.old)

    def requires(self) -> frozenset[Key]:
        return frozenset({table_key(self.schema, self.table)})


@dataclass(frozen=True, slots=True)
class CreateIndex(Op):
    """Create an index; on a partitioned table, ``partition_indexes`` first.

    ``partition_indexes`` are (schema, partition, name) of the partitions' own
    copies the target names otherwise than Postgres would, deepest level
    first: each is built on its partition just before the parent's index, which
    then attaches it instead of building one under a name of its own choosing.
    The model keeps attached copies as the parent's index, so they change nothing
    in the simulation.
    """

    schema: str
    table: str
    index: Index
    existing_table: bool = True
    partition_indexes: tuple[tuple[str, str, str], ...] = ()

    def describe(self) -> str:
        return f"create index {self.index.name} on {self.table}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.INDEX_BUILD_BLOCKS_WRITES,) if self.existing_table else ()

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        return replace_table(schema, table, replace(table, indexes=(*table.indexes, self.index)))

    def creates(self) -> frozenset[Key]:
        return _index_keys(self.schema, self.table, self.index)

    def requires(self) -> frozenset[Key]:
        return frozenset(_own_columns(self.schema, self.table, index_columns(self.index)))


def _without_index(schema: Schema, s: str, t: str, name: str) -> Schema:
    """``schema`` with table ``s.t``'s index ``name`` gone from the model."""
    table = get_table(schema, (s, t))
    kept = tuple(i for i in table.indexes if i.name != name)
    return replace_table(schema, table, replace(table, indexes=kept))


@dataclass(frozen=True, slots=True)
class DropIndex(Op):
    schema: str
    table: str
    index: Index
    removes = True

    def describe(self) -> str:
        return f"drop index {self.index.name} on {self.table}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.INDEX_DROPPED,)

    def apply(self, schema: Schema) -> Schema:
        return _without_index(schema, self.schema, self.table, self.index.name)

    def drops(self) -> frozenset[Key]:
        return _index_keys(self.schema, self.table, self.index)

    def requires(self) -> frozenset[Key]:
        return frozenset(_own_columns(self.schema, self.table, index_columns(self.index)))


@dataclass(frozen=True, slots=True)
class AttachIndex(Op):
    """Attach a partition's own index to its parent's index (``ALTER INDEX … ATTACH PARTITION``).

    A parent index built ``ON ONLY`` stays invalid until every partition has an
    index attached; a partition index the target has attached is attached, not
    dropped and built again. When the parent's index backs a primary key or
    unique constraint (``key``), the partition's index first backs the same kind
    of constraint (``ADD CONSTRAINT … USING INDEX``), as Postgres requires. In the
    model the attached index becomes the parent's: it leaves the partition.
    """

    schema: str
    table: str
    index: Index
    parent_schema: str
    parent_index: str
    key: str | None = None  # "PRIMARY KEY" or "UNIQUE" when the parent's index backs one

    def describe(self) -> str:
        return f"attach index {self.index.name} on {self.table} to {self.parent_index}"

    def apply(self, schema: Schema) -> Schema:
        return _without_index(schema, self.schema, self.table, self.index.name)

    def drops(self) -> frozenset[Key]:
        return _index_keys(self.schema, self.table, self.index)

    def requires(self) -> frozenset[Key]:
        return frozenset({index_key(self.parent_schema, self.parent_index)})


@dataclass(frozen=True, slots=True)
class AlterIndexStorage(Op):
    """Change an index's storage parameters in place (``ALTER INDEX … SET/RESET``).

    No rebuild: a new ``fillfactor`` applies to pages written from now on (a
    ``REINDEX`` applies it to the whole index), so this is never a drop and
    re-create.
    """

    schema: str
    table: str
    name: str
    old: tuple[tuple[str, str], ...]
    new: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.new) or "defaults"
        return f"set storage parameters of index {self.name}: {shown}"

    @property
    def reset(self) -> tuple[str, ...]:
        kept = {k for k, _ in self.new}
        return tuple(k for k, _ in self.old if k not in kept)

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        indexes = tuple(
            replace(i, storage=self.new) if i.name == self.name else i for i in table.indexes
        )
        return replace_table(schema, table, replace(table, indexes=indexes))

    def requires(self) -> frozenset[Key]:
        return frozenset({index_key(self.schema, self.name)})


@dataclass(frozen=True, slots=True)
class RenameIndex(Op):
    schema: str
    table: str
    old: str
    new: str
    moves = True

    def describe(self) -> str:
        return f"rename index {self.old} to {self.new}"

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        indexes = tuple(
            replace(i, name=self.new) if i.name == self.old else i for i in table.indexes
        )
        return replace_table(schema, table, replace(table, indexes=indexes))

    def creates(self) -> frozenset[Key]:
        return frozenset({index_key(self.schema, self.new)})

    def drops(self) -> frozenset[Key]:
        return frozenset({index_key(self.schema, self.old)})

    def requires(self) -> frozenset[Key]:
        return frozenset({table_key(self.schema, self.table)})


@dataclass(frozen=True, slots=True)
class SetConstraintComment(Op):
    """Set (or, with ``None``, remove) the comment of a table's constraint or primary key."""

    schema: str
    table: str
    constraint: str
    comment: str | None

    def describe(self) -> str:
        action = "remove comment on" if self.comment is None else "set comment on"
        return f"{action} constraint {self.constraint} of {self.table}"

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))

        def set_on(items: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(
                replace(c, comment=self.comment) if c.name == self.constraint else c for c in items
            )

        pk = table.primary_key
        if pk is not None and pk.name == self.constraint:
            pk = replace(pk, comment=self.comment)
        new = replace(
            table,
            primary_key=pk,
            uniques=set_on(table.uniques),
            foreign_keys=set_on(table.foreign_keys),
            checks=set_on(table.checks),
            exclusions=set_on(table.exclusions),
        )
        return replace_table(schema, table, new)

    def requires(self) -> frozenset[Key]:
        return frozenset({constraint_key(self.schema, self.table, self.constraint)})
