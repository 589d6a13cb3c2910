"""Classify column type changes (widening or narrowing) and summarise a plan's hazards.

Postgres rewrites a table for most type changes; only binary-compatible
widenings (``varchar(20)`` → ``varchar(50)`` or ``text``, ``numeric(8,2)`` →
``numeric(10,2)``, a larger time precision) change the catalog alone. A
widening that rewrites loses no value (``integer`` → ``bigint``); anything
else may cut or reject values and is treated as data loss.

>>> classify_type_change("varchar(20)", "text").name
'NO_REWRITE'
>>> classify_type_change("integer", "bigint").name
'WIDENING'
>>> classify_type_change("bigint", "integer").name
'NARROWING'
>>> [classify_type_change("integer", t).name for t in ("varchar(11)", "varchar(5)")]
['WIDENING', 'NARROWING']
>>> using_cast("note", "text", "integer")
'note::integer'
>>> using_cast("n", "integer", "bigint") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from dibs.ops.base import Hazard, Op, TypeChange
from dibs.schema.types import quote_ident

__all__ = [
    "Hazard",
    "TypeChange",
    "cast_context",
    "classify_type_change",
    "plan_hazards",
    "using_cast",
]

_TYPE = re.compile(r"^(?P<base>[^()]+?)(?:\((?P<mods>[\d,]+)\))?(?P<array>\[\])?$")
_INT_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}
_INT_RANK = {"smallint": 0, "integer": 1, "bigint": 2}
_STRINGS = frozenset({"text", "varchar", "char"})
_PRECISION_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval", "varbit"})
_CATEGORIES = (
    frozenset({"smallint", "integer", "bigint", "numeric", "real", "double precision"}),
    _STRINGS,
    frozenset({"date", "timestamp", "timestamptz"}),
    frozenset({"time", "timetz"}),
    frozenset({"bit", "varbit"}),
)


def _parse(type_name: str) -> tuple[str, tuple[int, ...], bool]:
    match = _TYPE.match(type_name)
    if match is None:
        return type_name, (), False
    mods = tuple(int(m) for m in match["mods"].split(",")) if match["mods"] else ()
    return match["base"], mods, bool(match["array"])


def _no_rewrite(old: str, om: tuple[int, ...], new: str, nm: tuple[int, ...]) -> bool:
    """Binary-compatible changes Postgres makes without touching the rows."""
    if old == "varchar" and new in ("varchar", "text"):
        return new == "text" or not nm or (bool(om) and nm[0] >= om[0])
    if old == "text" and new == "varchar":
        return not nm
    if old == new == "numeric":
        if not nm:
            return True
        return bool(om) and len(om) == len(nm) and nm[0] >= om[0] and om[1:] == nm[1:]
    if old == new and old in _PRECISION_TYPES:
        return not nm or (bool(om) and nm[0] >= om[0])
    return False


def _widening(old: str, om: tuple[int, ...], new: str, nm: tuple[int, ...]) -> bool:
    """Changes that rewrite the table but keep every value exactly."""
    if old in _INT_RANK and new in _INT_RANK:
        return _INT_RANK[new] >= _INT_RANK[old]
    if old in _INT_DIGITS and new == "numeric":
        scale = nm[1] if len(nm) > 1 else 0
        return not nm or nm[0] - scale >= _INT_DIGITS[old]
    if old in ("smallint", "integer", "real") and new == "double precision":
        return True
    if old == new == "numeric" and om and nm:
        old_scale, new_scale = (om[1:] or (0,))[0], (nm[1:] or (0,))[0]
        return nm[0] - new_scale >= om[0] - old_scale and new_scale >= old_scale
    if old in _STRINGS and new == "text":
        return True
    if old in _INT_DIGITS and new == "varchar":  # every value's text (digits and sign) fits
        return not nm or nm[0] >= _INT_DIGITS[old] + 1
    if old in _STRINGS and new == "varchar":
        return not nm or (old != "text" and bool(om) and nm[0] >= om[0])
    return (old, new) in {("timestamp", "timestamptz"), ("date", "timestamp")}


def classify_type_change(old_type: str, new_type: str) -> TypeChange:
    """Return how changing a column from ``old_type`` to ``new_type`` treats its data."""
    old, om, old_array = _parse(old_type)
    new, nm, new_array = _parse(new_type)
    if old_array != new_array:
        return TypeChange.NARROWING
    if _no_rewrite(old, om, new, nm):
        return TypeChange.NO_REWRITE
    if _widening(old, om, new, nm) or new == "text":
        return TypeChange.WIDENING
    return TypeChange.NARROWING


_STRING_TARGETS = frozenset({"text", "varchar", "char", '"char"'})


def cast_context(old_type: str, new_type: str) -> str | None:
    """How Postgres can convert a column from ``old_type`` to ``new_type``.

    ``"i"``/``"a"``: by itself (implicit or assignment cast); ``"e"``: only with
    ``USING`` (an explicit cast); ``None``: not at all (no cast exists). Built-in
    casts come from ``dibs.schema.casts``; any type goes *to* a string type by
    assignment and comes *from* one explicitly (I/O conversion); arrays
    convert element by element. A user type (enum, domain) is assumed
    convertible with ``USING``: only the database knows.

    >>> cast_context("integer", "bigint"), cast_context("bigint", "integer")
    ('i', 'a')
    >>> cast_context("integer", "timestamp") is None
    True
    >>> cast_context("text", "text[]"), cast_context("tstzrange", "int4range")
    ('e', None)
    """
    from dibs.schema.casts import CAST_CONTEXTS

    old, _, old_array = _parse(old_type)
    new, _, new_array = _parse(new_type)
    if old_array != new_array:
        if not old_array and old in _STRING_TARGETS:
            return "e"  # a string parsed as an array literal
        return "a" if not new_array and new in _STRING_TARGETS else None
    if old == new or new in _STRING_TARGETS:
        return "a"
    if old in _STRING_TARGETS:
        return "e"
    if old not in _BUILTIN_NAMES or new not in _BUILTIN_NAMES:
        return "e"
    return CAST_CONTEXTS.get((old, new))


def _builtin_names() -> frozenset[str]:
    from dibs.schema.casts import CAST_CONTEXTS

    names = {name for pair in CAST_CONTEXTS for name in pair}
    names |= {"date", "uuid", "jsonb", "json", "bytea", "boolean", "inet", "cidr", "macaddr"}
    names |= {"tsvector", "tsquery", "xml", "int4range", "int8range", "numrange", "tsrange"}
    names |= {"tstzrange", "daterange", "point", "line", "lseg", "box", "path", "polygon"}
    names |= {"circle", "money", "interval", "time", "timetz", "bit", "varbit", "pg_lsn"}
    return frozenset(names)


_BUILTIN_NAMES = _builtin_names()


def using_cast(column: str, old_type: str, new_type: str, *, enum: bool = False) -> str | None:
    """Return the ``USING`` expression a type change needs, or ``None``.

    Postgres converts without ``USING`` when an assignment cast exists (within
    numbers, strings or timestamps, and from anything to a string type). An
    explicit cast is only added where that is missing, because an explicit
    cast to ``varchar(n)`` truncates silently where an assignment cast fails.
    Values of another enum or of a text type reach an enum through ``text``.
    """
    old_array = _parse(old_type)[2]
    new_array = _parse(new_type)[2]
    if not enum and cast_context(old_type, new_type) in ("i", "a"):
        return None
    col = quote_ident(column)
    if enum and old_array == new_array:
        via = "text[]" if old_array else "text"
        return f"{col}::{via}::{new_type}"
    return f"{col}::{new_type}"


def plan_hazards(ops: Iterable[Op]) -> dict[Hazard, list[Op]]:
    """Group a plan's operations by the hazards they carry, for reviews and ``--safe`` checks."""
    found: dict[Hazard, list[Op]] = {}
    for op in ops:
        for hazard in op.hazards:
            found.setdefault(hazard, []).append(op)
    return found
