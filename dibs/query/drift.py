"""Explain a failed statement by the database having drifted from the declared schema.

A query built from the declared classes fails in confusing ways when the
database was changed behind the code's back (``column "name" is of type
integer but expression is of type text``). After such an error — and only
then, so the happy path pays nothing — ``run.py`` reads the catalog entries of
the tables the statement uses (one query) and compares them with the model.
Each difference becomes a ``Drift``; ``SchemaDrift`` then says, for example,
"shop.customers.name is integer in the database but text in the schema: run
`dibs migrate`".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, LiteralString

from dibs.query.errors import Drift

if TYPE_CHECKING:
    from dibs.query.info import TableInfo

__all__ = ["CATALOG_SQL", "compare", "drift_suspect", "referenced_tables"]

# Error classes a drifted database produces: 22 (data exceptions: "invalid input
# syntax for type integer", a value too long for a varchar) and 42 (undefined
# column or table, type mismatch, no operator for the types).
_SUSPECT_CLASSES = ("22", "42")

# Columns of the given tables, with the schema of each column's (element) type so
# that a user type is named the same whatever the connection's search_path.
CATALOG_SQL: LiteralString = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, tn.nspname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN unnest(%s::text[], %s::text[]) AS wanted(s, t) ON wanted.s = n.nspname AND wanted.t = c.relname
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_type et ON et.oid = CASE WHEN ty.typcategory = 'A' THEN ty.typelem ELSE ty.oid END
LEFT JOIN pg_namespace tn ON tn.oid = et.typnamespace
WHERE c.relkind IN ('r', 'p')
ORDER BY n.nspname, c.relname, a.attnum
"""


def drift_suspect(sqlstate: str | None) -> bool:
    """Whether an error of this SQLSTATE may come from a drifted database."""
    return bool(sqlstate) and str(sqlstate)[:2] in _SUSPECT_CLASSES


def referenced_tables(obj: object) -> list[TableInfo]:
    """The tables a statement tree mentions, found by walking its slots (error path only)."""
    from dibs.query.info import TableInfo

    found: dict[tuple[str, str], TableInfo] = {}
    seen: set[int] = set()
    stack: list[Any] = [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen or item is None or isinstance(item, str | bytes | int | float):
            continue
        seen.add(id(item))
        if isinstance(item, TableInfo):
            found.setdefault(item.key, item)
            continue
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        else:
            stack.extend(_slot_values(item))
    return list(found.values())


def _slot_values(item: object) -> Iterator[Any]:
    for cls in type(item).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            value = getattr(item, slot, None)
            if value is not None:
                yield value
    info = getattr(item, "_info", None)
    if callable(info) and type(item).__module__.startswith("dibs.query"):
        try:
            yield info()[0]  # a typed column (``Customer.email``) knows its table lazily
        except Exception:  # a node without table facts is simply skipped
            return


@dataclass(frozen=True, slots=True)
class _DbColumn:
    type: str
    not_null: bool


def compare(tables: Iterable[TableInfo], rows: Sequence[Sequence[Any]]) -> list[Drift]:
    """Differences between the declared tables and their catalog rows (``CATALOG_SQL``)."""
    present: dict[tuple[str, str], dict[str, _DbColumn]] = {}
    for schema, table, column, type_text, not_null, type_schema in rows:
        cols = present.setdefault((schema, table), {})
        if column is not None:
            cols[column] = _DbColumn(_db_type(type_text, type_schema), bool(not_null))
    out: list[Drift] = []
    for info in tables:
        db = present.get(info.key)
        if db is None:
            out.append(Drift(info.qualified_name, None, "missing", None))
            continue
        for col in info.columns:
            found = db.get(col.name)
            where = info.qualified_name
            if found is None:
                out.append(Drift(where, col.name, "missing", col.type))
            elif not _same_type(found.type, col.type):
                out.append(Drift(where, col.name, found.type, col.type))
            elif found.not_null and col.nullable:
                out.append(Drift(where, col.name, "NOT NULL", "nullable"))
        declared = {c.name for c in info.columns}
        for name, found in db.items():
            if name not in declared:
                out.append(Drift(info.qualified_name, name, found.type, "missing"))
    return out


def _canonical(text: str) -> str:
    from dibs.errors import ExpressionError
    from dibs.schema.types import canonical_type

    try:
        return canonical_type(text)
    except ExpressionError:
        return text


def _db_type(text: str, type_schema: str | None) -> str:
    if type_schema and type_schema not in ("pg_catalog", "public") and "." not in text:
        text = f"{type_schema}.{text}"
    return _canonical(text)


def _same_type(db: str, declared: str) -> bool:
    return db == _canonical(declared)
