"""SQL pieces shared by the CREATE (``ddl.py``) and ALTER (``alter.py``) renderers.

One spelling for names, literals, column definitions, constraint bodies and
index definitions, so a table created from scratch and one reached by ALTERs
are written the same way.
"""

from __future__ import annotations

import re
from functools import lru_cache

from dibs.schema.model import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    IdentityOptions,
    Index,
    IndexElement,
    PrimaryKey,
    Sequence,
    Unique,
)
from dibs.schema.types import quote_ident

__all__ = [
    "column_def",
    "constraint_body",
    "deferrable_clause",
    "dotted",
    "identity_clauses",
    "index_def",
    "literal",
    "qualified",
    "sequence_options",
    "storage_clause",
]

_SIMPLE = re.compile(r'^(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")$')


def qualified(schema: str, name: str) -> str:
    """``schema.name``, both quoted as needed; always qualified (search_path never matters)."""
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def dotted(name: str) -> str:
    """Quote each part of an unquoted dotted name from the model (opclass, collation)."""
    return ".".join(quote_ident(p) for p in name.split("."))


def literal(text: str) -> str:
    """A string literal, quotes doubled (standard_conforming_strings is on since 9.1)."""
    return "'" + text.replace("'", "''") + "'"


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(quote_ident(n) for n in names)


def column_def(col: Column) -> str:
    parts = [quote_ident(col.name), col.type]
    if col.collation:
        parts.append(f"COLLATE {dotted(col.collation)}")
    if col.generated:
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) STORED")
    if col.identity:
        identity = f"GENERATED {col.identity.upper()} AS IDENTITY"
        if col.identity_options is not None:
            identity += f" ({' '.join(identity_clauses(col.identity_options))})"
        parts.append(identity)
    if col.default is not None:
        parts.append(f"DEFAULT {default_expression(col.default)}")
    if not col.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


@lru_cache(maxsize=4096)
def default_expression(expression: str) -> str:
    """``expression`` as the ``DEFAULT`` of a column or domain definition accepts it.

    There Postgres's grammar takes a restricted expression (``b_expr``): no
    ``AT TIME ZONE``, ``AND``, ``IS NULL``, ``LIKE``… without
    parentheses (``ALTER … SET DEFAULT`` takes any expression). Postgres's
    own parser decides, so only the expressions that need them get them.
    """
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        parse_sql(f"CREATE TABLE t (c int DEFAULT {expression})")
    except ParseError:
        return f"({expression})"
    return expression


def deferrable_clause(deferrable: bool, initially_deferred: bool) -> str:
    if not deferrable:
        return ""
    return " DEFERRABLE INITIALLY DEFERRED" if initially_deferred else " DEFERRABLE"


def _element(expression: str) -> str:
    return expression if _SIMPLE.match(expression) else f"({expression})"


def constraint_body(con: PrimaryKey | Unique | ForeignKey | Check | Exclusion) -> str:
    """The text after ``CONSTRAINT name``."""
    if isinstance(con, PrimaryKey):
        tail = deferrable_clause(con.deferrable, con.initially_deferred)
        return f"PRIMARY KEY ({_names(con.columns)}){tail}"
    if isinstance(con, Unique):
        nnd = " NULLS NOT DISTINCT" if con.nulls_not_distinct else ""
        tail = deferrable_clause(con.deferrable, con.initially_deferred)
        return f"UNIQUE{nnd} ({_names(con.columns)}){tail}"
    if isinstance(con, ForeignKey):
        match = " MATCH FULL" if con.match == "FULL" else ""
        return (
            f"FOREIGN KEY ({_names(con.columns)}) REFERENCES "
            f"{qualified(con.ref_schema, con.ref_table)} ({_names(con.ref_columns)}){match}"
            f" ON DELETE {con.on_delete} ON UPDATE {con.on_update}"
            + deferrable_clause(con.deferrable, con.initially_deferred)
            + (" NOT VALID" if con.not_valid else "")
        )
    if isinstance(con, Check):
        return (
            f"CHECK ({con.expression})"
            + (" NO INHERIT" if con.no_inherit else "")
            + (" NOT VALID" if con.not_valid else "")
        )
    elements = ", ".join(
        _element(e.expression)
        + (f" {dotted(e.opclass)}" if e.opclass else "")
        + f" WITH {e.operator}"
        for e in con.elements
    )
    where = f" WHERE ({con.where})" if con.where else ""
    tail = deferrable_clause(con.deferrable, con.initially_deferred)
    return f"EXCLUDE USING {con.method} ({elements}){where}{tail}"


def _index_element(e: IndexElement) -> str:
    text = quote_ident(e.column) if e.column else f"({e.expression})"
    if e.collation:
        text += f" COLLATE {dotted(e.collation)}"
    if e.opclass:
        text += f" {dotted(e.opclass)}"
    if e.descending:
        text += " DESC" if e.nulls_first else " DESC NULLS LAST"
    elif e.nulls_first:
        text += " NULLS FIRST"
    return text


def index_def(schema: str, table: str, index: Index) -> str:
    unique = "UNIQUE " if index.unique else ""
    text = (
        f"CREATE {unique}INDEX {quote_ident(index.name)} ON {qualified(schema, table)}"
        f" USING {index.method} ({', '.join(_index_element(e) for e in index.elements)})"
    )
    if index.include:
        text += f" INCLUDE ({_names(index.include)})"
    if index.nulls_not_distinct:
        text += " NULLS NOT DISTINCT"
    if index.storage:
        text += f" WITH ({storage_clause(index.storage_as_written())})"
    if index.where:
        text += f" WHERE ({index.where})"
    return text


def storage_clause(storage: tuple[tuple[str, str], ...]) -> str:
    """``fillfactor = '70', deduplicate_items = 'on'``: values as string literals, which
    Postgres keeps as written, so what is read back equals what was declared."""
    return ", ".join(f"{quote_ident(k)} = {literal(v)}" for k, v in storage)


def sequence_options(seq: Sequence) -> str:
    """``AS … INCREMENT BY … MINVALUE … START WITH … CACHE … [NO] CYCLE``."""
    low = f"MINVALUE {seq.min_value}" if seq.min_value is not None else "NO MINVALUE"
    high = f"MAXVALUE {seq.max_value}" if seq.max_value is not None else "NO MAXVALUE"
    cycle = "CYCLE" if seq.cycle else "NO CYCLE"
    return (
        f"AS {seq.type} INCREMENT BY {seq.increment} {low} {high} "
        f"START WITH {seq.start} CACHE {seq.cache} {cycle}"
    )


def identity_clauses(options: IdentityOptions | None, *, every_for: str | None = None) -> list[str]:
    """Return an identity sequence's options as clauses: ``START WITH 3``, ``NO CYCLE``…

    Only the options that differ from Postgres's defaults, unless ``every_for``
    names the column's type: then all six, each spelled out (``NO MINVALUE``
    for a default bound, the start as a number), which ``ALTER COLUMN … SET …``
    needs because Postgres keeps whatever an ALTER does not name, and a
    default bound or start depends on the increment's direction.
    """
    opts = options or IdentityOptions()
    every = every_for is not None
    clauses = []
    if every or opts.increment != 1:
        clauses.append(f"INCREMENT BY {opts.increment}")
    if opts.min_value is not None:
        clauses.append(f"MINVALUE {opts.min_value}")
    elif every:
        clauses.append("NO MINVALUE")
    if opts.max_value is not None:
        clauses.append(f"MAXVALUE {opts.max_value}")
    elif every:
        clauses.append("NO MAXVALUE")
    if opts.start is not None:
        clauses.append(f"START WITH {opts.start}")
    elif every:
        clauses.append(f"START WITH {opts.effective_start(every_for or 'bigint')}")
    if every or opts.cache != 1:
        clauses.append(f"CACHE {opts.cache}")
    if opts.cycle:
        clauses.append("CYCLE")
    elif every:
        clauses.append("NO CYCLE")
    return clauses
