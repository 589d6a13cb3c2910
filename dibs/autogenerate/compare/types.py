"""Compare enum types and free-standing sequences."""

from __future__ import annotations

from dataclasses import replace

from dibs.autogenerate.compare.partitions import refuse_key_column_retype
from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.ops import (
    AddEnumValue,
    AlterSequence,
    CreateEnum,
    CreateSequence,
    DropEnum,
    DropSequence,
    EnumColumn,
    Op,
    RecreateEnum,
    SetComment,
)
from dibs.schema.model import DEFAULT_SCHEMA, Domain, EnumType, Schema, Sequence, Table
from dibs.schema.types import quote_ident

__all__ = ["check_bounds", "compare_enums", "compare_sequences", "enum_type_name"]


def enum_type_name(enum: EnumType | Domain) -> str:
    """The canonical type spelling columns use for ``enum`` or a domain (``shop.status``)."""
    if enum.schema == DEFAULT_SCHEMA:
        return quote_ident(enum.name)
    return f"{quote_ident(enum.schema)}.{quote_ident(enum.name)}"


def compare_enums(old: Schema, new: Schema) -> list[Op]:
    """Create, extend, rebuild or drop enums; ``old`` is the source after renames."""
    ops: list[Op] = []
    for enum in new.enums:
        before = old.enum(enum.name, enum.schema)
        if before is None:
            ops.append(CreateEnum(enum))
            continue
        if before.values != enum.values:
            ops += _change_values(old, new, before, enum)
        if before.comment != enum.comment:
            ops.append(SetComment("type", enum.schema, enum.name, enum.comment))
    ops += [DropEnum(e) for e in old.enums if new.enum(e.name, e.schema) is None]
    return ops


def _change_values(
    old_schema: Schema, new_schema: Schema, old: EnumType, new: EnumType
) -> list[Op]:
    """Add values in place when the old ones keep their order, else rebuild the type."""
    kept = [v for v in new.values if v in old.values]
    added = [v for v in new.values if v not in old.values]
    if kept != list(old.values) or _uses_values(old_schema, new_schema, new, added):
        columns = _dependent_columns(old_schema, new_schema, old)
        for table in sorted({(c.schema, c.table) for c in columns}):
            found = old_schema.table(table[1], table[0])
            if found is not None and found.partition_by is not None:
                refuse_key_column_retype(
                    found,
                    [c.column for c in columns if (c.schema, c.table) == table],
                    f"its enum type {enum_type_name(new)} would be rebuilt (values removed, "
                    "reordered, or added and used in the same migration; add a value in "
                    "one migration and use it in the next)",
                )
        return [RecreateEnum(old, new, columns)]
    ops: list[Op] = []
    for pos, value in enumerate(new.values):
        if value in old.values:
            continue
        if pos > 0:
            ops.append(AddEnumValue(new.schema, new.name, value, after=new.values[pos - 1]))
        elif old.values:
            ops.append(AddEnumValue(new.schema, new.name, value, before=old.values[0]))
        else:
            ops.append(AddEnumValue(new.schema, new.name, value))
    return ops


def _uses_values(old: Schema, schema: Schema, enum: EnumType, values: list[str]) -> bool:
    """Whether a new expression of ``schema`` may use one of the enum's ``values``.

    A value added with ``ALTER TYPE … ADD VALUE`` cannot be used before the
    transaction that added it commits (Postgres: "unsafe use of new value"), so a
    migration that adds a value and uses it (a default, a check, an index
    predicate, a partition bound) rebuilds the type instead: values of a type
    created in the same transaction are usable. The test is deliberately wide
    (a false positive costs a rebuild, shown as a rewrite hazard; a false negative
    a failed migration): a string literal equal to the value in an expression that
    casts to the type, or that belongs to a table with a column of the type, or to
    a domain over it. An expression the table (or domain) already had in ``old``
    was written before the value existed, so it is left out.
    """
    if not values:
        return False
    name = enum_type_name(enum)
    spellings = (name, f"{name}[]")
    literals = [f"'{v.replace(chr(39), chr(39) * 2)}'" for v in values]

    def hits(expressions: list[str | None], owner_uses_type: bool, before: set[str]) -> bool:
        for text in expressions:
            if text is None or text in before:
                continue
            cast = f"::{name}" in text
            if cast and f"::{name}[]" in text and any(v in text for v in values):
                return True
            if (cast or owner_uses_type) and any(lit in text for lit in literals):
                return True
        return False

    for table in schema.tables:
        owner = any(c.type in spellings for c in table.columns)
        previous = old.table(table.name, table.schema)
        before = {e for e in _table_expressions(previous) if e} if previous else set()
        if hits(_table_expressions(table), owner, before):
            return True
    for domain in schema.domains:
        found = [domain.default, *(c.expression for c in domain.checks)]
        was = next((d for d in old.domains if d.key == domain.key), None)
        had = [was.default, *(c.expression for c in was.checks)] if was else []
        if hits(found, domain.type in spellings, {e for e in had if e}):
            return True
    return False


def _table_expressions(table: Table) -> list[str | None]:
    found: list[str | None] = [table.partition_bound]
    for col in table.columns:
        found += [col.default, col.generated]
    found += [c.expression for c in table.checks]
    for index in table.indexes:
        found += [index.where, *(e.expression for e in index.elements)]
    for exclusion in table.exclusions:
        found += [exclusion.where, *(e.expression for e in exclusion.elements)]
    return found


def _dependent_columns(old: Schema, new: Schema, enum: EnumType) -> tuple[EnumColumn, ...]:
    """Columns of the enum that keep it; the others are dropped or retyped before."""
    name = enum_type_name(enum)
    found = []
    for table in old.tables:
        target = new.table(table.name, table.schema)
        for col in table.columns:
            after = target.column(col.name) if target else None
            if col.type in (name, f"{name}[]") and after is not None and after.type == col.type:
                found.append(
                    EnumColumn(
                        table.schema, table.name, col.name, col.type.endswith("[]"), col.default
                    )
                )
    return tuple(found)


def compare_sequences(old: Schema, new: Schema) -> list[Op]:
    """Create, alter or drop sequences; ``OWNED BY`` is set once its table exists.

    A sequence owned by a column that goes away is not dropped: Postgres drops
    it with the column or table.
    """
    ops: list[Op] = []
    for seq in new.sequences:
        before = next((s for s in old.sequences if s.key == seq.key), None)
        if before is None:
            bare = replace(seq, owned_by=None)
            ops.append(CreateSequence(bare))
            if seq.owned_by is not None:
                ops.append(AlterSequence(bare, seq))
        elif before != seq:
            _check_bounds(before, seq)
            ops.append(AlterSequence(before, seq))
    new_keys = {s.key for s in new.sequences}
    for seq in old.sequences:
        if seq.key in new_keys or _owner_goes(seq.owned_by, new):
            continue
        ops.append(DropSequence(seq))
    return ops


def _check_bounds(old: Sequence, new: Sequence) -> None:
    check_bounds(
        f"sequence {new.schema}.{new.name}",
        old.start,
        old.increment,
        new.min_value,
        new.max_value,
        fix="ALTER SEQUENCE … RESTART WITH …",
    )


def check_bounds(
    what: str,
    old_start: int | None,
    old_increment: int,
    new_min: int | None,
    new_max: int | None,
    *,
    fix: str,
) -> None:
    """Refuse new bounds that the sequence's current value is certainly outside of.

    The current value is never before the old start (values move in the
    increment's direction), and offline dibs cannot know how far it went; a
    ``RESTART`` would hand out values again. A person must decide.
    """
    if old_start is None:
        return
    up = old_increment > 0
    # Beyond the far bound: certainly outside. Past the near bound (a minimum raised
    # above the start of an ascending sequence): outside until the sequence has moved
    # that far, which an unused one has not, and Postgres refuses the ALTER then.
    if (
        (up and new_max is not None and new_max < old_start)
        or (not up and new_min is not None and new_min > old_start)
        or (up and new_min is not None and new_min > old_start)
        or (not up and new_max is not None and new_max < old_start)
    ):
        raise UnsupportedChange(
            f"{what} would get bounds that may exclude its current value "
            f"(it started at {old_start})",
            hint=f"restart it in a hand-written migration (`dibs generate --empty`: {fix}) "
            "after checking which values are in use",
        )


def _owner_goes(owned_by: tuple[str, str, str] | None, new: Schema) -> bool:
    if owned_by is None:
        return False
    table = new.table(owned_by[1], owned_by[0])
    return table is None or table.column(owned_by[2]) is None
