"""Compare enum types and free-standing sequences."""

from __future__ import annotations

from dataclasses import replace

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
from dibs.schema.model import DEFAULT_SCHEMA, Domain, EnumType, Schema, Sequence
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
    if kept != list(old.values):
        return [RecreateEnum(old, new, _dependent_columns(old_schema, new_schema, old))]
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
