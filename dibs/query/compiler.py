"""Turn statement trees into SQL text plus bound parameters (``%s`` placeholders).

Identifiers are always quoted here, in one place, and ``%`` inside them is
doubled so psycopg never reads it as a placeholder; values never reach the SQL
text, they become parameters. Fragments that depend only on the declared schema
(quoted table names, column lists) are cached per table in ``info.py``.

Rendered SQL is also cached by statement *shape*: every node can describe
itself as a hashable key that leaves out its values (``_shape``), collecting
the values as parameters on the way. Two statements that differ only in their
values share one key, so the second one reuses the first one's SQL text
(``compile_statement``; ``SHAPES.cache_info()`` counts hits and misses).
"""

from __future__ import annotations

import enum
from collections.abc import Hashable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple, Protocol
from uuid import UUID

__all__ = [
    "SHAPES",
    "CacheInfo",
    "Compiled",
    "Compiler",
    "Node",
    "ShapeCache",
    "adapt",
    "compile_statement",
    "quote",
]


@lru_cache(maxsize=4096)
def quote(name: str) -> str:
    """Quote an identifier for a psycopg query: ``a"b%`` → ``"a""b%%"``.

    >>> quote("users"), quote('we"ird%')
    ('"users"', '"we""ird%%"')
    """
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


class Compiled(NamedTuple):
    """SQL text with ``%s`` placeholders and the values to bind, in order.

    A named tuple, not a frozen dataclass: one is built per executed statement,
    and a tuple is built in C (a frozen dataclass pays ``object.__setattr__``).
    """

    sql: str
    params: tuple[Any, ...]


class Node(Protocol):
    def _sql(self, c: Compiler) -> None: ...


class Compiler:
    """Collects SQL fragments and parameters while statement nodes render themselves.

    ``aliases`` maps a table's ``(schema, name)`` to the quoted alias its
    columns render with while a node (a nested child query) has set it.
    """

    __slots__ = ("aliases", "params", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []
        self.aliases: dict[tuple[str, str], str] = {}

    def write(self, text: str) -> None:
        self.parts.append(text)

    def param(self, value: Any, pgtype: str | None = None) -> None:
        self.parts.append("%s")
        self.params.append(adapt(value, pgtype))

    def node(self, node: Node) -> None:
        node._sql(self)

    def join(self, nodes: Any, sep: str = ", ") -> None:
        first = True
        for n in nodes:
            if not first:
                self.parts.append(sep)
            first = False
            n._sql(self)

    def result(self) -> Compiled:
        return Compiled("".join(self.parts), tuple(self.params))


# Values psycopg takes as they are, whatever the column (outside JSON columns, where
# a str or a number is a JSON document): the common case skips every check below.
_AS_IS = frozenset({int, str, float, bool, Decimal, datetime, date, UUID, type(None)})
_JSON = frozenset({"jsonb", "json"})


def adapt(value: Any, pgtype: str | None) -> Any:
    """Prepare a Python value for psycopg: enums by value, dicts/lists for JSON columns."""
    if type(value) in _AS_IS and pgtype not in _JSON:
        return value
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str) else value.name
    if pgtype in ("jsonb", "json") and isinstance(value, dict | list | str | int | float | bool):
        from psycopg.types.json import Json, Jsonb

        return Jsonb(value) if pgtype == "jsonb" else Json(value)
    if isinstance(value, dict):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    if isinstance(value, list | tuple) and value and isinstance(value[0], enum.Enum):
        return [adapt(v, None) for v in value]
    return value


def bind(params: list[Any], value: Any, pgtype: str | None = None) -> None:
    """Collect a parameter while building a shape key (the twin of ``Compiler.param``)."""
    params.append(adapt(value, pgtype))


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


class ShapeCache:
    """SQL text by statement shape; when full, the oldest shape is evicted first.

    First in, first out rather than least recently used: a hit is then a plain
    dict lookup (no reordering), and an application has far fewer statement
    shapes than ``maxsize``, so eviction is for pathological cases only.

    With ``verify`` set (tests do), every hit is rendered again and compared: a
    node whose ``_shape`` leaves out something its SQL depends on shows up at once.
    """

    __slots__ = ("_data", "hits", "maxsize", "misses", "verify")

    def __init__(self, maxsize: int = 4096) -> None:
        self._data: dict[Hashable, str] = {}
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self.verify = False

    def get(self, key: Hashable) -> str | None:
        sql = self._data.get(key)
        if sql is None:
            self.misses += 1
        else:
            self.hits += 1
        return sql

    def put(self, key: Hashable, sql: str) -> None:
        self._data[key] = sql
        if len(self._data) > self.maxsize:
            del self._data[next(iter(self._data))]

    def cache_info(self) -> CacheInfo:
        return CacheInfo(self.hits, self.misses, self.maxsize, len(self._data))

    def clear(self) -> None:
        self._data.clear()
        self.hits = self.misses = 0


SHAPES = ShapeCache()


def compile_statement(stmt: Any) -> Compiled:
    """Render a statement, reusing the SQL of an earlier statement of the same shape.

    Statements without a ``_shape`` method are rendered every time.
    """
    shape = getattr(stmt, "_shape", None)
    if shape is None:
        return _render(stmt)
    params: list[Any] = []
    key = shape(params)
    sql = SHAPES.get(key)
    if sql is not None and not SHAPES.verify:
        return Compiled(sql, tuple(params))
    compiled = _render(stmt)
    if len(compiled.params) != len(params) or (sql is not None and sql != compiled.sql):
        # A node's _shape and _sql disagree: a bug in dibs, never cache its SQL.
        raise AssertionError(
            f"{type(stmt).__name__}: the shape key does not determine the SQL "
            f"({len(params)} parameter(s) collected, {len(compiled.params)} rendered;"
            f" cached {sql!r}, rendered {compiled.sql!r})"
        )
    if sql is None:
        SHAPES.put(key, compiled.sql)
        return compiled
    return Compiled(sql, compiled.params)


def _render(stmt: Node) -> Compiled:
    c = Compiler()
    stmt._sql(c)
    return c.result()
