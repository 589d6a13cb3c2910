"""Operations on one column of an existing table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from dibs.ops._rewrite import mentions, rename_in_expression
from dibs.ops.base import (
    Hazard,
    Key,
    Op,
    TypeChange,
    column_key,
    get_table,
    replace_table,
    sequence_keys_in_default,
    table_key,
    type_keys,
)
from dibs.schema.model import (
    Column,
    Exclusion,
    ExclusionElement,
    ForeignKey,
    IdentityKind,
    IdentityOptions,
    Index,
    IndexElement,
    Schema,
    Table,
)

__all__ = [
    "AddColumn",
    "AddIdentity",
    "AlterColumnType",
    "AlterIdentity",
    "AlterIdentityOptions",
    "DropColumn",
    "DropDefault",
    "DropIdentity",
    "DropNotNull",
    "RenameColumn",
    "SetDefault",
    "SetNotNull",
    "nullable_key",
]

# Defaults Postgres must evaluate per row, so ADD COLUMN rewrites the table.
_VOLATILE = re.compile(r"\b(random|gen_random_uuid|uuid_generate_v\w+|clock_timestamp|nextval)\(")


def _alter(schema: Schema, s: str, t: str, c: str, **changes: Any) -> Schema:
    table = get_table(schema, (s, t))
    cols = tuple(replace(col, **changes) if col.name == c else col for col in table.columns)
    return replace_table(schema, table, replace(table, columns=cols))


def _each_partition(schema: Schema, partitions: tuple[tuple[str, str], ...], change: Any) -> Schema:
    """Apply ``change(table) -> table`` to the partitions Postgres changes with their parent.

    A partition the plan drops first is simply not there any more.
    """
    for key in partitions:
        table = schema.table(key[1], key[0])
        if table is not None:
            schema = replace_table(schema, table, change(table))
    return schema


def _partition_keys(partitions: tuple[tuple[str, str], ...], column: str) -> set[Key]:
    return {column_key(s, t, column) for s, t in partitions}


_MAY_BE_NULL = "may-be-null"


def nullable_key(schema: str, table: str, column: str) -> Key:
    """Created by ``DropPrimaryKey`` (or a ``DropColumn`` taking the key with it): a
    primary key column may only lose NOT NULL after the key is gone."""
    return (_MAY_BE_NULL, schema, table, column)


@dataclass(frozen=True, slots=True)
class AddColumn(Op):
    """Add a column; on a partitioned table Postgres adds it to ``partitions`` too."""

    schema: str
    table: str
    column: Column
    partitions: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"add column {self.table}.{self.column.name} {self.column.type}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        col = self.column
        found: list[Hazard] = []
        if col.generated or col.identity or (col.default and _VOLATILE.search(col.default)):
            found += [Hazard.TABLE_REWRITE, Hazard.ACCESS_EXCLUSIVE_LOCK]
        if not col.nullable and col.default is None and not (col.identity or col.generated):
            found.append(Hazard.NOT_NULL_SCAN)
        return tuple(found)

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        schema = replace_table(schema, table, replace(table, columns=(*table.columns, self.column)))
        return _each_partition(
            schema, self.partitions, lambda p: replace(p, columns=(*p.columns, self.column))
        )

    def creates(self) -> frozenset[Key]:
        own = column_key(self.schema, self.table, self.column.name)
        return frozenset({own, *_partition_keys(self.partitions, self.column.name)})

    def requires(self) -> frozenset[Key]:
        needs = {table_key(self.schema, self.table)} | type_keys(self.column.type)
        needs |= sequence_keys_in_default(self.column.default)
        if self.column.generated:
            needs |= _columns_in(self.schema, self.table, self.column.generated)
        return frozenset(needs)


def _columns_in(schema: str, table: str, expression: str) -> set[Key]:
    """Keys of the columns an expression reads, and of their types (a generated column
    cannot outlive a type change of a column it reads)."""
    from dibs.schema.expressions import referenced_columns

    names = referenced_columns(expression)
    return {column_key(schema, table, c) for c in names} | {
        column_type_key(schema, table, c) for c in names
    }


@dataclass(frozen=True, slots=True)
class DropColumn(Op):
    """Drop a column; Postgres drops this table's indexes and constraints on it too."""

    schema: str
    table: str
    column: Column
    # Keys of this table's constraints and indexes on the column, which Postgres
    # drops with it (see ``implied_drops``): a new one of the same name comes after.
    implied: frozenset[Key] = frozenset()
    # On a partitioned table Postgres drops the column from every partition too.
    partitions: tuple[tuple[str, str], ...] = ()
    removes = True

    def describe(self) -> str:
        return f"drop column {self.table}.{self.column.name}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        # A generated column's values are recomputed from the others: nothing is lost.
        return () if self.column.generated else (Hazard.DATA_LOSS,)

    def apply(self, schema: Schema) -> Schema:
        table = get_table(schema, (self.schema, self.table))
        name = self.column.name
        owners = {(self.schema, self.table, name), *((s, t, name) for s, t in self.partitions)}
        kept = tuple(q for q in schema.sequences if q.owned_by not in owners)
        schema = replace(schema, sequences=kept)
        schema = replace_table(schema, table, _without_column(table, name))
        return _each_partition(schema, self.partitions, lambda p: _without_column(p, name))

    def drops(self) -> frozenset[Key]:
        implied = {k for k in self.implied if k[0] != _MAY_BE_NULL}
        own = column_key(self.schema, self.table, self.column.name)
        return frozenset({own, *implied, *_partition_keys(self.partitions, self.column.name)})

    def creates(self) -> frozenset[Key]:
        # The primary key goes with the column: its other columns may then lose NOT NULL.
        return frozenset(k for k in self.implied if k[0] == _MAY_BE_NULL)

    def requires(self) -> frozenset[Key]:
        return frozenset({table_key(self.schema, self.table)} | type_keys(self.column.type))

    def releases(self) -> frozenset[Key]:
        """A generated column goes before the columns its expression reads are dropped."""
        if not self.column.generated:
            return frozenset()
        return frozenset(_columns_in(self.schema, self.table, self.column.generated))

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        return frozenset({(self.schema, self.table)})


def implied_drops(table: Table, name: str) -> frozenset[Key]:
    """Keys of the constraints and indexes of ``table`` that dropping column ``name`` drops.

    When the primary key goes, the ``nullable_key`` of its other columns is
    included too (``DropColumn`` creates those, see ``nullable_key``).
    """
    from dibs.ops.tables import table_objects

    before = table_objects(table)
    after = table_objects(_without_column(table, name))
    gone = {k for k in before - after if k[0] != "column"}
    pk = table.primary_key
    if pk is not None and name in pk.columns:
        gone |= {nullable_key(table.schema, table.name, c) for c in pk.columns if c != name}
    return frozenset(gone)


def _index_mentions(index: Index, name: str) -> bool:
    return (
        name in index.include
        or mentions(index.where, name)
        or any(e.column == name or mentions(e.expression, name) for e in index.elements)
    )


def _exclusion_mentions(exc: Exclusion, name: str) -> bool:
    return mentions(exc.where, name) or any(mentions(e.expression, name) for e in exc.elements)


def _without_column(table: Table, name: str) -> Table:
    """Return ``table`` without column ``name`` and the objects Postgres drops with it."""
    pk = table.primary_key
    return replace(
        table,
        columns=tuple(c for c in table.columns if c.name != name),
        primary_key=None if pk is not None and name in pk.columns else pk,
        uniques=tuple(u for u in table.uniques if name not in u.columns),
        foreign_keys=tuple(f for f in table.foreign_keys if name not in f.columns),
        checks=tuple(c for c in table.checks if not mentions(c.expression, name)),
        exclusions=tuple(e for e in table.exclusions if not _exclusion_mentions(e, name)),
        indexes=tuple(i for i in table.indexes if not _index_mentions(i, name)),
    )


@dataclass(frozen=True, slots=True)
class RenameColumn(Op):
    """Rename a column; Postgres renames it inside every expression and key that uses it."""

    schema: str
    table: str
    old: str
    new: str
    moves = True

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old} to {self.new}"

    def apply(self, schema: Schema) -> Schema:
        key = (self.schema, self.table)
        tables = []
        for table in schema.tables:
            if table.key == key:
                table = _rename_in_table(table, self.old, self.new)
            tables.append(_rename_fk_refs(table, key, self.old, self.new))
        seqs = tuple(
            replace(q, owned_by=(self.schema, self.table, self.new))
            if q.owned_by == (self.schema, self.table, self.old)
            else q
            for q in schema.sequences
        )
        return replace(schema, tables=tuple(tables), sequences=seqs).normalized()

    def creates(self) -> frozenset[Key]:
        return frozenset({column_key(self.schema, self.table, self.new)})

    def drops(self) -> frozenset[Key]:
        return frozenset({column_key(self.schema, self.table, self.old)})

    def requires(self) -> frozenset[Key]:
        return frozenset({table_key(self.schema, self.table)})


def _names(names: tuple[str, ...], old: str, new: str) -> tuple[str, ...]:
    return tuple(new if n == old else n for n in names)


def _expr(expression: str | None, old: str, new: str) -> str | None:
    return None if expression is None else rename_in_expression(expression, old, new)


def _rename_in_table(table: Table, old: str, new: str) -> Table:
    def column(c: Column) -> Column:
        return replace(
            c, name=new if c.name == old else c.name, generated=_expr(c.generated, old, new)
        )

    def element(e: IndexElement) -> IndexElement:
        return replace(
            e, column=new if e.column == old else e.column, expression=_expr(e.expression, old, new)
        )

    def exclusion(x: Exclusion) -> Exclusion:
        elements = tuple(
            ExclusionElement(str(_expr(e.expression, old, new)), e.operator, e.opclass)
            for e in x.elements
        )
        return replace(x, elements=elements, where=_expr(x.where, old, new))

    pk = table.primary_key
    return replace(
        table,
        columns=tuple(column(c) for c in table.columns),
        primary_key=None if pk is None else replace(pk, columns=_names(pk.columns, old, new)),
        uniques=tuple(replace(u, columns=_names(u.columns, old, new)) for u in table.uniques),
        foreign_keys=tuple(
            replace(f, columns=_names(f.columns, old, new)) for f in table.foreign_keys
        ),
        checks=tuple(
            replace(c, expression=str(_expr(c.expression, old, new))) for c in table.checks
        ),
        exclusions=tuple(exclusion(x) for x in table.exclusions),
        indexes=tuple(
            replace(
                i,
                elements=tuple(element(e) for e in i.elements),
                include=_names(i.include, old, new),
                where=_expr(i.where, old, new),
            )
            for i in table.indexes
        ),
    )


def _rename_fk_refs(table: Table, key: tuple[str, str], old: str, new: str) -> Table:
    def fk(f: ForeignKey) -> ForeignKey:
        if (f.ref_schema, f.ref_table) != key:
            return f
        return replace(f, ref_columns=_names(f.ref_columns, old, new))

    return replace(table, foreign_keys=tuple(fk(f) for f in table.foreign_keys))


@dataclass(frozen=True, slots=True)
class AlterColumnType(Op):
    """Change a column's type, with ``USING`` when Postgres has no assignment cast.

    A default is dropped before and set after (``old_default``/``new_default``):
    Postgres refuses to convert a default it cannot cast implicitly. On a
    partitioned table Postgres changes the column of every partition too, and
    the default statements reach them as well.
    """

    schema: str
    table: str
    column: str
    old_type: str
    new_type: str
    change: TypeChange
    using: str | None = None
    old_default: str | None = None
    new_default: str | None = None
    collation: str | None = None
    partitions: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"change type of {self.table}.{self.column}: {self.old_type} -> {self.new_type}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        # ALTER COLUMN ... TYPE drops the column's planner statistics, even when no
        # row is rewritten (RemoveStatistics in ATExecAlterColumnType): STATISTICS_RESET.
        if self.change is TypeChange.NO_REWRITE:
            return (Hazard.STATISTICS_RESET,)
        rewrite = (Hazard.TABLE_REWRITE, Hazard.ACCESS_EXCLUSIVE_LOCK, Hazard.STATISTICS_RESET)
        if self.change is TypeChange.WIDENING:
            return rewrite
        return (Hazard.DATA_LOSS, *rewrite)

    def apply(self, schema: Schema) -> Schema:
        schema = _alter(
            schema,
            self.schema,
            self.table,
            self.column,
            type=self.new_type,
            default=self.new_default,
            collation=self.collation,
        )
        for s, t in self.partitions:
            table = schema.table(t, s)
            own = table.column(self.column) if table is not None else None
            if own is None:
                continue
            touched = self.old_default is not None or self.new_default is not None
            default = self.new_default if touched else own.default
            schema = _alter(
                schema,
                s,
                t,
                self.column,
                type=self.new_type,
                default=default,
                collation=self.collation,
            )
        return schema

    def requires(self) -> frozenset[Key]:
        keys = {column_key(self.schema, self.table, self.column)} | type_keys(self.new_type)
        return frozenset(keys | sequence_keys_in_default(self.new_default))

    def releases(self) -> frozenset[Key]:
        return type_keys(self.old_type) | sequence_keys_in_default(self.old_default)

    def drops(self) -> frozenset[Key]:
        # The column's old type goes: generated columns reading it are dropped before.
        return self._type_keys()

    def creates(self) -> frozenset[Key]:
        # Partition settings that differ from the parent's run after the change reached them.
        return self._type_keys() | _partition_keys(self.partitions, self.column)

    def _type_keys(self) -> frozenset[Key]:
        tables = [(self.schema, self.table), *self.partitions]
        return frozenset(column_type_key(s, t, self.column) for s, t in tables)

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        return frozenset({(self.schema, self.table)})


def column_type_key(schema: str, table: str, column: str) -> Key:
    """A column's type as something generated columns depend on (see AlterColumnType)."""
    return ("column type", schema, table, column)


@dataclass(frozen=True, slots=True)
class _ColumnOp(Op):
    schema: str
    table: str
    column: str
    # On a partitioned table Postgres makes the change on every partition too.
    partitions: tuple[tuple[str, str], ...] = field(default=(), kw_only=True)

    def requires(self) -> frozenset[Key]:
        return frozenset({column_key(self.schema, self.table, self.column)})

    def creates(self) -> frozenset[Key]:
        # A partition's own setting of the column is made after the parent's reached it.
        return frozenset(_partition_keys(self.partitions, self.column))

    def _everywhere(self, schema: Schema, **changes: Any) -> Schema:
        schema = _alter(schema, self.schema, self.table, self.column, **changes)
        for s, t in self.partitions:
            table = schema.table(t, s)
            if table is not None and table.column(self.column) is not None:
                schema = _alter(schema, s, t, self.column, **changes)
        return schema


@dataclass(frozen=True, slots=True)
class SetNotNull(_ColumnOp):
    def describe(self) -> str:
        return f"set {self.table}.{self.column} NOT NULL"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.NOT_NULL_SCAN,)

    def apply(self, schema: Schema) -> Schema:
        return self._everywhere(schema, nullable=False)


@dataclass(frozen=True, slots=True)
class DropNotNull(_ColumnOp):
    def describe(self) -> str:
        return f"drop NOT NULL on {self.table}.{self.column}"

    def apply(self, schema: Schema) -> Schema:
        return self._everywhere(schema, nullable=True)

    def requires(self) -> frozenset[Key]:
        base = column_key(self.schema, self.table, self.column)
        # Reaching the partitions, it also waits for their primary keys on the column to go.
        tables = [(self.schema, self.table), *self.partitions]
        return frozenset({base, *(nullable_key(s, t, self.column) for s, t in tables)})


@dataclass(frozen=True, slots=True)
class SetDefault(_ColumnOp):
    default: str = ""

    def describe(self) -> str:
        return f"set default of {self.table}.{self.column} to {self.default}"

    def apply(self, schema: Schema) -> Schema:
        return self._everywhere(schema, default=self.default)

    def requires(self) -> frozenset[Key]:
        base = column_key(self.schema, self.table, self.column)
        return frozenset({base}) | sequence_keys_in_default(self.default)


@dataclass(frozen=True, slots=True)
class DropDefault(_ColumnOp):
    old_default: str | None = None

    def describe(self) -> str:
        return f"drop default of {self.table}.{self.column}"

    def releases(self) -> frozenset[Key]:
        return sequence_keys_in_default(self.old_default)

    def apply(self, schema: Schema) -> Schema:
        return self._everywhere(schema, default=None)


@dataclass(frozen=True, slots=True)
class AddIdentity(_ColumnOp):
    kind: IdentityKind = "by default"
    options: IdentityOptions | None = None

    def describe(self) -> str:
        return f"make {self.table}.{self.column} an identity column ({self.kind})"

    def apply(self, schema: Schema) -> Schema:
        return _alter(
            schema,
            self.schema,
            self.table,
            self.column,
            identity=self.kind,
            identity_options=self.options,
        )

    def requires(self) -> frozenset[Key]:
        # Identity needs an integer type: after a type change of the column.
        keys = {column_key(self.schema, self.table, self.column)}
        return frozenset(keys | {column_type_key(self.schema, self.table, self.column)})


@dataclass(frozen=True, slots=True)
class DropIdentity(_ColumnOp):
    def describe(self) -> str:
        return f"drop identity of {self.table}.{self.column}"

    def apply(self, schema: Schema) -> Schema:
        return _alter(
            schema, self.schema, self.table, self.column, identity=None, identity_options=None
        )


@dataclass(frozen=True, slots=True)
class AlterIdentity(_ColumnOp):
    kind: IdentityKind = "by default"

    def describe(self) -> str:
        return f"make identity of {self.table}.{self.column} generated {self.kind}"

    def apply(self, schema: Schema) -> Schema:
        return _alter(schema, self.schema, self.table, self.column, identity=self.kind)


@dataclass(frozen=True, slots=True)
class AlterIdentityOptions(_ColumnOp):
    """Change an identity column's sequence options (``SET START WITH``, ``SET CACHE``…).

    ``type`` is the column's type once the plan has run: options left at their
    default (``None``) are rendered as that type's values. The sequence's
    current value is left alone (``SET START WITH`` only changes what a
    ``RESTART`` would go back to); Postgres refuses new bounds that exclude it.
    """

    type: str = "bigint"
    old: IdentityOptions | None = None
    new: IdentityOptions | None = None

    def describe(self) -> str:
        return f"change the identity sequence options of {self.table}.{self.column}"

    def requires(self) -> frozenset[Key]:
        # Defaults are rendered for the new type: after a type change of the column.
        keys = {column_key(self.schema, self.table, self.column)}
        return frozenset(keys | {column_type_key(self.schema, self.table, self.column)})

    def apply(self, schema: Schema) -> Schema:
        return _alter(schema, self.schema, self.table, self.column, identity_options=self.new)
