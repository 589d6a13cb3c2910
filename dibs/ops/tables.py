"""Operations on whole tables, and comments on any object."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

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
    schema_key,
    sequence_keys_in_default,
    table_key,
    type_keys,
    unique_key,
)
from dibs.schema.model import (
    Check,
    Exclusion,
    ForeignKey,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    Unique,
)

__all__ = [
    "CreateTable",
    "DetachPartition",
    "DropTable",
    "RenameTable",
    "SetComment",
    "partition_parent",
    "table_objects",
]


def partition_parent(table: Table) -> tuple[str, str] | None:
    """The (schema, name) of the table ``table`` is a partition of, if any."""
    if table.partition_of is None:
        return None
    schema, _, name = table.partition_of.rpartition(".")
    return (schema.strip('"') or "public", name.strip('"'))


def _partition_parent(table: Table) -> frozenset[Key]:
    parent = partition_parent(table)
    return frozenset() if parent is None else frozenset({table_key(*parent)})


def table_objects(table: Table) -> frozenset[Key]:
    """Keys of a table, its columns, its constraints and the relations named after them.

    A table also owns a row type of its name, so an enum or domain of that
    name can only be created once the table is gone (and the other way round).
    """
    s, t = table.schema, table.name
    keys: set[Key] = {table_key(s, t), index_key(s, t), ("type", s, t)}
    keys |= {column_key(s, t, c.name) for c in table.columns}
    named: list[PrimaryKey | Unique | Check | Exclusion | ForeignKey]
    named = [*table.uniques, *table.checks, *table.exclusions, *table.foreign_keys]
    if table.primary_key is not None:
        named.append(table.primary_key)
    keys |= {constraint_key(s, t, c.name) for c in named}
    backed: list[PrimaryKey | Unique | Exclusion] = [*table.uniques, *table.exclusions]
    if table.primary_key is not None:
        backed.append(table.primary_key)
    keys |= {index_key(s, c.name) for c in backed}
    # Plain indexes go with the table too: their names are freed when it is dropped.
    keys |= {index_key(s, i.name) for i in table.indexes}
    if table.primary_key is not None:
        keys.add(("primary key", s, t))  # one a table: a new one waits for the old to go
    unique_sets = [c.columns for c in (*table.uniques, table.primary_key) if c is not None]
    unique_sets += [cols for i in table.indexes if (cols := index_unique_columns(i))]
    keys |= {unique_key(s, t, cols) for cols in unique_sets}
    return frozenset(keys)


def _table_needs(table: Table) -> frozenset[Key]:
    keys: set[Key] = set(schema_key(table.schema)) | set(_partition_parent(table))
    for col in table.columns:
        keys |= type_keys(col.type) | sequence_keys_in_default(col.default)
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class CreateTable(Op):
    """Create a table with its columns, primary key, uniques, checks and exclusions.

    Foreign keys and indexes are separate operations, so tables that reference
    each other can all be created before any foreign key is added. A
    partition carries its parent (as the target has it): the column defaults
    and NOT NULLs the partition has beyond the parent's are set after
    ``CREATE TABLE … PARTITION OF``, which copies the parent's.
    """

    table: Table
    parent: Table | None = None

    def describe(self) -> str:
        return f"create table {self.table.qualified_name}"

    def apply(self, schema: Schema) -> Schema:
        return replace_table(schema, self.table, self.table)

    def creates(self) -> frozenset[Key]:
        return table_objects(self.table)

    def requires(self) -> frozenset[Key]:
        return _table_needs(self.table)


@dataclass(frozen=True, slots=True)
class DropTable(Op):
    """Drop a table; Postgres drops its indexes, constraints and owned sequences with it."""

    table: Table
    removes = True

    def describe(self) -> str:
        return f"drop table {self.table.qualified_name}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return (Hazard.DATA_LOSS,)

    def apply(self, schema: Schema) -> Schema:
        s, t = self.table.key
        kept = tuple(q for q in schema.sequences if q.owned_by is None or q.owned_by[:2] != (s, t))
        return replace_table(replace(schema, sequences=kept), self.table, None)

    def drops(self) -> frozenset[Key]:
        return table_objects(self.table)

    def requires(self) -> frozenset[Key]:
        return _table_needs(self.table)

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        return frozenset({self.table.key})


@dataclass(frozen=True, slots=True)
class DetachPartition(Op):
    """Detach a partition from its parent; it stays, as a table of its own.

    Postgres turns what the partition had from its parent into its own: the
    copies of the parent's indexes and keys (under the partition's names, which
    the source records in ``attached_indexes``), the parent's checks and foreign
    keys (under their names). ``detached`` is the table as that leaves it; the
    rest of the change to the target is planned from there. The planner runs
    every detach first, so no change to the parent reaches the leaving partition.
    Rows stay in the table but leave the parent's queries.
    """

    table: Table
    detached: Table
    parent: tuple[str, str]

    def describe(self) -> str:
        return f"detach partition {self.table.qualified_name} from {self.parent[1]}"

    def apply(self, schema: Schema) -> Schema:
        return replace_table(schema, self.table, self.detached)

    def requires(self) -> frozenset[Key]:
        return frozenset({table_key(*self.parent), table_key(*self.table.key)})


@dataclass(frozen=True, slots=True)
class RenameTable(Op):
    """Rename a table (and move it to another namespace when ``new_schema`` differs).

    Postgres follows the table by oid: foreign keys pointing at it and
    sequences it owns keep working, which ``apply`` mirrors.
    """

    table: Table
    new_schema: str
    new_name: str
    moves = True

    @property
    def renamed(self) -> Table:
        return replace(self.table, schema=self.new_schema, name=self.new_name)

    def describe(self) -> str:
        return f"rename table {self.table.qualified_name} to {self.renamed.qualified_name}"

    def apply(self, schema: Schema) -> Schema:
        old, new = self.table.key, (self.new_schema, self.new_name)
        tables = [_retarget(t, old, new) for t in schema.tables if t.key != old]
        tables.append(_retarget(self.renamed, old, new))
        seqs = [_reown(q, old, new) for q in schema.sequences]
        return replace(schema, tables=tuple(tables), sequences=tuple(seqs)).normalized()

    def creates(self) -> frozenset[Key]:
        # Index names do not change (unless the namespace does): not re-created.
        return table_objects(self.renamed) - table_objects(self.table)

    def drops(self) -> frozenset[Key]:
        return table_objects(self.table) - table_objects(self.renamed)

    def requires(self) -> frozenset[Key]:
        return schema_key(self.new_schema) | schema_key(self.table.schema)

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        return frozenset({self.table.key})


def _retarget(table: Table, old: tuple[str, str], new: tuple[str, str]) -> Table:
    fks = tuple(
        replace(fk, ref_schema=new[0], ref_table=new[1])
        if (fk.ref_schema, fk.ref_table) == old
        else fk
        for fk in table.foreign_keys
    )
    return replace(table, foreign_keys=fks) if fks != table.foreign_keys else table


def _reown(seq: Sequence, old: tuple[str, str], new: tuple[str, str]) -> Sequence:
    if seq.owned_by is None or seq.owned_by[:2] != old:
        return seq
    return replace(seq, owned_by=(new[0], new[1], seq.owned_by[2]))


CommentTarget = Literal["table", "column", "type", "index"]


@dataclass(frozen=True, slots=True)
class SetComment(Op):
    """Set (or, with ``None``, remove) the comment of a table, column, enum or index.

    ``name`` is the table, enum or index name; ``column`` is set for columns.
    """

    kind: CommentTarget
    schema: str
    name: str
    comment: str | None
    column: str | None = None

    def describe(self) -> str:
        what = f"{self.name}.{self.column}" if self.column else self.name
        action = "remove comment on" if self.comment is None else "set comment on"
        return f"{action} {self.kind} {what}"

    def apply(self, schema: Schema) -> Schema:
        if self.kind == "type":
            key = (self.schema, self.name)
            enums = tuple(
                replace(e, comment=self.comment) if e.key == key else e for e in schema.enums
            )
            return replace(schema, enums=enums)
        if self.kind == "index":
            return _comment_index(schema, self.schema, self.name, self.comment)
        table = get_table(schema, (self.schema, self.name))
        if self.kind == "table":
            return replace_table(schema, table, replace(table, comment=self.comment))
        cols = tuple(
            replace(c, comment=self.comment) if c.name == self.column else c for c in table.columns
        )
        return replace_table(schema, table, replace(table, columns=cols))

    def requires(self) -> frozenset[Key]:
        if self.kind == "type":
            return frozenset({("type", self.schema, self.name)})
        if self.kind == "index":
            return frozenset({index_key(self.schema, self.name)})
        if self.kind == "table":
            return frozenset({table_key(self.schema, self.name)})
        assert self.column is not None
        return frozenset({column_key(self.schema, self.name, self.column)})


def _comment_index(schema: Schema, namespace: str, name: str, comment: str | None) -> Schema:
    for table in schema.tables:
        if table.schema != namespace:
            continue
        for index in table.indexes:
            if index.name == name:
                indexes = tuple(
                    replace(i, comment=comment) if i.name == name else i for i in table.indexes
                )
                return replace_table(schema, table, replace(table, indexes=indexes))
    raise KeyError(f"index {namespace}.{name} does not exist in the simulated schema")


def fk_targets(fk: ForeignKey) -> frozenset[Key]:
    """Keys a foreign key needs: the referenced table and columns."""
    keys = {table_key(fk.ref_schema, fk.ref_table)}
    keys |= {column_key(fk.ref_schema, fk.ref_table, c) for c in fk.ref_columns}
    keys |= {("column type", fk.ref_schema, fk.ref_table, c) for c in fk.ref_columns}
    keys.add(unique_key(fk.ref_schema, fk.ref_table, fk.ref_columns))
    return frozenset(keys)
