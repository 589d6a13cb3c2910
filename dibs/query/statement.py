"""What every statement shares: compile once, then fetch on sync or async psycopg connections.

A statement object holds no connection. ``fetch(conn)`` and ``await
afetch(aconn)`` run the same compiled SQL; statements with hooks describe
their work as a plan (``plan.py``) that both drivers execute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, LiteralString, TypeVar

from dibs.query.compiler import Compiled, Compiler, compile_statement
from dibs.query.plan import Query

if TYPE_CHECKING:
    from psycopg import AsyncConnection, Connection

    from dibs.query.hooks import Origin
    from dibs.query.plan import Env, Plan

__all__ = ["RawStatement", "Statement", "raw_sql"]

R = TypeVar("R")
S = TypeVar("S", bound="Statement[Any]")


class Statement(Generic[R]):
    """Base of select, insert, update and delete: compile, fetch, afetch."""

    __slots__ = ("_compiled",)
    _compiled: Compiled

    def _sql(self, c: Compiler) -> None:
        raise NotImplementedError

    def compile(self) -> Compiled:
        """The SQL text and parameters (rendered once per statement shape, see compiler.py)."""
        # getattr with a default: a fresh statement has no ``_compiled`` slot value,
        # and raising AttributeError to find that out would cost more than the lookup.
        compiled: Compiled | None = getattr(self, "_compiled", None)
        if compiled is None:
            compiled = self._compiled = compile_statement(self)
        return compiled

    @property
    def sql(self) -> str:
        return self.compile().sql

    def _copy(self: S, **changes: Any) -> S:
        """A new statement with the same state except ``changes`` (and nothing compiled).

        Every builder call copies, so this is a hot path: each class gets a
        generated copier (``_copier``), ten times faster than a loop of setattr.
        """
        cls = type(self)
        new = object.__new__(cls)
        (_COPIERS.get(cls) or _copier(cls))(self, new)
        for k, v in changes.items():
            object.__setattr__(new, k, v)
        return new

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[R]:
        raise NotImplementedError

    def _needs_transaction(self) -> bool:
        """Whether running takes more than one query or calls hooks (then: a plan)."""
        return False

    def _plan(self, env: Env) -> Plan:
        """The work as effects for a driver (``run.py``); by default, one query."""
        compiled = self.compile()
        rows = yield Query(compiled.sql, compiled.params)
        return self._decode(rows)

    # -- sync ------------------------------------------------------------------
    def fetch(
        self, conn: Connection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> list[R]:
        """Run the statement and return every row."""
        rows: list[R] = (_RUN_SYNC or _run_sync())(self, conn, actor, origin)
        return rows

    def fetch_one(
        self, conn: Connection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> R:
        """Run the statement and return its single row.

        Raises:
            NotFound: no row; TooManyRows: more than one.
        """
        rows: list[R] = (_RUN_SYNC or _run_sync())(self, conn, actor, origin)
        return _one(rows, self)

    def fetch_optional(
        self, conn: Connection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> R | None:
        rows = self.fetch(conn, actor=actor, origin=origin)
        return _one(rows, self) if rows else None

    # -- async -----------------------------------------------------------------
    async def afetch(
        self, conn: AsyncConnection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> list[R]:
        """``fetch`` on an async connection."""
        from dibs.query.run import run_async

        rows: list[R] = await run_async(self, conn, actor, origin)
        return rows

    async def afetch_one(
        self, conn: AsyncConnection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> R:
        return _one(await self.afetch(conn, actor=actor, origin=origin), self)

    async def afetch_optional(
        self, conn: AsyncConnection[Any], *, actor: Any = None, origin: Origin = "application"
    ) -> R | None:
        rows = await self.afetch(conn, actor=actor, origin=origin)
        return _one(rows, self) if rows else None


_COPIERS: dict[type, Callable[[Any, Any], None]] = {}


def _copier(cls: type) -> Callable[[Any, Any], None]:
    """A function copying the state slots (all but ``_compiled``) of ``cls`` instances.

    Generated like dataclasses' ``__init__``: straight-line attribute copies
    run about ten times faster than a loop over the names. The source holds
    only slot names (checked to be identifiers); a slot left unset is skipped.
    """
    names = tuple(
        dict.fromkeys(
            slot
            for klass in cls.__mro__
            for slot in getattr(klass, "__slots__", ())
            if slot != "_compiled"
        )
    )
    custom_setattr = any("__setattr__" in vars(k) for k in cls.__mro__[:-1])
    if custom_setattr or not all(n.isidentifier() for n in names):

        def copy_slots(src: Any, dst: Any) -> None:
            for name in names:
                if hasattr(src, name):
                    object.__setattr__(dst, name, getattr(src, name))

        _COPIERS[cls] = copy_slots
        return copy_slots
    body = "".join(
        f"    try:\n        dst.{n} = src.{n}\n    except AttributeError:\n        pass\n"
        for n in names
    )
    namespace: dict[str, Any] = {}
    exec(f"def copy_slots(src, dst):\n{body or '    pass'}\n", namespace)
    copy: Callable[[Any, Any], None] = namespace["copy_slots"]
    _COPIERS[cls] = copy
    return copy


# ``run.py`` imports psycopg, which declaring a table must not: it is imported on the
# first fetch and kept here (an import statement per fetch costs more than the lookup).
_RUN_SYNC: Any = None


def _run_sync() -> Any:
    global _RUN_SYNC
    from dibs.query.run import run_sync

    _RUN_SYNC = run_sync
    return run_sync


def _one(rows: list[R], stmt: Statement[Any]) -> R:
    if len(rows) == 1:
        return rows[0]
    from dibs.query.errors import NotFound, TooManyRows

    if not rows:
        raise NotFound("the query returned no row", hint=stmt.sql)
    if len(rows) > 1:
        raise TooManyRows(f"the query returned {len(rows)} rows where one was expected")
    return rows[0]


class RawStatement(Statement[tuple[Any, ...]]):
    """SQL written by the programmer, run like any statement; rows come back as tuples.

    The text is ``LiteralString``: type checkers reject SQL assembled from runtime
    strings (``f"... {name}"``), so values can only travel as ``%s`` parameters.
    """

    __slots__ = ("_params", "_text")

    def __init__(self, text: LiteralString, params: tuple[Any, ...] = ()) -> None:
        self._text = text
        self._params = params

    def _sql(self, c: Compiler) -> None:
        from dibs.query.compiler import adapt

        c.write(self._text)
        c.params.extend(adapt(v, None) for v in self._params)

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in rows]


def raw_sql(text: LiteralString, *params: Any) -> RawStatement:
    """A raw-SQL escape hatch: ``raw_sql("SELECT ... WHERE id = %s", 5).fetch(conn)``.

    Errors are translated like any statement's; hooks do not run (dibs cannot
    know which rows the SQL writes).
    """
    return RawStatement(text, params)
