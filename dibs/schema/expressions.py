"""Canonical SQL expressions (defaults, checks, index keys, generated columns).

Work in progress: parse with pglast and deparse; normalisation rules follow.
"""

from __future__ import annotations

from functools import lru_cache

from dibs.errors import ExpressionError

__all__ = ["canonical_expression"]


@lru_cache(maxsize=8192)
def canonical_expression(sql: str) -> str:
    """Return the canonical text of a SQL expression."""
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        stmt = parse_sql(f"SELECT {sql}")[0].stmt
        node = stmt.targetList[0].val
    except ParseError as exc:
        raise ExpressionError(f"{sql!r} is not a valid SQL expression: {exc}") from exc
    return str(RawStream()(node))
