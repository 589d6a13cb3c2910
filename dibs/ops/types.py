"""Operations on enum types and free-standing sequences."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dibs.ops.base import Hazard, Key, Op, column_key, schema_key
from dibs.schema.model import EnumType, Schema, Sequence

__all__ = [
    "AddEnumValue",
    "AlterSequence",
    "CreateEnum",
    "CreateSequence",
    "DropEnum",
    "DropSequence",
    "EnumColumn",
    "RecreateEnum",
]


def _type_key(enum: EnumType) -> Key:
    return ("type", enum.schema, enum.name)


def _qualified(schema: str, name: str) -> str:
    return name if schema == "public" else f"{schema}.{name}"


def _replace_enum(schema: Schema, enum: EnumType | None, key: tuple[str, str]) -> Schema:
    enums = [e for e in schema.enums if e.key != key]
    if enum is not None:
        enums.append(enum)
    return replace(schema, enums=tuple(enums)).normalized()


@dataclass(frozen=True, slots=True)
class CreateEnum(Op):
    enum: EnumType

    def describe(self) -> str:
        return f"create enum {_qualified(*self.enum.key)} ({', '.join(self.enum.values)})"

    def apply(self, schema: Schema) -> Schema:
        return _replace_enum(schema, self.enum, self.enum.key)

    def creates(self) -> frozenset[Key]:
        return frozenset({_type_key(self.enum)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.enum.schema)


@dataclass(frozen=True, slots=True)
class DropEnum(Op):
    enum: EnumType
    removes = True

    def describe(self) -> str:
        return f"drop enum {_qualified(*self.enum.key)}"

    def apply(self, schema: Schema) -> Schema:
        return _replace_enum(schema, None, self.enum.key)

    def drops(self) -> frozenset[Key]:
        return frozenset({_type_key(self.enum)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.enum.schema)


@dataclass(frozen=True, slots=True)
class AddEnumValue(Op):
    """``ALTER TYPE … ADD VALUE``; exactly one of ``before``/``after`` places it.

    Postgres cannot use the new value in the transaction that adds it, so a
    default naming it must run in a later migration (see docs/diff.md).
    """

    schema: str
    name: str
    value: str
    before: str | None = None
    after: str | None = None

    def describe(self) -> str:
        where = f" before {self.before!r}" if self.before else ""
        where = f" after {self.after!r}" if self.after else where
        return f"add value {self.value!r} to enum {_qualified(self.schema, self.name)}{where}"

    def apply(self, schema: Schema) -> Schema:
        enum = schema.enum(self.name, self.schema)
        assert enum is not None
        values = list(enum.values)
        if self.after is not None:
            values.insert(values.index(self.after) + 1, self.value)
        elif self.before is not None:
            values.insert(values.index(self.before), self.value)
        else:
            values.append(self.value)
        return _replace_enum(schema, replace(enum, values=tuple(values)), enum.key)

    def creates(self) -> frozenset[Key]:
        # New users of the type (columns, defaults naming the value) come after.
        return frozenset({("type", self.schema, self.name)})


@dataclass(frozen=True, slots=True)
class EnumColumn:
    """A column of an enum type that ``RecreateEnum`` converts (``array`` for ``t[]``)."""

    schema: str
    table: str
    column: str
    array: bool = False
    default: str | None = None


@dataclass(frozen=True, slots=True)
class RecreateEnum(Op):
    """Remove or reorder enum values: new type, convert columns, drop old, rename new.

    Postgres cannot drop or move an enum value, so the type is rebuilt and each
    dependent column converted with ``USING col::text::new``; their defaults are
    dropped first and set again once the new type has the old name.
    """

    old: EnumType
    new: EnumType
    columns: tuple[EnumColumn, ...] = ()

    @property
    def temporary_name(self) -> str:
        return f"{self.new.name}__dibs_new"[:63]

    def describe(self) -> str:
        removed = [v for v in self.old.values if v not in self.new.values]
        added = [v for v in self.new.values if v not in self.old.values]
        kept = [v for v in self.new.values if v in self.old.values]
        if removed:
            what = f"remove {', '.join(map(repr, removed))}"
        elif kept != list(self.old.values):
            what = "reorder values"
        else:  # compare/types.py: a value added and used in the same migration
            what = f"add {', '.join(map(repr, added))} used in the same migration"
        where = f" ({len(self.columns)} column(s) converted)" if self.columns else ""
        return f"recreate enum {_qualified(*self.new.key)}: {what}{where}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        found: list[Hazard] = []
        if set(self.old.values) - set(self.new.values):
            found.append(Hazard.DATA_LOSS)
        if self.columns:
            found += [Hazard.TABLE_REWRITE, Hazard.ACCESS_EXCLUSIVE_LOCK, Hazard.STATISTICS_RESET]
        return tuple(found)

    def apply(self, schema: Schema) -> Schema:
        return _replace_enum(schema, self.new, self.old.key)

    def creates(self) -> frozenset[Key]:
        return frozenset({_type_key(self.new)})

    def drops(self) -> frozenset[Key]:
        return frozenset({_type_key(self.old)})

    def requires(self) -> frozenset[Key]:
        return frozenset(column_key(c.schema, c.table, c.column) for c in self.columns)

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        return frozenset((c.schema, c.table) for c in self.columns)


def _seq_key(seq: Sequence) -> Key:
    return ("relation", seq.schema, seq.name)


def _replace_sequence(schema: Schema, seq: Sequence | None, key: tuple[str, str]) -> Schema:
    seqs = [s for s in schema.sequences if s.key != key]
    if seq is not None:
        seqs.append(seq)
    return replace(schema, sequences=tuple(seqs)).normalized()


@dataclass(frozen=True, slots=True)
class CreateSequence(Op):
    """Create a sequence; ``OWNED BY`` is set by a later ``AlterSequence`` (the table needs it)."""

    sequence: Sequence

    def describe(self) -> str:
        return f"create sequence {_qualified(*self.sequence.key)}"

    def apply(self, schema: Schema) -> Schema:
        return _replace_sequence(schema, self.sequence, self.sequence.key)

    def creates(self) -> frozenset[Key]:
        return frozenset({_seq_key(self.sequence)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.sequence.schema)


@dataclass(frozen=True, slots=True)
class DropSequence(Op):
    sequence: Sequence
    removes = True

    def describe(self) -> str:
        return f"drop sequence {_qualified(*self.sequence.key)}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        # Its current value is state, not schema: a re-created sequence starts over.
        return (Hazard.DATA_LOSS,)

    def apply(self, schema: Schema) -> Schema:
        return _replace_sequence(schema, None, self.sequence.key)

    def drops(self) -> frozenset[Key]:
        return frozenset({_seq_key(self.sequence)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.sequence.schema)


@dataclass(frozen=True, slots=True)
class AlterSequence(Op):
    old: Sequence
    new: Sequence

    def describe(self) -> str:
        return f"alter sequence {_qualified(*self.new.key)}"

    def apply(self, schema: Schema) -> Schema:
        return _replace_sequence(schema, self.new, self.old.key)

    def requires(self) -> frozenset[Key]:
        keys = {_seq_key(self.new)}
        if self.new.owned_by is not None:
            keys.add(column_key(*self.new.owned_by))
        return frozenset(keys)

    def releases(self) -> frozenset[Key]:
        """The column that owned the sequence: moved away before it is dropped, or
        Postgres drops the sequence with it (``OWNED BY`` is a dependency)."""
        owner = self.old.owned_by
        if owner is None or owner == self.new.owned_by:
            return frozenset()
        return frozenset({column_key(*owner)})
