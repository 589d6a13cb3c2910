"""One canonical spelling for every Postgres type, whoever wrote it.

``int8``, ``bigint`` and ``pg_catalog.int8`` all become ``bigint``;
``character varying(20)`` becomes ``varchar(20)``; ``timestamp with time
zone`` becomes ``timestamptz``. Type text is parsed with Postgres's own
grammar (pglast), so any spelling Postgres accepts is understood, and both
declared and introspected types go through the same function.

>>> canonical_type("int8")
'bigint'
>>> canonical_type("character varying(20)")
'varchar(20)'
>>> canonical_type("timestamp(3) with time zone")
'timestamptz(3)'
>>> canonical_type("public.citext")
'citext'
>>> canonical_type("Shop.Status[]")
'shop.status[]'
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from dibs.errors import ExpressionError
from dibs.schema.keywords import QUOTED_KEYWORDS

__all__ = ["canonical_type", "quote_ident", "split_qualified"]

# Internal pg_catalog names → the canonical spelling (without modifiers).
_CATALOG_NAMES = {
    "int8": "bigint",
    "int4": "integer",
    "int2": "smallint",
    "float8": "double precision",
    "float4": "real",
    "bool": "boolean",
    "varchar": "varchar",
    "bpchar": "char",
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "timetz": "timetz",
    "time": "time",
    "varbit": "varbit",
    "numeric": "numeric",
}
# Names a user may write unqualified that mean a pg_catalog type.
_UNQUALIFIED_ALIASES = {
    "int8": "int8",
    "int4": "int4",
    "int2": "int2",
    "float8": "float8",
    "float4": "float4",
    "bool": "bool",
    "varchar": "varchar",
    "bpchar": "bpchar",
    "timestamptz": "timestamptz",
    "timetz": "timetz",
    "varbit": "varbit",
}

_INTERVAL_FIELDS = {
    4: "year",
    2: "month",
    8: "day",
    1024: "hour",
    2048: "minute",
    4096: "second",
    6: "year to month",
    8 | 1024: "day to hour",
    8 | 1024 | 2048: "day to minute",
    8 | 1024 | 2048 | 4096: "day to second",
    1024 | 2048: "hour to minute",
    1024 | 2048 | 4096: "hour to second",
    2048 | 4096: "minute to second",
}
_INTERVAL_FULL_RANGE = 0x7FFF


def quote_ident(name: str) -> str:
    """Quote an identifier only when Postgres would (``quote_identifier``).

    >>> quote_ident("users"), quote_ident("User"), quote_ident("order")
    ('users', '"User"', '"order"')
    """
    safe = (
        bool(name)
        and (name[0].islower() or name[0] == "_")
        and all((c.islower() and c.isascii()) or c.isdigit() or c == "_" for c in name)
    )
    if safe and name not in QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def split_qualified(name: str) -> tuple[str | None, str]:
    """Split a canonical ``schema.name`` into its parts (quotes removed)."""
    from pglast import parse_sql

    stmts: Any = parse_sql(f"SELECT NULL::{name}")
    tn = stmts[0].stmt.targetList[0].val.typeName
    parts = [n.sval for n in tn.names]
    return (parts[0] if len(parts) == 2 else None, parts[-1])


def _typmods(tn: object) -> list[int]:
    mods = getattr(tn, "typmods", None) or ()
    values: list[int] = []
    for mod in mods:
        val = getattr(mod, "val", None)
        ival = getattr(val, "ival", None)
        if ival is None:
            raise ValueError("non-integer type modifier")
        values.append(int(ival))
    return values


def _catalog_type(name: str, mods: list[int]) -> str:
    base = _CATALOG_NAMES.get(name, name)
    if name == "interval":
        fields = mods[0] if mods else _INTERVAL_FULL_RANGE
        text = "interval"
        if fields != _INTERVAL_FULL_RANGE:
            text += " " + _INTERVAL_FIELDS[fields]
        if len(mods) > 1:
            text += f"({mods[1]})"
        return text
    if name == "bpchar" and not mods:
        mods = [1]
    if name in ("bit",) and not mods:
        mods = [1]
    if name == "numeric" and len(mods) == 1:
        mods = [mods[0], 0]  # Postgres stores numeric(p) as numeric(p,0)
    if mods:
        return f"{base}({','.join(str(m) for m in mods)})"
    return base


# How ``format_type`` (introspection) and most declarations spell the common
# built-in types, with their canonical spelling: these skip the parser, so
# reading a schema made of them never imports it. A test checks every entry
# against the parser's answer.
_PLAIN_SPELLINGS = {
    "bigint": "bigint",
    "integer": "integer",
    "smallint": "smallint",
    "text": "text",
    "boolean": "boolean",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp": "timestamp",
    "time without time zone": "time",
    "time with time zone": "timetz",
    "date": "date",
    "interval": "interval",
    "uuid": "uuid",
    "jsonb": "jsonb",
    "json": "json",
    "numeric": "numeric",
    "double precision": "double precision",
    "real": "real",
    "bytea": "bytea",
    "character varying": "varchar",
    "varchar": "varchar",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
    "money": "money",
    "tsvector": "tsvector",
    "xml": "xml",
    "oid": "oid",
}
# ``name(n)`` spellings whose canonical form only renames the type.
_SIZED_SPELLINGS = {"character varying": "varchar", "varchar": "varchar", "character": "char"}


def _plain_type(text: str) -> str | None:
    """The canonical spelling of a common built-in type, or None to ask the parser."""
    array = text.endswith("[]")
    base = text[:-2] if array else text
    canonical = _PLAIN_SPELLINGS.get(base)
    if canonical is None and base.endswith(")"):
        name, _, size = base[:-1].partition("(")
        sized = _SIZED_SPELLINGS.get(name)
        if sized is not None and size.isdigit() and size[0] != "0" and len(size) < 9:
            canonical = f"{sized}({size})"
    if canonical is None:
        return None
    return canonical + "[]" if array else canonical


@lru_cache(maxsize=4096)
def canonical_type(text: str) -> str:
    """Return the canonical spelling of a type written in any Postgres syntax.

    Raises:
        ExpressionError: the text is not a Postgres type.
    """
    plain = _plain_type(text)
    if plain is not None:
        return plain
    return _parsed_type(text)


def _parsed_type(text: str) -> str:
    """``canonical_type`` through Postgres's grammar: every spelling it accepts."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmts: Any = parse_sql(f"SELECT NULL::{text}")
        target = stmts[0].stmt.targetList
        if len(stmts) != 1 or len(target) != 1 or stmts[0].stmt.fromClause:
            raise ValueError(text)
        tn = target[0].val.typeName
        names = [n.sval for n in tn.names]
        mods = _typmods(tn)
    except (ParseError, ValueError, AttributeError, KeyError) as exc:
        raise ExpressionError(
            f"{text!r} is not a Postgres type",
            hint="write a type Postgres accepts, e.g. 'varchar(20)' or 'numeric(10,2)'",
        ) from exc
    if len(names) == 2 and names[0] == "pg_catalog":
        base = _catalog_type(names[1], mods)
    elif len(names) == 1 and names[0] in _UNQUALIFIED_ALIASES:
        base = _catalog_type(_UNQUALIFIED_ALIASES[names[0]], mods)
    else:
        if len(names) == 2 and names[0] == "public":
            names = names[1:]
        base = ".".join(quote_ident(n) for n in names)
        if mods:
            base += f"({','.join(str(m) for m in mods)})"
    if tn.arrayBounds:
        base += "[]"
    return base
