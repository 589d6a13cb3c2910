"""A parent row with its related rows as nested lists, in one round trip.

``with_children(select(Order), OrderLine, Payment)`` returns
``(order, [line, ...], [payment, ...])`` tuples. Each child list comes from a
correlated subquery in the parent's select list that aggregates the child rows
with ``json_agg``, in the order the child query asks for (its ``order_by``,
else its primary key). The foreign key from the child to the parent is found
like a join's: exactly one must link them, or name it with ``related(child,
fk=...)``.

JSON has no decimals, timestamps or UUIDs, so each child column travels as
*text* (its Postgres output form) and is read back with psycopg's loader for
the column's type: children come back typed exactly like the parent (``Decimal``,
``datetime``, ``UUID``, enums as members). The child table is aliased inside its
subquery, so a table can nest rows of itself (categories and their subcategories).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from dibs.query.compiler import Compiler, quote
from dibs.query.errors import JoinError, QueryError
from dibs.query.expr import Expr, OrderBy, TableColumn, and_
from dibs.query.selects import Select, _TableFrom
from dibs.query.statement import Statement

if TYPE_CHECKING:
    from dibs.query.info import ColumnInfo, TableInfo
    from dibs.schema.model import ForeignKey

__all__ = ["Related", "WithChildren", "related", "with_children"]

R = TypeVar("R")
P = TypeVar("P")
C = TypeVar("C")
C1 = TypeVar("C1")
C2 = TypeVar("C2")
C3 = TypeVar("C3")
C4 = TypeVar("C4")

_ORDINAL = "dibs_n"  # the child's position, numbered by its ORDER BY


@dataclass(frozen=True, slots=True)
class Related(Generic[C]):
    """A child query and the foreign key (by name) that links it to the parent."""

    query: Select[C]
    fk: str | None = None


def related(child: type[C] | Select[C], *, fk: str | None = None) -> Related[C]:
    """A child for ``with_children``; ``fk`` names the foreign key when several link them."""
    return Related(_as_select(child), fk)


Child = type[C] | Select[C] | Related[C]


def _as_select(child: Any) -> Select[Any]:
    if isinstance(child, Related):
        return child.query
    if isinstance(child, Select):
        return child
    return Select([child])


class _Outer(TableColumn):
    """A parent column inside a child subquery: never takes the child's alias."""

    __slots__ = ()

    def _sql(self, c: Compiler) -> None:
        c.write(f"{self.table.ref}.{self.col.sql}")

    def _shape(self, p: list[Any]) -> Hashable:
        return (_Outer, self.table.sql, self.col.sql)


class _RowNumber(Expr[int]):
    """``row_number() OVER (ORDER BY ...)``: the position each child keeps in its list."""

    __slots__ = ("order_by",)

    def __init__(self, order_by: tuple[OrderBy, ...]) -> None:
        self.order_by = order_by

    def _sql(self, c: Compiler) -> None:
        c.write("row_number() OVER (")
        if self.order_by:
            c.write("ORDER BY ")
            c.join(self.order_by)
        c.write(")")

    def _shape(self, p: list[Any]) -> Hashable:
        return (_RowNumber, tuple(o._shape(p) for o in self.order_by))


class _ChildList(Expr[list[Any]]):
    """The child rows of the current parent row, as a JSON array of text arrays."""

    __slots__ = ("alias", "info", "inner")

    def __init__(self, info: TableInfo, inner: Select[Any], alias: str) -> None:
        self.info = info
        self.inner = inner
        self.alias = alias

    def _sql(self, c: Compiler) -> None:
        a = quote(self.alias)
        c.write("(SELECT coalesce(json_agg(ARRAY[")
        c.write(", ".join(f"{a}.{col.sql}::text" for col in self.info.columns))
        c.write(f"] ORDER BY {a}.{quote(_ORDINAL)}), '[]'::json) FROM (")
        self.inner._sql(c)
        c.write(f") AS {a})")

    def _shape(self, p: list[Any]) -> Hashable:
        return (_ChildList, self.info.select_list, self.alias, self.inner._shape(p))


def _link(parent: Select[Any], child: TableInfo, fk_name: str | None) -> Expr[bool]:
    """``child.fk = parent.key`` for the one foreign key from the child to a parent table."""
    candidates: list[tuple[TableInfo, ForeignKey]] = [
        (table, fk)
        for table in parent._present()
        for fk in child.table.foreign_keys
        if (fk.ref_schema, fk.ref_table) == table.key
    ]
    names = ", ".join(fk.name for _, fk in candidates) or "none"
    if fk_name is not None:
        candidates = [c for c in candidates if c[1].name == fk_name]
        if not candidates:
            raise JoinError(
                f"no foreign key named {fk_name!r} links {child.qualified_name} to the parent",
                hint=f"candidates: {names}",
            )
    if len(candidates) != 1:
        where = ", ".join(t.qualified_name for t in parent._present())
        if not candidates:
            raise JoinError(
                f"no foreign key from {child.qualified_name} references {where}",
                hint="children are the rows whose foreign key points at the parent",
            )
        raise JoinError(
            f"{len(candidates)} foreign keys link {child.qualified_name} to {where}: {names}",
            hint="name one with related(child, fk='<name>')",
        )
    table, fk = candidates[0]
    return and_(
        *(
            TableColumn(child, child.by_name[a]) == _Outer(table, table.by_name[b])
            for a, b in zip(fk.columns, fk.ref_columns, strict=True)
        )
    )


def _child_list(parent: Select[Any], spec: Any, index: int) -> tuple[_ChildList, TableInfo]:
    from dibs.query.info import TableInfo

    query = _as_select(spec)
    info = query._items[0]
    if not (query._single and isinstance(info, TableInfo)):
        raise QueryError("a child query must select one table: select(Child)...")
    if not isinstance(query._from, _TableFrom) or query._from.info is not info:
        raise QueryError("a child query must select from its own table")
    if query._distinct or query._distinct_on or query._group_by or query._ctes:
        raise QueryError("a child query takes where, joins, order_by, limit and offset only")
    link = _link(parent, info, spec.fk if isinstance(spec, Related) else None)
    order = query._order_by or tuple(OrderBy(TableColumn(info, col)) for col in info.pk)
    alias = f"dibs_c{index}"
    inner = query._copy(
        _items=(info, _RowNumber(order).label(_ORDINAL)),
        _single=False,
        _where=link if query._where is None else and_(link, query._where),
        _order_by=(),
        _alias=alias,
    )
    if query._limit is not None or query._offset is not None:
        # LIMIT applies to the ordered rows: keep the ORDER BY for it.
        inner = inner._copy(_order_by=order)
    return _ChildList(info, inner, alias), info


class WithChildren(Statement[R]):
    """A select of parent rows, each with lists of child rows; see ``with_children``."""

    __slots__ = ("_children", "_parent", "_select")

    def __init__(self, parent: Select[Any], children: Sequence[Any]) -> None:
        if not children:
            raise ValueError("with_children() needs at least one child table or query")
        if parent._keys is not None:
            raise QueryError("with_children() takes a typed select(...) as the parent")
        lists = [_child_list(parent, spec, i) for i, spec in enumerate(children)]
        self._parent = parent
        self._children = tuple(info for _, info in lists)
        self._select: Select[Any] = parent._copy(
            _items=parent._items + tuple(expr for expr, _ in lists), _single=False
        )

    def _sql(self, c: Compiler) -> None:
        self._select._sql(c)

    def _shape(self, p: list[Any]) -> Hashable:
        return (WithChildren, self._select._shape(p))

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[R]:
        n = len(self._children)
        parents = self._parent._decode([r[:-n] for r in rows])
        readers = [_reader(info) for info in self._children]
        out: list[Any] = []
        for parent, row in zip(parents, rows, strict=True):
            lists = [read(value) for read, value in zip(readers, row[-n:], strict=True)]
            out.append((parent, *lists))
        return out


def _reader(info: TableInfo) -> Callable[[list[list[str | None]]], list[Any]]:
    loaders = [_loader(col) for col in info.columns]

    def read(rows: list[list[str | None]]) -> list[Any]:
        return [
            info.decode(
                [
                    text if text is None or load is None else load(text)
                    for load, text in zip(loaders, row, strict=True)
                ]
            )
            for row in rows
        ]

    return read


def _loader(col: ColumnInfo) -> Callable[[str], Any] | None:
    """Read a column's text form into its Python value (None: keep the text)."""
    from psycopg.adapt import Transformer
    from psycopg.postgres import types
    from psycopg.pq import Format

    if col.enum_cls is not None:
        return None  # TableInfo.decode turns the text into the member
    base = col.type.split("(", 1)[0].strip()
    is_array = base.endswith("[]")
    base = base.removesuffix("[]").strip()
    if base in ("char", "character"):
        base = "bpchar"
    found = types.get(base)
    if found is None:
        return None
    oid = found.array_oid if is_array else found.oid
    if found.name in ("text", "varchar", "bpchar") and not is_array:
        return None
    loader = Transformer().get_loader(oid, Format.TEXT)
    return lambda text: loader.load(text.encode())


@overload
def with_children(parent: Select[P], c1: Child[C1], /) -> WithChildren[tuple[P, list[C1]]]: ...
@overload
def with_children(
    parent: Select[P], c1: Child[C1], c2: Child[C2], /
) -> WithChildren[tuple[P, list[C1], list[C2]]]: ...
@overload
def with_children(
    parent: Select[P], c1: Child[C1], c2: Child[C2], c3: Child[C3], /
) -> WithChildren[tuple[P, list[C1], list[C2], list[C3]]]: ...
@overload
def with_children(
    parent: Select[P], c1: Child[C1], c2: Child[C2], c3: Child[C3], c4: Child[C4], /
) -> WithChildren[tuple[P, list[C1], list[C2], list[C3], list[C4]]]: ...
def with_children(parent: Select[Any], *children: Any) -> WithChildren[Any]:
    """Fetch parent rows with their child rows as lists, in one query.

    Args:
        parent: the parent query (``select(Order).where(...)``, any order or limit).
        children: per child list, a table class (all its rows that reference the
            parent, by primary key), a query on it (``select(OrderLine)
            .order_by(OrderLine.line_no.desc()).limit(3)``: filtered, ordered, limited
            per parent), or ``related(query, fk="...")`` to pick the foreign key.

    Returns:
        A statement whose rows are ``(parent, [child, ...], ...)`` tuples.

    Raises:
        JoinError: no foreign key, or several, from a child table to the parent.
    """
    return WithChildren(parent, children)
