"""Render operations as SQL: one or more statements per operation, by a registry on op type.

Identifiers are quoted with ``quote_ident`` and literals (comments, enum
values) escaped; expressions and types come from the canonical model, which
only holds text Postgres's parser re-printed. Objects are always
schema-qualified so the session's ``search_path`` never matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from dibs import ops
from dibs.render.ddl import render_table
from dibs.render.parts import (
    column_def,
    constraint_body,
    index_def,
    literal,
    qualified,
    sequence_options,
)
from dibs.schema.model import Check, ForeignKey
from dibs.schema.types import quote_ident

__all__ = ["render_op", "render_plan", "renders"]

OpT = TypeVar("OpT", bound=ops.Op)
_RENDERERS: dict[type[ops.Op], Callable[[Any], list[str]]] = {}


def renders(
    op_type: type[OpT],
) -> Callable[[Callable[[OpT], list[str]]], Callable[[OpT], list[str]]]:
    """Register the renderer of ``op_type``; a second one for the same type is a bug."""

    def register(fn: Callable[[OpT], list[str]]) -> Callable[[OpT], list[str]]:
        if op_type in _RENDERERS:
            raise RuntimeError(f"{op_type.__name__} already has a renderer")
        _RENDERERS[op_type] = fn
        return fn

    return register


def render_op(op: ops.Op) -> list[str]:
    """Return the SQL statements (without trailing semicolons) of one operation."""
    try:
        renderer = _RENDERERS[type(op)]
    except KeyError:
        raise NotImplementedError(f"no renderer for {type(op).__name__}") from None
    return renderer(op)


def render_plan(plan: Iterable[ops.Op]) -> list[str]:
    """Return the SQL statements of a planned list of operations, in order."""
    return [stmt for op in plan for stmt in render_op(op)]


def _alter(schema: str, table: str, action: str) -> str:
    return f"ALTER TABLE {qualified(schema, table)} {action}"


def _comment(kind: str, target: str, comment: str | None) -> str:
    value = "NULL" if comment is None else literal(comment)
    return f"COMMENT ON {kind} {target} IS {value}"


@renders(ops.CreateSchema)
def _create_schema(op: ops.CreateSchema) -> list[str]:
    return [f"CREATE SCHEMA {quote_ident(op.name)}"]


@renders(ops.DropSchema)
def _drop_schema(op: ops.DropSchema) -> list[str]:
    return [f"DROP SCHEMA {quote_ident(op.name)}"]


@renders(ops.CreateExtension)
def _create_extension(op: ops.CreateExtension) -> list[str]:
    ext = op.extension
    return [
        f"CREATE EXTENSION IF NOT EXISTS {quote_ident(ext.name)} WITH SCHEMA "
        f"{quote_ident(ext.schema)}"
    ]


@renders(ops.DropExtension)
def _drop_extension(op: ops.DropExtension) -> list[str]:
    return [f"DROP EXTENSION {quote_ident(op.extension.name)}"]


@renders(ops.CreateEnum)
def _create_enum(op: ops.CreateEnum) -> list[str]:
    name = qualified(*op.enum.key)
    values = ", ".join(literal(v) for v in op.enum.values)
    out = [f"CREATE TYPE {name} AS ENUM ({values})"]
    if op.enum.comment is not None:
        out.append(_comment("TYPE", name, op.enum.comment))
    return out


@renders(ops.DropEnum)
def _drop_enum(op: ops.DropEnum) -> list[str]:
    return [f"DROP TYPE {qualified(*op.enum.key)}"]


@renders(ops.AddEnumValue)
def _add_enum_value(op: ops.AddEnumValue) -> list[str]:
    where = ""
    if op.after is not None:
        where = f" AFTER {literal(op.after)}"
    elif op.before is not None:
        where = f" BEFORE {literal(op.before)}"
    return [f"ALTER TYPE {qualified(op.schema, op.name)} ADD VALUE {literal(op.value)}{where}"]


@renders(ops.RecreateEnum)
def _recreate_enum(op: ops.RecreateEnum) -> list[str]:
    """New type, convert each column through text, drop the old type, take its name."""
    name = qualified(*op.new.key)
    temp = qualified(op.new.schema, op.temporary_name)
    values = ", ".join(literal(v) for v in op.new.values)
    out = [f"CREATE TYPE {temp} AS ENUM ({values})"]
    for col in op.columns:
        column = quote_ident(col.column)
        if col.default is not None:
            out.append(_alter(col.schema, col.table, f"ALTER COLUMN {column} DROP DEFAULT"))
        suffix = "[]" if col.array else ""
        new_type = f"{temp}{suffix}"
        action = f"ALTER COLUMN {column} TYPE {new_type} USING {column}::text{suffix}::{new_type}"
        out.append(_alter(col.schema, col.table, action))
    out.append(f"DROP TYPE {name}")
    out.append(f"ALTER TYPE {temp} RENAME TO {quote_ident(op.new.name)}")
    for col in op.columns:
        if col.default is not None:
            action = f"ALTER COLUMN {quote_ident(col.column)} SET DEFAULT {col.default}"
            out.append(_alter(col.schema, col.table, action))
    if op.new.comment is not None:
        out.append(_comment("TYPE", name, op.new.comment))
    return out


@renders(ops.CreateSequence)
def _create_sequence(op: ops.CreateSequence) -> list[str]:
    return [f"CREATE SEQUENCE {qualified(*op.sequence.key)} {sequence_options(op.sequence)}"]


@renders(ops.AlterSequence)
def _alter_sequence(op: ops.AlterSequence) -> list[str]:
    owner = op.new.owned_by
    owned = (
        "NONE" if owner is None else (f"{qualified(owner[0], owner[1])}.{quote_ident(owner[2])}")
    )
    options = sequence_options(op.new)
    return [f"ALTER SEQUENCE {qualified(*op.new.key)} {options} OWNED BY {owned}"]


@renders(ops.DropSequence)
def _drop_sequence(op: ops.DropSequence) -> list[str]:
    return [f"DROP SEQUENCE {qualified(*op.sequence.key)}"]


@renders(ops.CreateTable)
def _create_table(op: ops.CreateTable) -> list[str]:
    table = op.table
    out = [render_table(table)]
    name = qualified(*table.key)
    if table.comment is not None:
        out.append(_comment("TABLE", name, table.comment))
    for col in table.columns:
        if col.comment is not None:
            out.append(_comment("COLUMN", f"{name}.{quote_ident(col.name)}", col.comment))
    return out


@renders(ops.DropTable)
def _drop_table(op: ops.DropTable) -> list[str]:
    return [f"DROP TABLE {qualified(*op.table.key)}"]


@renders(ops.RenameTable)
def _rename_table(op: ops.RenameTable) -> list[str]:
    schema, name = op.table.key
    out = []
    if op.new_schema != schema:
        out.append(_alter(schema, name, f"SET SCHEMA {quote_ident(op.new_schema)}"))
    if op.new_name != name:
        out.append(_alter(op.new_schema, name, f"RENAME TO {quote_ident(op.new_name)}"))
    return out


@renders(ops.SetComment)
def _set_comment(op: ops.SetComment) -> list[str]:
    target = qualified(op.schema, op.name)
    if op.kind == "column":
        assert op.column is not None
        target += f".{quote_ident(op.column)}"
    return [_comment(op.kind.upper(), target, op.comment)]


@renders(ops.AddColumn)
def _add_column(op: ops.AddColumn) -> list[str]:
    out = [_alter(op.schema, op.table, f"ADD COLUMN {column_def(op.column)}")]
    if op.column.comment is not None:
        target = f"{qualified(op.schema, op.table)}.{quote_ident(op.column.name)}"
        out.append(_comment("COLUMN", target, op.column.comment))
    return out


@renders(ops.DropColumn)
def _drop_column(op: ops.DropColumn) -> list[str]:
    return [_alter(op.schema, op.table, f"DROP COLUMN {quote_ident(op.column.name)}")]


@renders(ops.RenameColumn)
def _rename_column(op: ops.RenameColumn) -> list[str]:
    action = f"RENAME COLUMN {quote_ident(op.old)} TO {quote_ident(op.new)}"
    return [_alter(op.schema, op.table, action)]


@renders(ops.AlterColumnType)
def _alter_column_type(op: ops.AlterColumnType) -> list[str]:
    column = f"ALTER COLUMN {quote_ident(op.column)}"
    out = []
    if op.old_default is not None:
        out.append(_alter(op.schema, op.table, f"{column} DROP DEFAULT"))
    action = f"{column} TYPE {op.new_type}"
    if op.collation:
        action += f" COLLATE {'.'.join(quote_ident(p) for p in op.collation.split('.'))}"
    if op.using:
        action += f" USING {op.using}"
    out.append(_alter(op.schema, op.table, action))
    if op.new_default is not None:
        out.append(_alter(op.schema, op.table, f"{column} SET DEFAULT {op.new_default}"))
    return out


def _column_action(action: str) -> Callable[[Any], list[str]]:
    def render(op: Any) -> list[str]:
        column = f"ALTER COLUMN {quote_ident(op.column)} "
        return [_alter(op.schema, op.table, column + action.format(op=op))]

    return render


renders(ops.SetNotNull)(_column_action("SET NOT NULL"))
renders(ops.DropNotNull)(_column_action("DROP NOT NULL"))
renders(ops.SetDefault)(_column_action("SET DEFAULT {op.default}"))
renders(ops.DropDefault)(_column_action("DROP DEFAULT"))
renders(ops.DropIdentity)(_column_action("DROP IDENTITY"))


@renders(ops.AddIdentity)
def _add_identity(op: ops.AddIdentity) -> list[str]:
    action = f"ALTER COLUMN {quote_ident(op.column)} ADD GENERATED {op.kind.upper()} AS IDENTITY"
    return [_alter(op.schema, op.table, action)]


@renders(ops.AlterIdentity)
def _alter_identity(op: ops.AlterIdentity) -> list[str]:
    action = f"ALTER COLUMN {quote_ident(op.column)} SET GENERATED {op.kind.upper()}"
    return [_alter(op.schema, op.table, action)]


@renders(ops.AddPrimaryKey)
def _add_primary_key(op: ops.AddPrimaryKey) -> list[str]:
    pk = op.primary_key
    action = f"ADD CONSTRAINT {quote_ident(pk.name)} {constraint_body(pk)}"
    return [_alter(op.schema, op.table, action)]


@renders(ops.DropPrimaryKey)
def _drop_primary_key(op: ops.DropPrimaryKey) -> list[str]:
    return [_alter(op.schema, op.table, f"DROP CONSTRAINT {quote_ident(op.primary_key.name)}")]


@renders(ops.AddConstraint)
def _add_constraint(op: ops.AddConstraint) -> list[str]:
    """Foreign keys and checks on existing tables: ``NOT VALID``, then ``VALIDATE``.

    Validation then takes a SHARE UPDATE EXCLUSIVE lock instead of blocking writes.
    """
    con = op.constraint
    name = quote_ident(con.name)
    action = f"ADD CONSTRAINT {name} {constraint_body(con)}"
    two_step = op.existing_table and isinstance(con, ForeignKey | Check)
    if not two_step:
        return [_alter(op.schema, op.table, action)]
    return [
        _alter(op.schema, op.table, action + " NOT VALID"),
        _alter(op.schema, op.table, f"VALIDATE CONSTRAINT {name}"),
    ]


@renders(ops.DropConstraint)
def _drop_constraint(op: ops.DropConstraint) -> list[str]:
    return [_alter(op.schema, op.table, f"DROP CONSTRAINT {quote_ident(op.constraint.name)}")]


@renders(ops.RenameConstraint)
def _rename_constraint(op: ops.RenameConstraint) -> list[str]:
    action = f"RENAME CONSTRAINT {quote_ident(op.old)} TO {quote_ident(op.new)}"
    return [_alter(op.schema, op.table, action)]


@renders(ops.CreateIndex)
def _create_index(op: ops.CreateIndex) -> list[str]:
    out = [index_def(op.schema, op.table, op.index)]
    if op.index.comment is not None:
        out.append(_comment("INDEX", qualified(op.schema, op.index.name), op.index.comment))
    return out


@renders(ops.DropIndex)
def _drop_index(op: ops.DropIndex) -> list[str]:
    return [f"DROP INDEX {qualified(op.schema, op.index.name)}"]


@renders(ops.RenameIndex)
def _rename_index(op: ops.RenameIndex) -> list[str]:
    return [f"ALTER INDEX {qualified(op.schema, op.old)} RENAME TO {quote_ident(op.new)}"]
