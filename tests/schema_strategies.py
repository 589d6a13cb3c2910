"""Hypothesis strategies producing random, valid canonical schemas over every concept.

Every generated value is already canonical (types through ``canonical_type``,
expressions through ``canonical_expression``) and valid for Postgres: foreign
keys reference a primary key of exactly the same type, names are unique per
Postgres schema, identity columns are integers without defaults, indexes use
operator classes that exist for their types. Cycles between tables happen
naturally because foreign keys may point at any table.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import strategies as st

from dibs.schema import naming
from dibs.schema.expressions import canonical_expression
from dibs.schema.model import (
    Check,
    Column,
    ColumnDisplay,
    Domain,
    EnumType,
    Exclusion,
    ExclusionElement,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Table,
    Unique,
)
from dibs.schema.types import canonical_type, quote_ident
from tests.strategies import identity_options

__all__ = ["schemas"]

NAMESPACES = ["public", "public", "shop", "Other NS"]
TABLE_NAMES = ["users", "orders", "Order", "select", "line items", "t_" + "x" * 40, "ünïcode"]
COLUMN_NAMES = ["a", "b", "name", "Value", "order", "created at", "amount", "tags", "c" * 50]
ENUM_LABELS = ["new", "paid", "it's", "Shipped", "done", "ünï"]
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("'\n\""),
    min_size=0,
    max_size=20,
)

# type → candidate defaults (SQL expressions); None = no default
SCALARS: dict[str, list[str]] = {
    "bigint": ["42", "-1", "1 + 2"],
    "integer": ["7", "-20"],
    "smallint": ["3"],
    "text": ["'x'", "'it''s'", "''"],
    "varchar(20)": ["'abc'"],
    "char(3)": ["'abc'"],
    "boolean": ["true", "false"],
    "double precision": ["1.5", "-0.25"],
    "real": ["2.5"],
    "numeric": ["0", "1e10", "-3.75"],
    "numeric(10,2)": ["12.50", "0"],
    "timestamptz": ["now()", "CURRENT_TIMESTAMP"],
    "timestamp": ["LOCALTIMESTAMP"],
    "date": ["CURRENT_DATE"],
    "time": ["'12:00:00'"],
    "interval": ["'1 day'"],
    "uuid": ["gen_random_uuid()"],
    "bytea": ["'\\x00ff'"],
    "jsonb": ["'{}'", "'{\"a\": 1}'::jsonb"],
    "json": ["'[]'"],
    "inet": ["'127.0.0.1'"],
    "cidr": ["'10.0.0.0/8'"],
    "text[]": ["'{}'", "ARRAY['a', 'b']"],
    "bigint[]": ["'{}'"],
    "tstzrange": [],
}
INTEGERS = ("bigint", "integer", "smallint")
NUMERIC = ("bigint", "integer", "smallint", "numeric", "numeric(10,2)", "double precision", "real")
TEXTUAL = ("text", "varchar(20)")
NOT_BTREE = ("json", "tstzrange")  # json has no equality; ranges need gist here


@dataclass
class _Names:
    """Names already taken per Postgres schema (relations share one namespace)."""

    used: dict[str, set[str]] = field(default_factory=dict)

    def take(self, schema: str, name: str) -> str:
        taken = self.used.setdefault(schema, set())
        candidate, n = name, 1
        while candidate in taken:
            candidate = naming.make_object_name(name[:50], None, str(n))
            n += 1
        taken.add(candidate)
        return candidate


def _q(schema: str, name: str) -> str:
    return quote_ident(name) if schema == "public" else f"{quote_ident(schema)}.{quote_ident(name)}"


@st.composite
def _enum(draw: st.DrawFn, name: str) -> EnumType:
    schema = draw(st.sampled_from(NAMESPACES))
    labels = draw(st.lists(st.sampled_from(ENUM_LABELS), min_size=1, max_size=4, unique=True))
    comment = draw(st.none() | TEXTS)
    return EnumType(name=name, values=tuple(labels), schema=schema, comment=comment)


@st.composite
def _column(draw: st.DrawFn, name: str, types: list[str]) -> Column:
    ctype = draw(st.sampled_from(types))
    defaults = SCALARS.get(ctype, [])
    default = None
    identity = None
    options = None
    if ctype in INTEGERS and draw(st.integers(0, 3)) == 0:
        identity = draw(st.sampled_from(["always", "by default"]))
        options = draw(identity_options())
    elif defaults and draw(st.booleans()):
        default = canonical_expression(draw(st.sampled_from(defaults)))
    return Column(
        name=name,
        type=ctype,
        nullable=identity is None and draw(st.booleans()),
        default=default,
        identity=identity,  # type: ignore[arg-type]
        identity_options=options,
        comment=draw(st.none() | TEXTS),
        display=ColumnDisplay(label=draw(st.booleans())),
    )


def _btree_ok(col: Column) -> bool:
    return col.type not in NOT_BTREE


@st.composite
def _checks(draw: st.DrawFn, table: str, cols: list[Column]) -> list[Check]:
    out: list[Check] = []
    for col in cols:
        if col.generated is not None or draw(st.integers(0, 3)) != 0:
            continue
        q = quote_ident(col.name)
        if col.type in NUMERIC:
            expr = draw(st.sampled_from([f"{q} > 0", f"{q} BETWEEN -5 AND 100", f"{q} <> 3"]))
        elif col.type in TEXTUAL:
            expr = draw(
                st.sampled_from([f"length({q}) > 0", f"{q} IN ('a', 'b')", f"{q} LIKE 'a%'"])
            )
        else:
            continue
        text = canonical_expression(expr)
        out.append(Check(naming.check_name(table, [col.name]), text))
    return out


@st.composite
def _indexes(
    draw: st.DrawFn, schema: str, table: str, cols: list[Column], names: _Names
) -> list[Index]:
    out: list[Index] = []
    plain = [c for c in cols if _btree_ok(c) and c.type not in ("jsonb", "text[]", "bigint[]")]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["btree", "partial", "expr", "gin", "brin", "hash"]))
        if kind in ("btree", "partial") and plain:
            keys = draw(
                st.lists(st.sampled_from(plain), min_size=1, max_size=2, unique_by=lambda c: c.name)
            )
            elements = []
            for c in keys:
                desc = draw(st.booleans())
                elements.append(
                    IndexElement(column=c.name, descending=desc, nulls_first=draw(st.booleans()))
                )
            where = None
            if kind == "partial":
                where = canonical_expression(f"{quote_ident(keys[0].name)} IS NOT NULL")
            include = ()
            rest = [c.name for c in plain if c not in keys]
            if rest and draw(st.booleans()):
                include = (rest[0],)
            unique = draw(st.booleans())
            name = names.take(
                schema, naming.index_name(table, [c.name for c in keys] + list(include))
            )
            out.append(
                Index(
                    name,
                    tuple(elements),
                    unique=unique,
                    where=where,
                    include=include,
                    nulls_not_distinct=unique and draw(st.booleans()),
                )
            )
        elif kind == "expr":
            texts = [c for c in cols if c.type == "text"]
            if texts:
                c = draw(st.sampled_from(texts))
                expr = canonical_expression(f"lower({quote_ident(c.name)})")
                name = names.take(schema, naming.index_name(table, ["lower"]))
                out.append(Index(name, (IndexElement(expression=expr),)))
        elif kind == "gin":
            gins = [c for c in cols if c.type in ("jsonb", "text[]", "bigint[]")]
            if gins:
                c = draw(st.sampled_from(gins))
                name = names.take(schema, naming.index_name(table, [c.name]))
                out.append(Index(name, (IndexElement(column=c.name),), method="gin"))
        elif kind == "brin":
            brins = [c for c in cols if c.type in ("timestamptz", "bigint", "integer", "date")]
            if brins:
                c = draw(st.sampled_from(brins))
                name = names.take(schema, naming.index_name(table, [c.name]))
                out.append(Index(name, (IndexElement(column=c.name),), method="brin"))
        elif kind == "hash" and plain:
            c = draw(st.sampled_from(plain))
            name = names.take(schema, naming.index_name(table, [c.name]))
            out.append(
                Index(
                    name,
                    (IndexElement(column=c.name),),
                    method="hash",
                    comment=draw(st.none() | TEXTS),
                )
            )
    return out


@st.composite
def _table(draw: st.DrawFn, schema: str, name: str, enum_types: list[str], names: _Names) -> Table:
    types = [t for t in SCALARS] + enum_types
    col_names = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=5, unique=True))
    pk_type = draw(st.sampled_from(["bigint", "integer", "uuid", "text"]))
    id_col = Column("id", pk_type, nullable=False)
    if pk_type in INTEGERS and draw(st.booleans()):
        id_col = replace(
            id_col,
            identity=draw(st.sampled_from(["always", "by default"])),
            identity_options=draw(identity_options()),
        )
    cols = [id_col] + [draw(_column(n, types)) for n in col_names]
    ints = [c for c in cols[1:] if c.type in ("bigint", "integer") and c.identity is None]
    if ints and draw(st.booleans()):
        base = ints[0]
        gen = canonical_expression(f"{quote_ident(base.name)} * 2")
        cols.append(Column("doubled", base.type, nullable=True, generated=gen))
    composite = draw(st.integers(0, 4)) == 0
    candidates = [
        c
        for c in cols[1:]
        if _btree_ok(c) and c.generated is None and c.type not in ("jsonb", "text[]", "bigint[]")
    ]
    if composite and candidates:
        second = candidates[0]
        cols = [replace(c, nullable=False) if c.name == second.name else c for c in cols]
        pk_cols: tuple[str, ...] = ("id", second.name)
    else:
        pk_cols = ("id",)
    # Only composite keys may be deferrable: foreign keys target single-column
    # keys here, and Postgres refuses a foreign key to a deferrable key.
    deferrable = len(pk_cols) > 1 and draw(st.booleans())
    pk = PrimaryKey(
        names.take(schema, naming.primary_key_name(name)),
        pk_cols,
        deferrable=deferrable,
        initially_deferred=deferrable and draw(st.booleans()),
    )
    uniques: list[Unique] = []
    for c in candidates[:2]:
        if draw(st.integers(0, 2)) == 0:
            uniques.append(
                Unique(
                    names.take(schema, naming.unique_name(name, [c.name])),
                    (c.name,),
                    nulls_not_distinct=draw(st.booleans()),
                    deferrable=(d := draw(st.booleans())),
                    initially_deferred=d and draw(st.booleans()),
                )
            )
    exclusions: list[Exclusion] = []
    if draw(st.integers(0, 5)) == 0:
        cols.append(Column("during", "tstzrange"))
        exclusions.append(
            Exclusion(
                names.take(schema, naming.exclusion_name(name, ["during"])),
                "gist",
                (ExclusionElement(quote_ident("during"), "&&"),),
            )
        )
    return Table(
        name=name,
        schema=schema,
        columns=tuple(cols),
        primary_key=pk,
        uniques=tuple(uniques),
        checks=tuple(draw(_checks(name, cols))),
        exclusions=tuple(exclusions),
        indexes=tuple(draw(_indexes(schema, name, cols, names))),
        comment=draw(st.none() | TEXTS),
    )


@st.composite
def _foreign_keys(draw: st.DrawFn, tables: list[Table]) -> list[Table]:
    """Add FK columns pointing at single-column primary keys (any table: cycles happen)."""
    out = list(tables)
    for i, table in enumerate(out):
        if not draw(st.booleans()):
            continue
        target = draw(st.sampled_from(tables))
        assert target.primary_key is not None
        if len(target.primary_key.columns) != 1:
            continue
        ref = target.column(target.primary_key.columns[0])
        assert ref is not None
        col_name = f"{target.name[:20]}_ref"
        if table.column(col_name) is not None:
            continue
        col = Column(col_name, ref.type, nullable=True)
        fk = ForeignKey(
            name=naming.foreign_key_name(table.name, [col_name]),
            columns=(col_name,),
            ref_schema=target.schema,
            ref_table=target.name,
            ref_columns=(ref.name,),
            on_delete=draw(st.sampled_from(["NO ACTION", "CASCADE", "SET NULL", "RESTRICT"])),
            on_update=draw(st.sampled_from(["NO ACTION", "CASCADE"])),
            match=draw(st.sampled_from(["SIMPLE", "FULL"])),
            deferrable=(d := draw(st.booleans())),
            initially_deferred=d and draw(st.booleans()),
        )
        out[i] = replace(
            table, columns=(*table.columns, col), foreign_keys=(*table.foreign_keys, fk)
        )
    return out


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    """A random valid schema covering every concept of the model."""
    names = _Names()
    enums = [
        draw(_enum(n))
        for n in draw(st.lists(st.sampled_from(["mood", "Status"]), max_size=2, unique=True))
    ]
    enum_types = [canonical_type(_q(e.schema, e.name)) for e in enums]
    domains: list[Domain] = []
    if draw(st.booleans()):
        domains.append(
            Domain(
                "positive",
                "integer",
                nullable=draw(st.booleans()),
                checks=(Check("positive_check", canonical_expression("VALUE > 0")),),
            )
        )
        enum_types.append("positive")
    table_names = draw(st.lists(st.sampled_from(TABLE_NAMES), min_size=1, max_size=4, unique=True))
    tables = []
    for name in table_names:
        schema = draw(st.sampled_from(NAMESPACES))
        if (schema, name) in {(t.schema, t.name) for t in tables}:
            continue
        names.take(schema, name)
        tables.append(draw(_table(schema, name, enum_types, names)))
    tables = draw(_foreign_keys(tables))
    used = {t.schema for t in tables} | {e.schema for e in enums}
    return Schema.build(tables=tables, enums=enums, schemas=used, domains=domains)
