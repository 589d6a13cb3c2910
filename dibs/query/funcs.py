"""SQL functions and aggregates with typed results (``count()`` is an ``Expr[int]``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from dibs.query.expr import ArrayAgg, Expr, Func, OrderBy, lit

__all__ = [
    "array_agg",
    "avg",
    "coalesce",
    "count",
    "json_agg",
    "lower",
    "max_",
    "min_",
    "sum_",
    "upper",
]

T = TypeVar("T")


def count(expr: Expr[Any] | None = None, *, distinct: bool = False) -> Expr[int]:
    """``count(*)``, ``count(expr)`` or ``count(DISTINCT expr)``."""
    return Func("count", () if expr is None else (expr,), distinct)


def sum_(expr: Expr[T]) -> Expr[T | None]:
    return Func("sum", (expr,))


def avg(expr: Expr[Any]) -> Expr[Decimal | None]:
    return Func("avg", (expr,))


def min_(expr: Expr[T]) -> Expr[T | None]:
    return Func("min", (expr,))


def max_(expr: Expr[T]) -> Expr[T | None]:
    return Func("max", (expr,))


def array_agg(expr: Expr[T], *, order_by: tuple[OrderBy, ...] = ()) -> Expr[list[T]]:
    """``array_agg(expr ORDER BY ...)``: a list (``None`` over no rows), enums decoded."""
    return ArrayAgg("array_agg", (expr,), order_by=order_by)


def json_agg(expr: Expr[Any], *, order_by: tuple[OrderBy, ...] = ()) -> Expr[list[Any]]:
    """``json_agg``: JSON values as ``json.loads`` reads them (numbers, strings, dicts)."""
    return Func("json_agg", (expr,), order_by=order_by)


def coalesce(expr: Expr[T | None], default: T | Expr[T]) -> Expr[T]:
    return Func("coalesce", (expr, lit(default, expr._pgtype)))


def lower(expr: Expr[str]) -> Expr[str]:
    return Func("lower", (expr,))


def upper(expr: Expr[str]) -> Expr[str]:
    return Func("upper", (expr,))
