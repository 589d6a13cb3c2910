"""Column expressions: typed SQL values built with Python operators.

``Expr[T]`` is an SQL expression whose value is a ``T``. Comparisons build
``Expr[bool]``; ``&``, ``|`` and ``~`` combine them (Python's ``and``/``or``
cannot be overloaded). ``==`` returns an expression too, but type checkers
cannot type it strictly (``object.__eq__``), so ``.eq()``/``.ne()`` exist beside it.
Every node renders itself into a ``Compiler`` (``_sql``: values become
parameters) and describes its shape (``_shape``: a hashable key without the
values, which it collects in the same order), so equal shapes share rendered
SQL (see ``compiler.py``). Keys hold strings, types and tuples only, never
expressions: ``==`` on an expression builds SQL instead of comparing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Literal, LiteralString, TypeVar, overload

from dibs.query.compiler import Compiler, bind, quote

if TYPE_CHECKING:
    from dibs.query.info import ColumnInfo, TableInfo
    from dibs.query.selects import Select

Nulls = Literal["first", "last"] | None
"""Where NULLs sort in an ORDER BY item (``None``: Postgres's default for the direction)."""

Decoder = Callable[[Any], Any]
"""Turns a non-NULL value as psycopg returned it into the expression's Python type."""

__all__ = ["Col", "ColumnExpr", "Expr", "OrderBy", "Param", "Raw", "and_", "not_", "or_", "raw"]

T = TypeVar("T")
U = TypeVar("U")


def lit(value: Any, pgtype: str | None = None) -> Expr[Any]:
    """Wrap a Python value as a bound parameter unless it is an expression already."""
    return value if isinstance(value, Expr) else Param(value, pgtype)


class Expr(Generic[T]):
    """An SQL expression whose value has the Python type ``T``."""

    __slots__ = ()
    _pgtype: str | None = None

    def _sql(self, c: Compiler) -> None:
        raise NotImplementedError

    def _shape(self, p: list[Any]) -> Hashable:
        """A key for this node's SQL text; appends its parameters to ``p`` in SQL order."""
        raise NotImplementedError

    def _decoder(self) -> Decoder | None:
        """How to turn a result value into ``T`` when psycopg cannot (enums); None: as is."""
        return None

    def _wrap(self, other: Any) -> Expr[Any]:
        return lit(other, self._pgtype)

    # -- comparisons -------------------------------------------------------
    def __eq__(self, other: object) -> Expr[bool]:  # type: ignore[override]
        if other is None:
            return IsNull(self, False)
        return BinOp(self, "=", self._wrap(other))

    def __ne__(self, other: object) -> Expr[bool]:  # type: ignore[override]
        if other is None:
            return IsNull(self, True)
        return BinOp(self, "<>", self._wrap(other))

    __hash__ = object.__hash__

    def eq(self, other: T | Expr[T]) -> Expr[bool]:
        """``=`` with the operand type checked (``==`` cannot be typed strictly)."""
        return self.__eq__(other)

    def ne(self, other: T | Expr[T]) -> Expr[bool]:
        return self.__ne__(other)

    def __lt__(self, other: T | Expr[T]) -> Expr[bool]:
        return BinOp(self, "<", self._wrap(other))

    def __le__(self, other: T | Expr[T]) -> Expr[bool]:
        return BinOp(self, "<=", self._wrap(other))

    def __gt__(self, other: T | Expr[T]) -> Expr[bool]:
        return BinOp(self, ">", self._wrap(other))

    def __ge__(self, other: T | Expr[T]) -> Expr[bool]:
        return BinOp(self, ">=", self._wrap(other))

    def is_distinct_from(self, other: T | Expr[T] | None) -> Expr[bool]:
        return BinOp(self, "IS DISTINCT FROM", self._wrap(other))

    # -- boolean algebra (on Expr[bool]) -----------------------------------
    def __and__(self: Expr[bool], other: Expr[bool]) -> Expr[bool]:
        return and_(self, other)

    def __or__(self: Expr[bool], other: Expr[bool]) -> Expr[bool]:
        return or_(self, other)

    def __invert__(self: Expr[bool]) -> Expr[bool]:
        return Not(self)

    # -- arithmetic ----------------------------------------------------------
    def __add__(self, other: T | Expr[T]) -> Expr[T]:
        return BinOp(self, "+", self._wrap(other))

    def __sub__(self, other: T | Expr[T]) -> Expr[T]:
        return BinOp(self, "-", self._wrap(other))

    def __mul__(self, other: T | Expr[T]) -> Expr[T]:
        return BinOp(self, "*", self._wrap(other))

    def __truediv__(self, other: T | Expr[T]) -> Expr[T]:
        return BinOp(self, "/", self._wrap(other))

    # -- predicates --------------------------------------------------------------
    def in_(self, values: Iterable[T] | Select[Any]) -> Expr[bool]:
        """``x = ANY(%s)`` for values (one array parameter), ``x IN (subquery)`` for a select."""
        from dibs.query.selects import Select

        if isinstance(values, Select):
            return InSelect(self, values, False)
        return InList(self, list(values), False)

    def not_in(self, values: Iterable[T] | Select[Any]) -> Expr[bool]:
        from dibs.query.selects import Select

        if isinstance(values, Select):
            return InSelect(self, values, True)
        return InList(self, list(values), True)

    def between(self, low: T | Expr[T], high: T | Expr[T]) -> Expr[bool]:
        return Between(self, self._wrap(low), self._wrap(high))

    def like(self: Expr[str] | Expr[str | None], pattern: str | Expr[str]) -> Expr[bool]:
        return BinOp(self, "LIKE", lit(pattern, "text"))

    def ilike(self: Expr[str] | Expr[str | None], pattern: str | Expr[str]) -> Expr[bool]:
        return BinOp(self, "ILIKE", lit(pattern, "text"))

    def is_null(self) -> Expr[bool]:
        return IsNull(self, False)

    def is_not_null(self) -> Expr[bool]:
        return IsNull(self, True)

    # -- JSONB and arrays ----------------------------------------------------------
    def json(self, key: str | int) -> Expr[Any]:
        """``->``: a JSON member or element, still JSON."""
        return JsonGet(self, key, "->")

    def json_text(self, key: str | int) -> Expr[str | None]:
        """``->>``: a JSON member or element as text."""
        return JsonGet(self, key, "->>")

    def contains(self, value: Any) -> Expr[bool]:
        """``@>``: JSONB containment, or array containment for array columns."""
        return BinOp(self, "@>", self._wrap(value))

    def has_key(self, key: str) -> Expr[bool]:
        """JSONB ``?``: the object has this top-level key."""
        return BinOp(self, "?", Param(key, "text"))

    def any_eq(self, value: Any) -> Expr[bool]:
        """``value = ANY(array_column)``."""
        return AnyEq(Param(value, None), self)

    # -- ordering and naming ---------------------------------------------------------
    def asc(self, *, nulls: Nulls = None) -> OrderBy:
        """``ASC``, with NULLs ``"first"`` or ``"last"`` (Postgres: last)."""
        return OrderBy(self, False, nulls)

    def desc(self, *, nulls: Nulls = None) -> OrderBy:
        """``DESC``, with NULLs ``"first"`` or ``"last"`` (Postgres: first)."""
        return OrderBy(self, True, nulls)

    def label(self, name: str) -> Label[T]:
        return Label(self, name)


class Param(Expr[T]):
    """A value bound as a query parameter (never part of the SQL text)."""

    __slots__ = ("pgtype", "value")

    def __init__(self, value: T, pgtype: str | None = None) -> None:
        self.value = value
        self.pgtype = pgtype

    def _sql(self, c: Compiler) -> None:
        c.param(self.value, self.pgtype)

    def _shape(self, p: list[Any]) -> Hashable:
        bind(p, self.value, self.pgtype)
        return _PARAM


class ColumnExpr(Expr[T]):
    """A column of a table (typed class or dynamic)."""

    __slots__ = ("_key", "_rendered")
    _key: str
    _rendered: str

    def _info(self) -> tuple[TableInfo, ColumnInfo]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        """The column's database name."""
        return self._info()[1].name

    @property
    def _pgtype(self) -> str | None:  # type: ignore[override]
        return self._info()[1].type

    def _sql(self, c: Compiler) -> None:
        if c.aliases:
            table, col = self._info()
            alias = c.aliases.get(table.key)
            if alias is not None:
                c.write(f"{alias}.{col.sql}")
                return
        try:
            c.write(self._rendered)
        except AttributeError:
            table, col = self._info()
            self._rendered = f"{table.ref}.{col.sql}"
            c.write(self._rendered)

    def _shape(self, p: list[Any]) -> Hashable:
        try:
            return self._key
        except AttributeError:
            table, col = self._info()
            self._key = f"{table.sql}.{col.sql}"
            return self._key

    def _decoder(self) -> Decoder | None:
        cls = self._info()[1].enum_cls
        return None if cls is None else _enum_decoder(cls)


class Col(ColumnExpr[T]):
    """A table class's column: ``Customer.email`` (``Col[str]``); ``customer.email`` is a ``str``.

    Annotate columns as ``email: dibs.Col[str]`` for type checkers to see the
    column at class level; at runtime ``Col[X]`` is just ``X``, so the schema
    reader sees the plain annotation.
    """

    __slots__ = ("_col", "_owner", "_table", "attr")
    _table: TableInfo
    _col: ColumnInfo

    if not TYPE_CHECKING:

        def __class_getitem__(cls, item):
            return item

    def __init__(self, attr: str) -> None:
        self.attr = attr
        self._owner: type | None = None

    def _bind(self, owner: type) -> None:
        self._owner = owner

    def _info(self) -> tuple[TableInfo, ColumnInfo]:
        try:
            return self._table, self._col
        except AttributeError:
            from dibs.query.info import table_info

            assert self._owner is not None
            self._table = table_info(self._owner)
            self._col = self._table.by_attr[self.attr]
            return self._table, self._col

    if TYPE_CHECKING:

        @overload
        def __get__(self, obj: None, owner: Any) -> Col[T]: ...
        @overload
        def __get__(self, obj: object, owner: Any) -> T: ...
        def __get__(self, obj: object, owner: Any) -> Any: ...
        def __set__(self, obj: object, value: T) -> None: ...

    else:

        def __get__(self, obj, owner=None):
            return self  # only ever found on the per-class metaclass: class access

        def __set__(self, obj, value):
            raise AttributeError(f"cannot assign to the column {self.attr!r} of a table class")

    def __repr__(self) -> str:
        owner = self._owner.__name__ if self._owner else "?"
        return f"{owner}.{self.attr}"


class Label(Expr[T]):
    """An expression named in a select list (``AS name``); elsewhere just the expression."""

    __slots__ = ("expr", "name")

    def __init__(self, expr: Expr[T], name: str) -> None:
        self.expr = expr
        self.name = name

    @property
    def _pgtype(self) -> str | None:  # type: ignore[override]  # a property over the class attr
        return self.expr._pgtype

    def _sql(self, c: Compiler) -> None:
        self.expr._sql(c)

    def _shape(self, p: list[Any]) -> Hashable:
        return self.expr._shape(p)

    def _decoder(self) -> Decoder | None:
        return self.expr._decoder()


class BinOp(Expr[Any]):
    __slots__ = ("left", "op", "right")

    def __init__(self, left: Expr[Any], op: str, right: Expr[Any]) -> None:
        self.left = left
        self.op = op
        self.right = right

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.left._sql(c)
        c.write(f" {self.op} ")
        self.right._sql(c)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (BinOp, self.left._shape(p), self.op, self.right._shape(p))


class BoolOp(Expr[bool]):
    __slots__ = ("items", "op")

    def __init__(self, op: str, items: tuple[Expr[bool], ...]) -> None:
        self.op = op
        self.items = items

    def _sql(self, c: Compiler) -> None:
        if not self.items:
            c.write("TRUE" if self.op == "AND" else "FALSE")
            return
        c.write("(")
        c.join(self.items, f" {self.op} ")
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (BoolOp, self.op, *(i._shape(p) for i in self.items))


class Not(Expr[bool]):
    __slots__ = ("item",)

    def __init__(self, item: Expr[bool]) -> None:
        self.item = item

    def _sql(self, c: Compiler) -> None:
        c.write("(NOT ")
        self.item._sql(c)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (Not, self.item._shape(p))


def and_(*items: Expr[bool]) -> Expr[bool]:
    """All of the conditions (``TRUE`` when none)."""
    flat: list[Expr[bool]] = []
    for i in items:
        flat.extend(i.items if isinstance(i, BoolOp) and i.op == "AND" else (i,))
    return flat[0] if len(flat) == 1 else BoolOp("AND", tuple(flat))


def or_(*items: Expr[bool]) -> Expr[bool]:
    """Any of the conditions (``FALSE`` when none)."""
    flat: list[Expr[bool]] = []
    for i in items:
        flat.extend(i.items if isinstance(i, BoolOp) and i.op == "OR" else (i,))
    return flat[0] if len(flat) == 1 else BoolOp("OR", tuple(flat))


def not_(item: Expr[bool]) -> Expr[bool]:
    return Not(item)


class IsNull(Expr[bool]):
    __slots__ = ("expr", "negate")

    def __init__(self, expr: Expr[Any], negate: bool) -> None:
        self.expr = expr
        self.negate = negate

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.expr._sql(c)
        c.write(" IS NOT NULL)" if self.negate else " IS NULL)")

    def _shape(self, p: list[Any]) -> Hashable:
        return (IsNull, self.expr._shape(p), self.negate)


class InList(Expr[bool]):
    """``x = ANY(%s::type[])``: one array parameter whatever the number of values."""

    __slots__ = ("expr", "negate", "values")

    def __init__(self, expr: Expr[Any], values: list[Any], negate: bool) -> None:
        self.expr = expr
        self.values = values
        self.negate = negate

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.expr._sql(c)
        c.write(" <> ALL(" if self.negate else " = ANY(")
        c.param(self.values, None)
        cast = self._cast()
        if cast:
            c.write("::" + cast)
        c.write("))")

    def _cast(self) -> str | None:
        pgtype = self.expr._pgtype
        if pgtype and pgtype not in ("json", "jsonb") and not pgtype.endswith("]"):
            return _array_type(pgtype)
        return None

    def _shape(self, p: list[Any]) -> Hashable:
        key = (InList, self.expr._shape(p), self.negate, self._cast())
        bind(p, self.values)
        return key


def _array_type(pgtype: str) -> str:
    """``shop.order_status`` → ``"shop"."order_status"[]``; built-in types as written."""
    if "." in pgtype and "(" not in pgtype:
        return ".".join(quote(p) for p in pgtype.split(".")) + "[]"
    return pgtype + "[]"


class InSelect(Expr[bool]):
    __slots__ = ("expr", "negate", "select")

    def __init__(self, expr: Expr[Any], select: Select[Any], negate: bool) -> None:
        self.expr = expr
        self.select = select
        self.negate = negate

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.expr._sql(c)
        c.write(" NOT IN (" if self.negate else " IN (")
        self.select._sql(c)
        c.write("))")

    def _shape(self, p: list[Any]) -> Hashable:
        return (InSelect, self.expr._shape(p), self.negate, self.select._shape(p))


class Between(Expr[bool]):
    __slots__ = ("expr", "high", "low")

    def __init__(self, expr: Expr[Any], low: Expr[Any], high: Expr[Any]) -> None:
        self.expr = expr
        self.low = low
        self.high = high

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.expr._sql(c)
        c.write(" BETWEEN ")
        self.low._sql(c)
        c.write(" AND ")
        self.high._sql(c)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (Between, self.expr._shape(p), self.low._shape(p), self.high._shape(p))


class JsonGet(Expr[Any]):
    __slots__ = ("expr", "key", "op")

    def __init__(self, expr: Expr[Any], key: str | int, op: str) -> None:
        self.expr = expr
        self.key = key
        self.op = op

    @property
    def _pgtype(self) -> str | None:  # type: ignore[override]
        return "jsonb" if self.op == "->" else "text"

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.expr._sql(c)
        c.write(f" {self.op} ")
        c.param(self.key, None)
        c.write("::integer)" if isinstance(self.key, int) else "::text)")

    def _shape(self, p: list[Any]) -> Hashable:
        key = (JsonGet, self.expr._shape(p), self.op, isinstance(self.key, int))
        bind(p, self.key)
        return key


class AnyEq(Expr[bool]):
    __slots__ = ("array", "value")

    def __init__(self, value: Expr[Any], array: Expr[Any]) -> None:
        self.value = value
        self.array = array

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.value._sql(c)
        c.write(" = ANY(")
        self.array._sql(c)
        c.write("))")

    def _shape(self, p: list[Any]) -> Hashable:
        return (AnyEq, self.value._shape(p), self.array._shape(p))


class Func(Expr[Any]):
    """A function call; names come from dibs's own code, never from user input."""

    __slots__ = ("args", "distinct", "name", "order_by")

    def __init__(
        self,
        name: str,
        args: tuple[Expr[Any], ...],
        distinct: bool = False,
        order_by: tuple[OrderBy, ...] = (),
    ) -> None:
        self.name = name
        self.args = args
        self.distinct = distinct
        self.order_by = order_by

    def _sql(self, c: Compiler) -> None:
        c.write(self.name + ("(DISTINCT " if self.distinct else "("))
        if self.args:
            c.join(self.args)
        else:
            c.write("*")
        if self.order_by:
            c.write(" ORDER BY ")
            c.join(self.order_by)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (
            Func,
            self.name,
            self.distinct,
            tuple(a._shape(p) for a in self.args),
            tuple(o._shape(p) for o in self.order_by),
        )

    def _decoder(self) -> Decoder | None:
        # These return a value of their first argument's type (an enum stays an enum).
        if self.name in ("min", "max", "coalesce", "lower", "upper") and self.args:
            return self.args[0]._decoder()
        return None


class OrderBy:
    """An ORDER BY item: expression, direction, and where NULLs go."""

    __slots__ = ("desc", "expr", "nulls")

    def __init__(self, expr: Expr[Any], desc: bool = False, nulls: str | None = None) -> None:
        if nulls not in (None, "first", "last"):
            raise ValueError("nulls must be 'first' or 'last'")
        self.expr = expr
        self.desc = desc
        self.nulls = nulls

    def _sql(self, c: Compiler) -> None:
        self.expr._sql(c)
        if self.desc:
            c.write(" DESC")
        if self.nulls:
            c.write(" NULLS FIRST" if self.nulls == "first" else " NULLS LAST")

    def _shape(self, p: list[Any]) -> Hashable:
        return (OrderBy, self.expr._shape(p), self.desc, self.nulls)


class Raw(Expr[Any]):
    """Raw SQL (``LiteralString``: type checkers reject text built from runtime strings)."""

    __slots__ = ("params", "text")

    def __init__(self, text: LiteralString, params: tuple[Any, ...] = ()) -> None:
        self.text = text
        self.params = params

    def _sql(self, c: Compiler) -> None:
        pieces = self.text.split("%s")
        if len(pieces) - 1 != len(self.params):
            raise ValueError(
                f"raw SQL has {len(pieces) - 1} placeholder(s) but {len(self.params)} value(s)"
            )
        for i, piece in enumerate(pieces):
            if i:
                c.param(self.params[i - 1])
            c.write(piece)

    def _shape(self, p: list[Any]) -> Hashable:
        for value in self.params:
            bind(p, value)
        return (Raw, self.text, len(self.params))


def raw(text: LiteralString, *params: Any) -> Raw:
    """An SQL fragment written by the programmer, with ``%s`` for each value."""
    return Raw(text, params)


class Exists(Expr[bool]):
    __slots__ = ("negate", "select")

    def __init__(self, select: Select[Any], negate: bool = False) -> None:
        self.select = select
        self.negate = negate

    def _sql(self, c: Compiler) -> None:
        c.write("(NOT EXISTS (" if self.negate else "(EXISTS (")
        self.select._sql(c)
        c.write("))")

    def _shape(self, p: list[Any]) -> Hashable:
        return (Exists, self.negate, self.select._shape(p))


class ScalarSubquery(Expr[T]):
    __slots__ = ("select",)

    def __init__(self, select: Select[Any]) -> None:
        self.select = select

    def _sql(self, c: Compiler) -> None:
        c.write("(")
        self.select._sql(c)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (ScalarSubquery, self.select._shape(p))

    def _decoder(self) -> Decoder | None:
        return self.select._item_decoder(0)


class TableColumn(ColumnExpr[Any]):
    """A column known by its table info (joins built from foreign keys, the dynamic API)."""

    __slots__ = ("col", "table")

    def __init__(self, table: TableInfo, col: ColumnInfo) -> None:
        self.table = table
        self.col = col

    def _info(self) -> tuple[TableInfo, ColumnInfo]:
        return self.table, self.col

    def __repr__(self) -> str:
        return f"{self.table.qualified_name}.{self.col.name}"


class DerivedColumn(Expr[Any]):
    """A column of a subquery in FROM or of a CTE: ``"alias"."name"``."""

    __slots__ = ("alias", "name")

    def __init__(self, alias: str, name: str) -> None:
        self.alias = alias
        self.name = name

    def _sql(self, c: Compiler) -> None:
        c.write(f"{quote(self.alias)}.{quote(self.name)}")

    def _shape(self, p: list[Any]) -> Hashable:
        return (DerivedColumn, self.alias, self.name)


class ArrayAgg(Func):
    """``array_agg(x)``: a list of ``x``'s type, enums included.

    psycopg cannot read arrays of types it does not know (a schema's enums)
    without a registration round trip, so those are aggregated as ``text[]``
    and decoded element by element.
    """

    __slots__ = ()

    def _text(self) -> bool:
        return not _known_type(self.args[0]._pgtype)

    def _sql(self, c: Compiler) -> None:
        super()._sql(c)
        if self._text():
            c.write("::text[]")

    def _shape(self, p: list[Any]) -> Hashable:
        return (ArrayAgg, super()._shape(p), self._text())

    def _decoder(self) -> Decoder | None:
        item = self.args[0]._decoder()
        if item is None:
            return None
        return lambda values: [None if v is None else item(v) for v in values]


def _known_type(pgtype: str | None) -> bool:
    """Whether psycopg reads this type (and arrays of it) without registration."""
    if pgtype is None:
        return True
    from psycopg.postgres import types

    base = pgtype.split("(", 1)[0].removesuffix("[]").strip()
    return types.get(base) is not None or base in ("char", "character")


def _enum_decoder(cls: type[enum.Enum]) -> Decoder:
    def decode(value: Any) -> Any:
        try:
            return cls(value)
        except ValueError:
            return cls[value]

    return decode


_PARAM = ("%s",)
"""The shape of every bound value: the value is a parameter, not part of the SQL."""
