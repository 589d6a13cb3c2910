"""Rename a column inside SQL expressions, as Postgres does for stored expressions.

Postgres stores checks, index keys and generated expressions as trees that
point at columns by number, so renaming a column renames it in every one of
them; the simulation must do the same to predict what introspection reads.
"""

from __future__ import annotations

from typing import Any

from dibs.schema.expressions import canonical_expression, referenced_columns

__all__ = ["mentions", "rename_in_expression"]


def mentions(expression: str | None, column: str) -> bool:
    """Whether ``expression`` reads ``column``."""
    return expression is not None and column in referenced_columns(expression)


def rename_in_expression(expression: str, old: str, new: str) -> str:
    """Return ``expression`` with column references to ``old`` renamed to ``new``."""
    if old not in referenced_columns(expression):
        return expression
    from pglast import ast, parse_sql
    from pglast.stream import RawStream

    parsed: Any = parse_sql(f"SELECT {expression}")
    stmt = parsed[0].stmt
    node = stmt.targetList[0].val

    def walk(item: Any) -> None:
        if isinstance(item, ast.ColumnRef):
            fields: Any = item.fields
            if isinstance(fields[-1], ast.String) and fields[-1].sval == old:
                item.fields = (*fields[:-1], ast.String(sval=new))
            return
        if isinstance(item, tuple):
            for child in item:
                walk(child)
            return
        if isinstance(item, ast.Node):
            for attr in item:
                walk(getattr(item, attr, None))

    walk(node)
    return canonical_expression(str(RawStream()(node)))
