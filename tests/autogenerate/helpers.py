"""Domain-level helpers for autogenerate tests: build models tersely, name op types."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dibs.autogenerate import CannedQuestioner, Questioner, diff
from dibs.ops import Op
from dibs.planner import plan
from dibs.schema.expressions import canonical_expression
from dibs.schema.model import Column, PrimaryKey, Schema, Table


def col(name: str, type_: str = "text", *, null: bool = True, **kw: object) -> Column:
    return Column(name, type_, nullable=null, **kw)  # type: ignore[arg-type]


def expr(sql: str) -> str:
    return canonical_expression(sql)


def table(
    name: str, *cols: Column, schema: str = "public", pk: Sequence[str] = (), **kw: object
) -> Table:
    primary = PrimaryKey(f"{name}_pkey", tuple(pk)) if pk else None
    return Table(name, schema, columns=cols, primary_key=primary, **kw)  # type: ignore[arg-type]


def schema(*tables: Table, **kw: object) -> Schema:
    return Schema.build(tables=list(tables), **kw)  # type: ignore[arg-type]


def op_types(ops: Iterable[Op]) -> list[str]:
    return [type(op).__name__ for op in ops]


def changes(a: Schema, b: Schema, questioner: Questioner | None = None) -> list[Op]:
    """Diff and plan ``a`` → ``b`` (the plan's simulation checks the result reaches ``b``)."""
    q = questioner or CannedQuestioner(default=False)
    return plan(diff(a, b, questioner=q), a, b)


def migrate_for_real(conn: Any, a: Schema, b: Schema) -> list[str]:
    """Build ``a`` in ``conn``'s empty database, apply the plan to ``b``; introspection must
    give ``b``. Returns the plan's statements."""
    from dibs.postgres.introspect import introspect
    from dibs.render.alter import render_plan
    from dibs.render.ddl import render_schema

    with conn.transaction():
        for stmt in render_schema(a):
            conn.execute(stmt.encode())
    statements = render_plan(changes(a, b))
    with conn.transaction():
        for stmt in statements:
            conn.execute(stmt.encode())
    assert introspect(conn).managed() == b.managed()
    return statements
