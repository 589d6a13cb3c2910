"""Compare the columns of one table present on both sides (after renames)."""

from __future__ import annotations

from collections.abc import Mapping

from dibs.autogenerate.compare.partitions import refuse_key_column_retype
from dibs.autogenerate.compare.types import check_bounds
from dibs.autogenerate.hazards import cast_context, classify_type_change, using_cast
from dibs.ops import (
    AddColumn,
    AddIdentity,
    AlterColumnType,
    AlterIdentity,
    AlterIdentityOptions,
    DropColumn,
    DropDefault,
    DropIdentity,
    DropNotNull,
    Op,
    SetComment,
    SetDefault,
    SetNotNull,
)
from dibs.ops.columns import implied_drops
from dibs.schema.model import Column, IdentityOptions, Table

__all__ = ["compare_columns"]


def _cannot_convert(
    old: Column, new: Column, enum_types: frozenset[str], domains: Mapping[str, str]
) -> bool:
    """No cast turns the old values into the new type: the column is dropped and added.

    DropColumn carries the data-loss hazard, so ``dibs generate`` asks first. A
    domain converts as its base type does (Postgres casts the base value).
    """
    if old.type == new.type:
        return False
    if new.type.removesuffix("[]") in enum_types:
        # An enum is reached from a string or another enum (through text), nothing else.
        old_base = old.type.removesuffix("[]")
        same_shape = old.type.endswith("[]") == new.type.endswith("[]")
        return not same_shape or not (old_base in enum_types or _is_string(old_base))
    if old.type.removesuffix("[]") in enum_types and not _is_string(new.type.removesuffix("[]")):
        return True  # an enum has no cast but I/O conversion to strings
    return cast_context(_base(old.type, domains), _base(new.type, domains)) is None


def _base(type_name: str, domains: Mapping[str, str]) -> str:
    """The built-in type under a domain (arrays of one too), else ``type_name``."""
    if type_name.endswith("[]"):
        return _base(type_name[:-2], domains) + "[]"
    seen: set[str] = set()
    while type_name in domains and type_name not in seen:
        seen.add(type_name)
        type_name = domains[type_name]
    return type_name


def _is_string(type_name: str) -> bool:
    return type_name == "text" or type_name.startswith(("varchar", "char"))


def _reads_retyped(old: Column, new: Column, retyped: set[str]) -> bool:
    """A generated column reading a column whose type changes is rebuilt around the change.

    Postgres refuses ``ALTER COLUMN … TYPE`` on a column a generated column
    reads; the generated values are recomputed, so nothing is lost.
    """
    if not (old.generated and new.generated):
        return False
    from dibs.schema.expressions import referenced_columns

    return bool(retyped & set(referenced_columns(new.generated)))


def _must_replace(old: Column, new: Column) -> bool:
    """Generated expressions cannot be altered in Postgres 16: drop and add the column.

    The column's values are derived, so a generated → generated change loses
    nothing; a regular ↔ generated switch does, and DropColumn says so.
    """
    return old._keys[1] != new._keys[1]


def compare_columns(
    old: Table, new: Table, enum_types: frozenset[str], domains: Mapping[str, str]
) -> tuple[list[Op], set[str]]:
    """Return the column operations and the names of columns dropped and re-added.

    ``enum_types`` are the canonical names of both sides' enums (a column
    changing to one needs ``USING … ::text::``; one changing from one to
    anything but a string has no cast); ``domains`` maps both sides' domain
    type names to their base types.
    """
    s, t = new.schema, new.name
    ops: list[Op] = []
    replaced: set[str] = set()
    new_names = {c.name for c in new.columns}
    for col in old.columns:
        if col.name not in new_names:
            ops.append(DropColumn(s, t, col, implied_drops(old, col.name)))
    retyped = {
        c.name for c in new.columns if (o := old.column(c.name)) is not None and o.type != c.type
    }
    for col in new.columns:
        before = old.column(col.name)
        if before is None:
            ops.append(AddColumn(s, t, col))
        elif (
            _must_replace(before, col)
            or _cannot_convert(before, col, enum_types, domains)
            or _reads_retyped(before, col, retyped)
        ):
            ops += [
                DropColumn(s, t, before, implied_drops(old, col.name)),
                AddColumn(s, t, col),
            ]
            replaced.add(col.name)
        elif before != col:
            ops += _alter_column(s, t, before, col, enum_types)
    if old.partition_by is not None:
        refuse_key_column_retype(old, replaced, "would be dropped and added again")
        altered = [op.column for op in ops if isinstance(op, AlterColumnType)]
        refuse_key_column_retype(old, altered, "changes its type")
    return ops, replaced


def _alter_column(s: str, t: str, old: Column, new: Column, enum_types: frozenset[str]) -> list[Op]:
    ops: list[Op] = []
    name = new.name
    retyped = old.type != new.type or old.collation != new.collation
    if old.identity != new.identity and old.identity is not None:
        if new.identity is None:
            ops.append(DropIdentity(s, t, name))
        else:
            ops.append(AlterIdentity(s, t, name, new.identity))
    if retyped:
        ops.append(_alter_type(s, t, old, new, enum_types))
    elif old._keys[0] != new._keys[0]:
        if new.default is None:
            ops.append(DropDefault(s, t, name, old.default))
        else:
            ops.append(SetDefault(s, t, name, new.default))
    if old.nullable != new.nullable:
        ops.append(DropNotNull(s, t, name) if new.nullable else SetNotNull(s, t, name))
    if new.identity is not None and old.identity is None:
        ops.append(AddIdentity(s, t, name, new.identity, new.identity_options))
    elif new.identity is not None and old.identity_options != new.identity_options:
        _check_identity_bounds(s, t, old, new)
        ops.append(
            AlterIdentityOptions(s, t, name, new.type, old.identity_options, new.identity_options)
        )
    if old.comment != new.comment:
        ops.append(SetComment("column", s, t, new.comment, column=name))
    return ops


def _alter_type(
    s: str, t: str, old: Column, new: Column, enum_types: frozenset[str]
) -> AlterColumnType:
    is_enum = new.type.removesuffix("[]") in enum_types
    return AlterColumnType(
        s,
        t,
        new.name,
        old.type,
        new.type,
        classify_type_change(old.type, new.type),
        using=using_cast(new.name, old.type, new.type, enum=is_enum),
        old_default=old.default,
        new_default=new.default,
        collation=new.collation,
    )


def _check_identity_bounds(s: str, t: str, old: Column, new: Column) -> None:
    """Refuse identity bounds that certainly exclude the sequence's current value."""
    before = old.identity_options or IdentityOptions()
    after = new.identity_options or IdentityOptions()
    low, high = after.bounds(new.type)
    check_bounds(
        f"identity column {s}.{t}.{new.name}",
        before.effective_start(old.type),
        before.increment,
        low,
        high,
        fix=f"ALTER TABLE … ALTER COLUMN {new.name} RESTART WITH …",
    )
