"""The effects a statement's plan yields to a driver (sans-IO: no psycopg here).

A plan is a generator: it yields ``Query`` (run SQL, receive the rows),
``Call`` (call a hook, receive its result) and ``Defer`` (queue an
after-commit hook), and returns the statement's result. ``run.py`` drives
plans on sync and async connections alike.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from dibs.query.hooks import HookContext, Origin

__all__ = ["Call", "Defer", "Env", "Plan", "Query"]


@dataclass(frozen=True, slots=True)
class Query:
    """Effect: run SQL; the driver sends back the rows (an empty list without a result)."""

    sql: str
    params: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Call:
    """Effect: call a hook with a row; the driver sends back what it returned."""

    fn: Any
    row: Any
    ctx: HookContext


@dataclass(frozen=True, slots=True)
class Defer:
    """Effect: queue an after-commit hook for this connection's transaction."""

    fn: Any
    row: Any
    ctx: HookContext


@dataclass(frozen=True, slots=True)
class Env:
    """Who runs the plan: handed to statements so they can build hook contexts."""

    conn: Any
    actor: Any
    origin: Origin


Plan = Generator[Query | Call | Defer, Any, Any]
