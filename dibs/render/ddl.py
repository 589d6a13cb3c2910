"""CREATE statements for a whole ``Schema``, in an order Postgres accepts.

Order: schemas, extensions, enums, sequences, tables (parents before their
partitions; primary key, unique, check and exclusion constraints inline),
sequence ownership, then every foreign key as ``ALTER TABLE … ADD
CONSTRAINT`` (so cycles between tables need no special case), then indexes,
then comments. Every constraint and index is named explicitly, so the names
read back from the database are the names in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dibs.render.parts import (
    column_def,
    constraint_body,
    dotted,
    index_def,
    literal,
    qualified,
    sequence_options,
)
from dibs.schema.model import (
    Check,
    Domain,
    EnumType,
    Exclusion,
    Extension,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    Unique,
)
from dibs.schema.types import quote_ident

__all__ = ["render_schema", "render_script", "render_table"]


def _create_schemas(schema: Schema) -> Iterable[str]:
    for name in schema.schemas:
        yield f"CREATE SCHEMA IF NOT EXISTS {quote_ident(name)}"


def _create_extension(ext: Extension) -> str:
    return (
        f"CREATE EXTENSION IF NOT EXISTS {quote_ident(ext.name)} SCHEMA {quote_ident(ext.schema)}"
    )


def _create_enum(enum: EnumType) -> str:
    values = ", ".join(literal(v) for v in enum.values)
    return f"CREATE TYPE {qualified(enum.schema, enum.name)} AS ENUM ({values})"


def _create_domain(domain: Domain) -> str:
    text = f"CREATE DOMAIN {qualified(domain.schema, domain.name)} AS {domain.type}"
    if domain.collation:
        text += f" COLLATE {dotted(domain.collation)}"
    if domain.default is not None:
        text += f" DEFAULT {domain.default}"
    if not domain.nullable:
        text += " NOT NULL"
    for check in domain.checks:
        text += f" CONSTRAINT {quote_ident(check.name)} CHECK ({check.expression})"
    return text


def _create_sequence(seq: Sequence) -> str:
    return f"CREATE SEQUENCE {qualified(seq.schema, seq.name)} {sequence_options(seq)}"


def render_table(table: Table) -> str:
    """Return the CREATE TABLE statement of ``table`` (without its foreign keys)."""
    name = qualified(table.schema, table.name)
    items: list[str] = []
    if table.partition_of is None:
        items = [column_def(col) for col in table.columns]
    constraints: list[PrimaryKey | Unique | Check | Exclusion] = [
        *([table.primary_key] if table.primary_key else []),
        *table.uniques,
        *table.checks,
        *table.exclusions,
    ]
    items += [f"CONSTRAINT {quote_ident(c.name)} {constraint_body(c)}" for c in constraints]
    body = ("(\n  " + ",\n  ".join(items) + "\n)") if items else "()"
    if table.partition_of is not None:
        head = f"CREATE TABLE {name} PARTITION OF {table.partition_of}"
        text = (
            f"{head} {body} {table.partition_bound}"
            if items
            else (f"{head} {table.partition_bound}")
        )
    else:
        text = f"CREATE TABLE {name} {body}"
    if table.partition_by:
        text += f" PARTITION BY {table.partition_by}"
    return text


def _partition_defaults(table: Table, parents: dict[str, Table]) -> Iterable[str]:
    """Column settings a partition has beyond what it inherits (defaults, NOT NULL)."""
    parent = parents.get(table.partition_of or "")
    if parent is None:
        return
    name = qualified(table.schema, table.name)
    for col in table.columns:
        inherited = parent.column(col.name)
        if inherited is None:
            continue
        if col.default != inherited.default and col.identity is None:
            if col.default is None:
                yield f"ALTER TABLE {name} ALTER COLUMN {quote_ident(col.name)} DROP DEFAULT"
            else:
                yield (
                    f"ALTER TABLE {name} ALTER COLUMN {quote_ident(col.name)} "
                    f"SET DEFAULT {col.default}"
                )
        if not col.nullable and inherited.nullable:
            yield f"ALTER TABLE {name} ALTER COLUMN {quote_ident(col.name)} SET NOT NULL"


def _tables_in_order(tables: Iterable[Table]) -> list[Table]:
    """Parents before partitions (partitions can nest), otherwise model order."""
    from dibs.schema.types import canonical_type

    by_name = {canonical_type(_qualified_model_name(t)): t for t in tables}
    done: set[str] = set()
    ordered: list[Table] = []

    def visit(key: str, table: Table) -> None:
        if key in done:
            return
        done.add(key)
        if table.partition_of and table.partition_of in by_name:
            visit(table.partition_of, by_name[table.partition_of])
        ordered.append(table)

    for key, table in by_name.items():
        visit(key, table)
    return ordered


def _qualified_model_name(table: Table) -> str:
    if table.schema == "public":
        return quote_ident(table.name)
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def _comments(schema: Schema) -> Iterable[str]:
    for domain in schema.domains:
        if domain.comment is not None:
            yield (
                f"COMMENT ON DOMAIN {qualified(domain.schema, domain.name)} "
                f"IS {literal(domain.comment)}"
            )
    for enum in schema.enums:
        if enum.comment is not None:
            yield f"COMMENT ON TYPE {qualified(enum.schema, enum.name)} IS {literal(enum.comment)}"
    for table in schema.tables:
        name = qualified(table.schema, table.name)
        if table.comment is not None:
            yield f"COMMENT ON TABLE {name} IS {literal(table.comment)}"
        for col in table.columns:
            if col.comment is not None:
                yield (
                    f"COMMENT ON COLUMN {name}.{quote_ident(col.name)} IS {literal(col.comment)}"
                )
        for index in table.indexes:
            if index.comment is not None:
                yield (
                    f"COMMENT ON INDEX {qualified(table.schema, index.name)} "
                    f"IS {literal(index.comment)}"
                )


def _owned_sequences(schema: Schema) -> Iterable[str]:
    for seq in schema.sequences:
        if seq.owned_by is not None:
            owner_schema, owner_table, owner_column = seq.owned_by
            yield (
                f"ALTER SEQUENCE {qualified(seq.schema, seq.name)} OWNED BY "
                f"{qualified(owner_schema, owner_table)}.{quote_ident(owner_column)}"
            )


def render_schema(schema: Schema) -> list[str]:
    """Return the statements creating ``schema`` in an empty database, in order."""
    tables = _tables_in_order(schema.tables)
    parents = {_qualified_model_name(t): t for t in schema.tables}
    stages: list[Iterable[str]] = [
        _create_schemas(schema),
        (_create_extension(e) for e in schema.extensions),
        (_create_enum(e) for e in schema.enums),
        (_create_domain(d) for d in schema.domains),
        (_create_sequence(s) for s in schema.sequences),
        (render_table(t) for t in tables),
        (stmt for t in tables if t.partition_of for stmt in _partition_defaults(t, parents)),
        _owned_sequences(schema),
        (
            f"ALTER TABLE {qualified(t.schema, t.name)} ADD CONSTRAINT "
            f"{quote_ident(fk.name)} {constraint_body(fk)}"
            for t in tables
            for fk in t.foreign_keys
        ),
        (index_def(t.schema, t.name, ix) for t in tables for ix in t.indexes),
        _comments(schema),
    ]
    return [stmt for stage in stages for stmt in stage]


def render_script(schema: Schema, *, formatter: Callable[[str], str] | None = None) -> str:
    """Return ``render_schema`` as one script for ``psql -f``, each statement formatted."""
    if formatter is None:
        from dibs.render.format import format_statement

        formatter = format_statement
    statements = [formatter(stmt) for stmt in render_schema(schema)]
    return "".join(f"{stmt};\n\n" for stmt in statements).rstrip("\n") + "\n"
