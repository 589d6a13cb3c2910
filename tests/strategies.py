"""Hypothesis strategies for random, valid, canonical ``dibs.schema.model.Schema`` values.

``schemas()`` covers every concept the model manages: namespaces, enums (in any
namespace), domains, sequences, extensions, tables with columns of many types,
nullability, defaults, identity and stored generated columns, comments, primary
keys, uniques, foreign keys (composite, to a primary key or a unique, cycles and
self-references), checks, exclusion constraints and indexes of every method.

Every value is what Postgres would accept and read back unchanged: types go
through ``canonical_type``, expressions through ``canonical_expression``; names
are unique per Postgres schema (relations and types share one namespace, so
tables, indexes, constraints that own an index, sequences, enums and domains
are all registered in one ``Names``) and at most 63 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import strategies as st

from dibs.schema import naming
from dibs.schema.expressions import canonical_expression
from dibs.schema.model import (
    Check,
    Column,
    Domain,
    EnumType,
    Exclusion,
    ExclusionElement,
    Extension,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    Unique,
)
from dibs.schema.types import canonical_type, quote_ident

__all__ = ["comments", "expr", "identifiers", "qualified_type", "schemas", "Names", "TypeInfo"]

# Pools of names: plain, mixed case, reserved words, spaces, unicode, long.
NAMESPACE_POOL = ("app", "Sales Dept", "order", "ünï")
TABLE_POOL = (
    "users", "orders", "UserAccount", "order", "select", "line item", "café", "events",
    "group", "t" * 58, "Ab" * 20,
)
COLUMN_POOL = (
    "id", "name", "Email", "order", "user", "created at", "value", "x", "y", "amount",
    "flag", "tags", "doc", "ünïcode", "c" * 63, "CamelCase", "from", "select",
)
ENUM_POOL = ("mood", "Status", "order", "kind")
ENUM_LABELS = ("new", "paid", "it's", "Shipped", "done", "ünï", "a b", "x" * 63)

# A comment: quotes, newlines, unicode; never NUL (Postgres text cannot hold it).
_COMMENT_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"
) | st.sampled_from("'\"\n\\")
COMMENTS = st.text(_COMMENT_CHARS, min_size=1, max_size=24)


def comments() -> st.SearchStrategy[str | None]:
    """``None`` most of the time, else a text that needs escaping."""
    return st.one_of(st.none(), st.none(), COMMENTS)


def identifiers(pool: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(pool)


def expr(sql: str) -> str:
    """Canonical text of ``sql`` (what both declarations and introspection hold)."""
    return canonical_expression(sql)


def qualified_type(schema: str, name: str) -> str:
    """Canonical type spelling of a user type: unqualified in ``public``."""
    if schema == "public":
        return canonical_type(quote_ident(name))
    return canonical_type(f"{quote_ident(schema)}.{quote_ident(name)}")


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TypeInfo:
    """A column type with what may be done with it.

    ``defaults`` are valid DEFAULT expressions; ``kind`` selects check, index
    and generated-column templates (``int``, ``num``, ``text``, ``bool``,
    ``date``, ``enum``, ``json``, ``array``, ``range``, ``other``).
    """

    name: str
    kind: str
    defaults: tuple[str, ...] = ()
    btree: bool = True
    hash: bool = True
    enum_values: tuple[str, ...] = ()
    text_like: bool = False


BUILTIN_TYPES: tuple[TypeInfo, ...] = (
    TypeInfo("bigint", "int", ("0", "42", "-1", "1 + 2")),
    TypeInfo("integer", "int", ("7", "-20", "2 * 3")),
    TypeInfo("smallint", "int", ("3",)),
    TypeInfo("text", "text", ("''", "'hello'", "'it''s'", "'multi\nline'"), text_like=True),
    TypeInfo("varchar(20)", "text", ("'abc'",), text_like=True),
    TypeInfo("varchar(255)", "text", ("''",), text_like=True),
    TypeInfo("char(3)", "text", ("'abc'",)),
    TypeInfo("boolean", "bool", ("true", "false")),
    TypeInfo("double precision", "num", ("1.5", "0", "-0.25")),
    TypeInfo("real", "num", ("2.5",)),
    TypeInfo("numeric", "num", ("0", "3.14", "-2.5", "1e10")),
    TypeInfo("numeric(10,2)", "num", ("12.50", "0")),
    TypeInfo("numeric(5)", "num", ("1",)),
    TypeInfo("timestamptz", "other", ("now()", "CURRENT_TIMESTAMP")),
    TypeInfo("timestamp", "other", ("LOCALTIMESTAMP", "'2020-01-02 03:04:05'")),
    TypeInfo("date", "date", ("CURRENT_DATE", "'2020-01-01'")),
    TypeInfo("time", "other", ("'12:00:00'",)),
    TypeInfo("interval", "other", ("'1 day'",)),
    TypeInfo("uuid", "other", ("gen_random_uuid()",)),
    TypeInfo("bytea", "other", ("'\\x00ff'",)),
    TypeInfo("jsonb", "json", ("'{}'", "'{\"a\": 1}'")),
    TypeInfo("json", "other", ("'[]'",), btree=False, hash=False),
    TypeInfo("inet", "other", ("'127.0.0.1'",)),
    TypeInfo("cidr", "other", ("'10.0.0.0/8'",)),
    TypeInfo("text[]", "array", ("'{}'", "ARRAY['a', 'b']"), hash=False),
    TypeInfo("bigint[]", "array", ("'{}'", "'{1,2}'"), hash=False),
)
RANGE_TYPES = (TypeInfo("tstzrange", "range", hash=False), TypeInfo("int4range", "range"))


@dataclass
class Names:
    """Names taken per Postgres schema: relations and types share one namespace."""

    used: dict[str, set[str]] = field(default_factory=dict)

    def free(self, schema: str, name: str) -> bool:
        return name not in self.used.get(schema, set())

    def take(self, schema: str, name: str) -> str:
        """Take ``name`` or, when it is taken, ``name`` with a numeric suffix."""
        taken = self.used.setdefault(schema, set())
        candidate, n = name, 1
        while candidate in taken:
            candidate = naming.make_object_name(name, None, str(n))
            n += 1
        taken.add(candidate)
        return candidate


@st.composite
def _namespaces(draw: st.DrawFn) -> list[str]:
    others = draw(st.lists(st.sampled_from(NAMESPACE_POOL), max_size=2, unique=True))
    return ["public", *others]


@st.composite
def _enum(draw: st.DrawFn, namespaces: list[str], names: Names) -> EnumType | None:
    schema = draw(st.sampled_from(namespaces))
    name = draw(st.sampled_from(ENUM_POOL))
    if not names.free(schema, name):
        return None
    names.take(schema, name)
    # Order matters: a permutation of distinct labels, not a sorted set.
    values = draw(st.lists(st.sampled_from(ENUM_LABELS), min_size=1, max_size=5, unique=True))
    return EnumType(name, tuple(values), schema=schema, comment=draw(comments()))


def enum_type_info(enum: EnumType) -> list[TypeInfo]:
    scalar = qualified_type(enum.schema, enum.name)
    return [
        TypeInfo(scalar, "enum", tuple(lit(v) for v in enum.values), enum_values=enum.values),
        TypeInfo(scalar + "[]", "array", ("'{}'",), hash=False),
    ]


@st.composite
def _domain(draw: st.DrawFn, namespaces: list[str], names: Names) -> tuple[Domain, TypeInfo]:
    schema = draw(st.sampled_from(namespaces))
    name = names.take(schema, draw(st.sampled_from(("positive", "Short Text"))))
    if draw(st.booleans()):
        base, kind, check, default = "integer", "int", "VALUE > 0", "1"
    else:
        base, kind, check, default = "text", "text", "length(VALUE) < 100", "'x'"
    domain = Domain(
        name=name,
        type=base,
        schema=schema,
        nullable=draw(st.booleans()),
        default=expr(default) if draw(st.booleans()) else None,
        checks=(Check(naming.check_name(name, []), expr(check)),),
        comment=draw(comments()),
    )
    # Operators on a domain resolve through its base type: same templates apply.
    return domain, TypeInfo(qualified_type(schema, name), kind, text_like=kind == "text")


@st.composite
def _sequence(draw: st.DrawFn, namespaces: list[str], names: Names) -> Sequence:
    schema = draw(st.sampled_from(namespaces))
    name = names.take(schema, draw(st.sampled_from(("counter", "Invoice No"))))
    start = draw(st.integers(1, 1000))
    return Sequence(
        name=name,
        schema=schema,
        type=draw(st.sampled_from(("bigint", "integer", "smallint"))),
        start=start,
        increment=draw(st.integers(1, 10)),
        min_value=draw(st.none() | st.integers(1, start)),
        max_value=draw(st.none() | st.integers(start + 1, 30000)),
        cache=draw(st.integers(1, 20)),
        cycle=draw(st.booleans()),
    )


@st.composite
def schemas(draw: st.DrawFn, *, btree_gist: bool = True, max_tables: int = 6) -> Schema:
    """A random valid schema in canonical form.

    Args:
        btree_gist: whether exclusion constraints may need the ``btree_gist``
            extension (the embedded test server does not ship contrib).
        max_tables: upper bound on the number of tables (at least one).
    """
    names = Names()
    namespaces = draw(_namespaces())
    enums = [e for e in (draw(_enum(namespaces, names)) for _ in range(draw(st.integers(0, 2))))
             if e is not None]
    types = list(BUILTIN_TYPES) + [t for e in enums for t in enum_type_info(e)]
    domains: list[Domain] = []
    if draw(st.integers(0, 4)) == 0:
        domain, info = draw(_domain(namespaces, names))
        domains.append(domain)
        types.append(info)
    sequences = [draw(_sequence(namespaces, names))] if draw(st.integers(0, 5)) == 0 else []
    tables = []
    for _ in range(draw(st.integers(1, max_tables))):
        schema = draw(st.sampled_from(namespaces))
        name = draw(st.sampled_from(TABLE_POOL))
        if names.free(schema, name):
            names.take(schema, name)
            tables.append(draw(table(schema, name, types, names, btree_gist)))
    tables = draw(add_foreign_keys(tables))
    need_gist = any(
        x.method == "gist" and x.elements[0].operator == "=" for t in tables for x in t.exclusions
    )
    used = {t.schema for t in tables} | {e.schema for e in enums} | {d.schema for d in domains}
    used |= {s.schema for s in sequences}
    return Schema.build(
        tables=tables,
        enums=enums,
        domains=domains,
        sequences=sequences,
        extensions=[Extension("btree_gist")] if need_gist else [],
        schemas=used | set(draw(st.lists(st.sampled_from(namespaces), max_size=1))),
    )
