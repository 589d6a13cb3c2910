"""CREATE statements for a whole ``Schema``, in an order Postgres accepts.

Each object kind has one *creator*, registered with ``@creates(Kind)``, that
returns the statements the object needs, each tagged with a ``Phase``.
``render_schema`` runs every creator and sorts the statements by phase
(stably, so model order is kept inside a phase). The phases are the
dependency order:

schemas → extensions → enums → sequences → domains → tables (parents before
their partitions; primary key, unique, check and exclusion constraints
inline) → partition-local column settings → sequence ownership → foreign
keys (all as ``ALTER TABLE … ADD CONSTRAINT``, so cycles between tables and
self-references need no special case) → indexes → comments.

Every constraint and index is named explicitly, so the names read back from
the database are the names in the model. Every object is schema-qualified,
so the session's ``search_path`` never matters. Types and expressions are
canonical SQL text in the model and are inserted as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, TypeVar

from dibs.render.literals import string_literal
from dibs.render.parts import (
    column_def,
    constraint_body,
    default_expression,
    dotted,
    index_def,
    qualified,
    sequence_options,
)
from dibs.schema.model import (
    DEFAULT_SCHEMA,
    Check,
    Domain,
    EnumType,
    Exclusion,
    Extension,
    ForeignKey,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    Unique,
)
from dibs.schema.types import quote_ident, split_qualified

__all__ = [
    "Namespace",
    "Phase",
    "Step",
    "creates",
    "render_object",
    "render_schema",
    "render_script",
    "render_table",
]


class Phase(IntEnum):
    """When a statement runs, relative to the statements of other objects."""

    NAMESPACES = 10
    EXTENSIONS = 20
    ENUMS = 30
    SEQUENCES = 40
    DOMAINS = 50
    TABLES = 60
    PARTITION_SETTINGS = 70
    SEQUENCE_OWNERSHIP = 80
    FOREIGN_KEYS = 90
    INDEXES = 100
    COMMENTS = 110


@dataclass(frozen=True, slots=True)
class Step:
    """One statement of an object, and the phase it belongs to."""

    phase: Phase
    sql: str


@dataclass(frozen=True, slots=True)
class Namespace:
    """A Postgres schema (``Schema.schemas`` holds plain names; this gives them a kind)."""

    name: str


ObjT = TypeVar("ObjT")
Creator = Callable[[Any, Schema], Iterable[Step]]
_CREATORS: dict[type, Creator] = {}


def creates(
    kind: type[ObjT],
) -> Callable[[Callable[[ObjT, Schema], Iterable[Step]]], Callable[[ObjT, Schema], Iterable[Step]]]:
    """Register the creator of ``kind``; a second creator for the same kind is a bug."""

    def register(
        fn: Callable[[ObjT, Schema], Iterable[Step]],
    ) -> Callable[[ObjT, Schema], Iterable[Step]]:
        if kind in _CREATORS:
            raise RuntimeError(f"{kind.__name__} already has a creator")
        _CREATORS[kind] = fn
        return fn

    return register


def render_object(obj: object, schema: Schema) -> list[Step]:
    """Return the statements creating ``obj`` (one object of ``schema``), with their phases.

    Raises:
        NotImplementedError: no creator is registered for the object's kind.
    """
    try:
        creator = _CREATORS[type(obj)]
    except KeyError:
        raise NotImplementedError(f"no CREATE renderer for {type(obj).__name__}") from None
    return list(creator(obj, schema))


def render_schema(schema: Schema) -> list[str]:
    """Return the statements creating ``schema`` in an empty database, in dependency order."""
    objects: list[object] = [
        *(Namespace(name) for name in schema.schemas),
        *schema.extensions,
        *schema.enums,
        *schema.sequences,
        *_domains_in_order(schema.domains),
        *_tables_in_order(schema.tables),
    ]
    steps = [step for obj in objects for step in render_object(obj, schema)]
    return [step.sql for step in sorted(steps, key=lambda s: s.phase)]


def render_script(schema: Schema, *, formatter: Callable[[str], str] | None = None) -> str:
    """Return ``render_schema`` as one script for ``psql -f``, each statement formatted.

    Statements end with ``;`` and are separated by a blank line; the script
    ends with one newline. ``formatter`` defaults to ``format.format_statement``.
    """
    if formatter is None:
        from dibs.render.format import format_statement

        formatter = format_statement
    statements = [formatter(stmt) for stmt in render_schema(schema)]
    return "".join(f"{stmt};\n\n" for stmt in statements).rstrip("\n") + "\n"


# --- creators, one per object kind -------------------------------------------------------


@creates(Namespace)
def _create_namespace(ns: Namespace, schema: Schema) -> Iterable[Step]:
    yield Step(Phase.NAMESPACES, f"CREATE SCHEMA IF NOT EXISTS {quote_ident(ns.name)}")


@creates(Extension)
def _create_extension(ext: Extension, schema: Schema) -> Iterable[Step]:
    yield Step(
        Phase.EXTENSIONS,
        f"CREATE EXTENSION IF NOT EXISTS {quote_ident(ext.name)} SCHEMA {quote_ident(ext.schema)}",
    )


@creates(EnumType)
def _create_enum(enum: EnumType, schema: Schema) -> Iterable[Step]:
    name = qualified(enum.schema, enum.name)
    values = ", ".join(string_literal(v) for v in enum.values)
    yield Step(Phase.ENUMS, f"CREATE TYPE {name} AS ENUM ({values})")
    yield from _comment("TYPE", name, enum.comment)


@creates(Sequence)
def _create_sequence(seq: Sequence, schema: Schema) -> Iterable[Step]:
    name = qualified(seq.schema, seq.name)
    yield Step(Phase.SEQUENCES, f"CREATE SEQUENCE {name} {sequence_options(seq)}")
    if seq.owned_by is not None:
        owner_schema, owner_table, owner_column = seq.owned_by
        yield Step(
            Phase.SEQUENCE_OWNERSHIP,
            f"ALTER SEQUENCE {name} OWNED BY "
            f"{qualified(owner_schema, owner_table)}.{quote_ident(owner_column)}",
        )


@creates(Domain)
def _create_domain(domain: Domain, schema: Schema) -> Iterable[Step]:
    name = qualified(domain.schema, domain.name)
    text = f"CREATE DOMAIN {name} AS {domain.type}"
    if domain.collation:
        text += f" COLLATE {dotted(domain.collation)}"
    if domain.default is not None:
        text += f" DEFAULT {default_expression(domain.default)}"
    if not domain.nullable:
        text += " NOT NULL"
    for check in domain.checks:
        text += f" CONSTRAINT {quote_ident(check.name)} CHECK ({check.expression})"
    yield Step(Phase.DOMAINS, text)
    yield from _comment("DOMAIN", name, domain.comment)


@creates(Table)
def _create_table(table: Table, schema: Schema) -> Iterable[Step]:
    name = qualified(table.schema, table.name)
    yield Step(Phase.TABLES, render_table(table))
    if table.partition_of is not None:
        parent = schema.table(*reversed(_table_key(table.partition_of)))
        for stmt in partition_settings(table, parent):
            yield Step(Phase.PARTITION_SETTINGS, stmt)
    # CREATE TABLE accepts NOT VALID on a check but stores it validated: such checks
    # are added afterwards, as foreign keys are.
    later: list[ForeignKey | Check] = [*table.foreign_keys]
    later += [c for c in table.checks if c.not_valid]
    for con in later:
        yield Step(
            Phase.FOREIGN_KEYS,
            f"ALTER TABLE {name}\n  ADD CONSTRAINT {quote_ident(con.name)} {constraint_body(con)}",
        )
    for index in table.indexes:
        yield Step(Phase.INDEXES, index_def(table.schema, table.name, index))
    yield from _comment("TABLE", name, table.comment)
    for col in table.columns:
        yield from _comment("COLUMN", f"{name}.{quote_ident(col.name)}", col.comment)
    for index in table.indexes:
        yield from _comment("INDEX", qualified(table.schema, index.name), index.comment)
    keys: list[PrimaryKey | Unique | ForeignKey | Check | Exclusion] = [
        *([table.primary_key] if table.primary_key else []),
        *table.uniques,
        *table.foreign_keys,
        *table.checks,
        *table.exclusions,
    ]
    for key in keys:
        yield from _comment("CONSTRAINT", f"{quote_ident(key.name)} ON {name}", key.comment)


def _comment(kind: str, target: str, comment: str | None) -> Iterable[Step]:
    if comment is not None:
        yield Step(Phase.COMMENTS, f"COMMENT ON {kind} {target} IS {string_literal(comment)}")


# --- tables --------------------------------------------------------------------------------


def render_table(table: Table) -> str:
    """Return the CREATE TABLE statement of ``table`` (without foreign keys and indexes).

    A partition's columns come from its parent, so only its own constraints
    are listed; its column defaults and NOT NULLs are set afterwards (see
    ``partition_settings``).
    """
    name = qualified(table.schema, table.name)
    items = [] if table.partition_of is not None else [column_def(c) for c in table.columns]
    constraints: list[PrimaryKey | Unique | Check | Exclusion] = [
        *([table.primary_key] if table.primary_key else []),
        *table.uniques,
        *(c for c in table.checks if not c.not_valid),  # added after: see _create_table
        *table.exclusions,
    ]
    items += [f"CONSTRAINT {quote_ident(c.name)} {constraint_body(c)}" for c in constraints]
    body = "(\n  " + ",\n  ".join(items) + "\n)"
    if table.partition_of is not None:
        parent = qualified(*_table_key(table.partition_of))
        text = f"CREATE TABLE {name} PARTITION OF {parent}"
        text += f" {body} {table.partition_bound}" if items else f" {table.partition_bound}"
    else:
        text = f"CREATE TABLE {name} {body}" if items else f"CREATE TABLE {name} ()"
    if table.partition_by:
        text += f" PARTITION BY {table.partition_by}"
    return text


def _table_key(canonical_name: str) -> tuple[str, str]:
    """``(schema, name)`` of a canonical table name (unqualified means ``public``)."""
    namespace, name = split_qualified(canonical_name)
    return (namespace or DEFAULT_SCHEMA, name)


def partition_settings(table: Table, parent: Table | None) -> Iterable[str]:
    """Column defaults and NOT NULLs partition ``table`` has beyond what ``parent`` gives it."""
    if parent is None:
        return
    name = qualified(table.schema, table.name)
    for col in table.columns:
        inherited = parent.column(col.name)
        if inherited is None:
            continue
        alter = f"ALTER TABLE {name} ALTER COLUMN {quote_ident(col.name)}"
        if col.default != inherited.default and col.identity is None:
            yield (
                f"{alter} DROP DEFAULT"
                if col.default is None
                else (f"{alter} SET DEFAULT {col.default}")
            )
        if not col.nullable and inherited.nullable:
            yield f"{alter} SET NOT NULL"


def _tables_in_order(tables: Iterable[Table]) -> list[Table]:
    """Parents before their partitions (partitions can nest), otherwise model order."""
    by_key = {t.key: t for t in tables}
    done: set[tuple[str, str]] = set()
    ordered: list[Table] = []

    def visit(table: Table) -> None:
        if table.key in done:
            return
        done.add(table.key)
        if table.partition_of is not None:
            parent = by_key.get(_table_key(table.partition_of))
            if parent is not None:
                visit(parent)
        ordered.append(table)

    for table in by_key.values():
        visit(table)
    return ordered


def _domains_in_order(domains: Iterable[Domain]) -> list[Domain]:
    """Domains before the domains declared over them, otherwise model order."""
    by_name = {_canonical_name(d.schema, d.name): d for d in domains}
    done: set[str] = set()
    ordered: list[Domain] = []

    def visit(key: str, domain: Domain) -> None:
        if key in done:
            return
        done.add(key)
        base = domain.type.removesuffix("[]")
        if base in by_name:
            visit(base, by_name[base])
        ordered.append(domain)

    for key, domain in by_name.items():
        visit(key, domain)
    return ordered


def _canonical_name(namespace: str, name: str) -> str:
    """The spelling ``canonical_type`` gives a type in ``namespace``."""
    if namespace == DEFAULT_SCHEMA:
        return quote_ident(name)
    return f"{quote_ident(namespace)}.{quote_ident(name)}"
