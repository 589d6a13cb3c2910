"""SELECT: typed rows or tuples, where, joins by foreign key, grouping, paging, subqueries.

``select(Order)`` returns ``Order`` instances; ``select(Order.id, Order.total)``
returns ``tuple[UUID, Decimal]`` (typed up to 10 columns). Builder methods
return new statements, so a statement can be kept and reused.
"""

from __future__ import annotations

import weakref
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

from dibs.query.compiler import Compiler, bind, quote
from dibs.query.expr import (
    ColumnExpr,
    Decoder,
    DerivedColumn,
    Exists,
    Expr,
    Label,
    OrderBy,
    Param,
    ScalarSubquery,
    TableColumn,
    and_,
)
from dibs.query.info import TableInfo, table_info
from dibs.query.rowtype import TableType
from dibs.query.statement import Statement

if TYPE_CHECKING:
    from dibs.schema.model import ForeignKey

__all__ = ["Derived", "Select", "exists", "scalar", "select"]

R = TypeVar("R")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")
T7 = TypeVar("T7")
T8 = TypeVar("T8")
T9 = TypeVar("T9")
T10 = TypeVar("T10")

# One item of a typed projection: a column or expression, or a table class (its row).
T = TypeVar("T")
Item: TypeAlias = Expr[T] | type[T]


class Derived:
    """A subquery in FROM or a CTE, with its columns as ``sub.c.name`` or ``sub["name"]``."""

    __slots__ = ("c", "is_cte", "name", "select")

    def __init__(self, select: Select[Any], name: str, is_cte: bool) -> None:
        self.select = select
        self.name = name
        self.is_cte = is_cte
        self.c = _Columns(name)

    def __getitem__(self, column: str) -> Expr[Any]:
        return DerivedColumn(self.name, column)

    def _from_sql(self, c: Compiler) -> None:
        if self.is_cte:
            c.write(quote(self.name))
            return
        c.write("(")
        self.select._sql(c)
        c.write(") AS " + quote(self.name))

    def _shape(self, p: list[Any]) -> Hashable:
        if self.is_cte:
            return (Derived, self.name)
        return (Derived, self.name, self.select._shape(p))


class _Columns:
    __slots__ = ("_alias",)

    def __init__(self, alias: str) -> None:
        self._alias = alias

    def __getattr__(self, name: str) -> Expr[Any]:
        return DerivedColumn(self._alias, name)


class _TableFrom:
    __slots__ = ("info",)

    def __init__(self, info: TableInfo) -> None:
        self.info = info

    def _from_sql(self, c: Compiler) -> None:
        c.write(self.info.sql)
        if c.aliases:
            alias = c.aliases.get(self.info.key)
            if alias is not None:
                c.write(" AS " + alias)

    def _shape(self, p: list[Any]) -> Hashable:
        return self.info.sql


FromItem = _TableFrom | Derived


class _Join:
    __slots__ = ("kind", "on", "target")

    def __init__(self, target: FromItem, on: Expr[bool], kind: str) -> None:
        self.target = target
        self.on = on
        self.kind = kind


def _info_of(item: Any) -> TableInfo | None:
    return table_info(item) if isinstance(item, TableType) else None


class Select(Statement[R]):
    """A SELECT statement; see ``select``."""

    __slots__ = (
        "_alias",
        "_ctes",
        "_distinct",
        "_distinct_on",
        "_for_update",
        "_from",
        "_group_by",
        "_having",
        "_items",
        "_joins",
        "_keys",
        "_limit",
        "_offset",
        "_order_by",
        "_single",
        "_where",
    )

    def __init__(self, items: Sequence[Any]) -> None:
        if not items:
            raise ValueError("select() needs a table class or at least one column")
        resolved: list[TableInfo | Expr[Any]] = []
        for item in items:
            info = item if isinstance(item, TableInfo) else _info_of(item)
            if info is not None:
                resolved.append(info)
            elif isinstance(item, Expr):
                resolved.append(item)
            else:
                raise TypeError(f"cannot select {item!r}: give table classes or columns")
        self._items: tuple[TableInfo | Expr[Any], ...] = tuple(resolved)
        self._single = len(resolved) == 1 and isinstance(resolved[0], TableInfo)
        first = _first_table(self._items)
        self._from: FromItem | None = None if first is None else _TableFrom(first)
        self._joins: tuple[_Join, ...] = ()
        self._where: Expr[bool] | None = None
        self._group_by: tuple[Expr[Any], ...] = ()
        self._having: Expr[bool] | None = None
        self._order_by: tuple[OrderBy, ...] = ()
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        self._distinct_on: tuple[Expr[Any], ...] = ()
        self._ctes: tuple[Derived, ...] = ()
        self._for_update = False
        self._keys: tuple[str, ...] | None = None
        self._alias: str | None = None  # FROM table AS alias (nested child queries)

    # -- building --------------------------------------------------------------
    def select_from(self, source: type[Any] | Derived | TableInfo) -> Select[R]:
        """Set FROM explicitly (a table class, a subquery or a CTE)."""
        if isinstance(source, Derived):
            return self._copy(_from=source)
        info = source if isinstance(source, TableInfo) else _info_of(source)
        if info is None:
            raise TypeError(f"cannot select from {source!r}")
        return self._copy(_from=_TableFrom(info))

    def where(self, *conditions: Expr[bool]) -> Select[R]:
        """Add conditions, joined with AND to those already given.

        A query whose select list names no table (``select(count())``) takes its FROM
        from the first column of the conditions.
        """
        if self._where is None and len(conditions) == 1:
            condition: Expr[bool] | None = conditions[0]  # the common case, no AND to build
        else:
            condition = _and(self._where, conditions)
        new = self._copy(_where=condition)
        if self._from is None:
            first = _first_table(conditions)
            if first is not None:
                new._from = _TableFrom(first)
        return new

    def join(
        self,
        target: type[Any] | Derived | TableInfo,
        on: Expr[bool] | None = None,
        *,
        fk: str | None = None,
        left: bool = False,
    ) -> Select[R]:
        """Join a table: ON from the one foreign key linking it to the query, or as given.

        Raises:
            JoinError: no foreign key, or several (pass ``fk=`` with one of the names or ``on=``).
        """
        item = self._join_target(target)
        if on is None:
            if isinstance(item, Derived):
                raise TypeError("joining a subquery or CTE needs on=")
            on = self._infer_on(item.info, fk)
        return self._copy(_joins=(*self._joins, _Join(item, on, "LEFT" if left else "INNER")))

    def left_join(
        self,
        target: type[Any] | Derived | TableInfo,
        on: Expr[bool] | None = None,
        *,
        fk: str | None = None,
    ) -> Select[R]:
        return self.join(target, on, fk=fk, left=True)

    def group_by(self, *exprs: Expr[Any]) -> Select[R]:
        return self._copy(_group_by=self._group_by + exprs)

    def having(self, *conditions: Expr[bool]) -> Select[R]:
        return self._copy(_having=_and(self._having, conditions))

    def order_by(self, *items: Expr[Any] | OrderBy) -> Select[R]:
        extra = tuple(i if isinstance(i, OrderBy) else OrderBy(i) for i in items)
        return self._copy(_order_by=self._order_by + extra)

    def limit(self, n: int | None) -> Select[R]:
        return self._copy(_limit=None if n is None else int(n))

    def offset(self, n: int | None) -> Select[R]:
        return self._copy(_offset=None if n is None else int(n))

    def distinct(self, *on: Expr[Any]) -> Select[R]:
        """``DISTINCT``, or ``DISTINCT ON (exprs)`` when expressions are given."""
        return self._copy(_distinct=not on, _distinct_on=on)

    def for_update(self) -> Select[R]:
        return self._copy(_for_update=True)

    def with_(self, *ctes: Derived) -> Select[R]:
        """Attach CTEs (``WITH name AS (...)``) made with ``.cte(name)``."""
        return self._copy(_ctes=self._ctes + ctes)

    def after(self, *values: Any) -> Select[R]:
        """Keyset pagination: rows after ``values`` in the ORDER BY (all ASC or all DESC).

        ``select(Order).order_by(Order.placed_at, Order.id).after(last.placed_at, last.id)``

        The condition is a row comparison, ``(placed_at, id) > (%s, %s)``: order by
        NOT NULL columns, and end with a unique one so that no row is skipped or repeated.
        """
        from dibs.query.errors import QueryError

        if len(values) != len(self._order_by) or not values:
            raise QueryError(
                f"after() needs one value per ORDER BY item ({len(self._order_by)})",
                hint="order by a unique key (add the primary key last) and pass its values",
            )
        directions = {o.desc for o in self._order_by}
        if len(directions) != 1:
            raise QueryError("after() needs every ORDER BY item in the same direction")
        return self.where(
            _RowCompare(
                tuple(o.expr for o in self._order_by),
                "<" if directions.pop() else ">",
                tuple(
                    Param(v, o.expr._pgtype) for v, o in zip(values, self._order_by, strict=True)
                ),
            )
        )

    def subquery(self, name: str) -> Derived:
        """Use this query in FROM (a derived table) under ``name``."""
        return Derived(self, name, False)

    def cte(self, name: str) -> Derived:
        """Use this query as a CTE; attach it with ``.with_(cte)`` on the outer query."""
        return Derived(self, name, True)

    def exists(self) -> Expr[bool]:
        return Exists(self)

    def scalar(self) -> Expr[Any]:
        return ScalarSubquery(self)

    # -- joins -------------------------------------------------------------------
    def _join_target(self, target: type[Any] | Derived | TableInfo) -> FromItem:
        if isinstance(target, Derived):
            return target
        info = target if isinstance(target, TableInfo) else _info_of(target)
        if info is None:
            raise TypeError(f"cannot join {target!r}: give a table class, subquery or CTE")
        return _TableFrom(info)

    def _present(self) -> list[TableInfo]:
        found = [self._from.info] if isinstance(self._from, _TableFrom) else []
        found += [j.target.info for j in self._joins if isinstance(j.target, _TableFrom)]
        return found

    def _infer_on(self, target: TableInfo, fk_name: str | None) -> Expr[bool]:
        present = tuple(self._present())
        key = (present, target, fk_name)
        on = _ON_CACHE.get(key)
        if on is None:
            if len(_ON_CACHE) > 1024:  # dynamic catalogs make new TableInfo objects
                _ON_CACHE.clear()
            on = _ON_CACHE[key] = _fk_condition(present, target, fk_name)
        return on

    # -- rendering -----------------------------------------------------------------
    def _all_ctes(self) -> tuple[Derived, ...]:
        return self._ctes + tuple(
            d
            for d in (self._from, *(j.target for j in self._joins))
            if isinstance(d, Derived) and d.is_cte and d not in self._ctes
        )

    def _sql(self, c: Compiler) -> None:
        # Table aliases are lexically scoped: this query's own tables hide an alias an
        # enclosing query gave the same table, and its own alias (if any) applies inside.
        saved = c.aliases
        if saved or self._alias is not None:
            own = {t.key for t in self._present()}
            scoped = {k: v for k, v in saved.items() if k not in own}
            if self._alias is not None and isinstance(self._from, _TableFrom):
                scoped[self._from.info.key] = quote(self._alias)
            c.aliases = scoped
            try:
                self._render(c)
            finally:
                c.aliases = saved
        else:
            self._render(c)

    def _render(self, c: Compiler) -> None:
        simple = not (self._ctes or self._joins or type(self._from) is Derived)
        ctes = () if simple else self._all_ctes()
        if ctes:
            c.write("WITH ")
            for i, cte in enumerate(ctes):
                c.write((", " if i else "") + quote(cte.name) + " AS (")
                cte.select._sql(c)
                c.write(")")
            c.write(" ")
        c.write("SELECT ")
        if self._distinct:
            c.write("DISTINCT ")
        elif self._distinct_on:
            c.write("DISTINCT ON (")
            c.join(self._distinct_on)
            c.write(") ")
        for i, item in enumerate(self._items):
            if i:
                c.write(", ")
            if isinstance(item, TableInfo):
                alias = c.aliases.get(item.key) if c.aliases else None
                if alias is None:
                    c.write(item.select_list)
                else:
                    c.write(", ".join(f"{alias}.{col.sql}" for col in item.columns))
            elif isinstance(item, Label):
                item.expr._sql(c)
                c.write(" AS " + quote(item.name))
            else:
                item._sql(c)
        if self._from is not None:
            c.write(" FROM ")
            self._from._from_sql(c)
        for j in self._joins:
            c.write(f" {j.kind} JOIN ")
            j.target._from_sql(c)
            c.write(" ON ")
            j.on._sql(c)
        if self._where is not None:
            c.write(" WHERE ")
            self._where._sql(c)
        if self._group_by:
            c.write(" GROUP BY ")
            c.join(self._group_by)
        if self._having is not None:
            c.write(" HAVING ")
            self._having._sql(c)
        if self._order_by:
            c.write(" ORDER BY ")
            c.join(self._order_by)
        if self._limit is not None:
            c.write(" LIMIT ")
            c.param(self._limit)
        if self._offset is not None:
            c.write(" OFFSET ")
            c.param(self._offset)
        if self._for_update:
            c.write(" FOR UPDATE")

    def _shape(self, p: list[Any]) -> Hashable:
        """The key of the SQL ``_sql`` writes; parameters collected in the same order.

        Fixed fields first, then a tagged entry per clause present (the tags cannot
        be mistaken for a clause's key), so a simple query's key stays short.
        """
        source = self._from
        key: list[Any] = [Select, self._distinct, self._for_update, self._alias]
        if self._ctes or self._joins or type(source) is Derived:
            ctes = self._all_ctes()
            if ctes:
                key += ("W", tuple([(d.name, d.select._shape(p)) for d in ctes]))
        if self._distinct_on:
            key += ("D", tuple([e._shape(p) for e in self._distinct_on]))
        if self._single and len(self._items) == 1:
            key.append(self._items[0].select_list)  # type: ignore[union-attr]  # a TableInfo
        else:
            key.append(
                tuple(
                    [
                        i.select_list
                        if isinstance(i, TableInfo)
                        else (Label, i.expr._shape(p), i.name)
                        if isinstance(i, Label)
                        else i._shape(p)
                        for i in self._items
                    ]
                )
            )
        key.append(None if source is None else source._shape(p))
        if self._joins:
            key += ("J", tuple([(j.kind, j.target._shape(p), j.on._shape(p)) for j in self._joins]))
        if self._where is not None:
            key += ("w", self._where._shape(p))
        if self._group_by:
            key += ("g", tuple([e._shape(p) for e in self._group_by]))
        if self._having is not None:
            key += ("h", self._having._shape(p))
        if self._order_by:
            key += ("o", tuple([o._shape(p) for o in self._order_by]))
        if self._limit is not None:
            key.append("L")
            bind(p, self._limit)
        if self._offset is not None:
            key.append("O")
            bind(p, self._offset)
        return tuple(key)

    def _item_decoder(self, index: int) -> Decoder | None:
        """The decoder of a column item (``scalar()`` subqueries decode like their column)."""
        item = self._items[index]
        return item._decoder() if isinstance(item, Expr) else None

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[R]:
        first = self._items[0]
        if self._single and isinstance(first, TableInfo):
            return [first.decode(r) for r in rows]
        plan: list[tuple[TableInfo | None, Decoder | None]] = [
            (item, None) if isinstance(item, TableInfo) else (None, item._decoder())
            for item in self._items
        ]
        # A table on the outer side of a LEFT JOIN without a match reads as None, not as
        # an instance full of NULLs: its primary key is NULL only then.
        pks = {
            id(item): [item.columns.index(c) for c in item.pk]
            for item in self._items
            if isinstance(item, TableInfo)
        }
        out: list[Any] = []
        for r in rows:
            values: list[Any] = []
            pos = 0
            for info, decode in plan:
                if info is not None:
                    pk = pks[id(info)]
                    missing = bool(pk) and all(r[pos + i] is None for i in pk)
                    values.append(None if missing else info.decode(r, pos))
                    pos += len(info.columns)
                else:
                    v = r[pos]
                    values.append(decode(v) if decode is not None and v is not None else v)
                    pos += 1
            out.append(
                tuple(values) if self._keys is None else dict(zip(self._keys, values, strict=True))
            )
        return out


def _fk_condition(
    present: tuple[TableInfo, ...], target: TableInfo, fk_name: str | None
) -> Expr[bool]:
    """``ON`` from the one foreign key between ``target`` and the tables already present.

    Raises:
        JoinError: no foreign key, or several (the message names them).
    """
    from dibs.query.errors import JoinError

    candidates: list[tuple[TableInfo, TableInfo, ForeignKey]] = []
    for table in present:
        for fk in table.table.foreign_keys:
            if (fk.ref_schema, fk.ref_table) == target.key:
                candidates.append((table, target, fk))
        for fk in target.table.foreign_keys:
            if (fk.ref_schema, fk.ref_table) == table.key and table is not target:
                candidates.append((target, table, fk))
    if fk_name is not None:
        named = [c for c in candidates if c[2].name == fk_name]
        if not named:
            raise JoinError(
                f"no foreign key named {fk_name!r} links {target.qualified_name} to the query",
                hint="candidates: " + (", ".join(c[2].name for c in candidates) or "none"),
            )
        candidates = named
    if len(candidates) != 1:
        names = ", ".join(c[2].name for c in candidates)
        where = ", ".join(t.qualified_name for t in present)
        if not candidates:
            raise JoinError(
                f"no foreign key links {target.qualified_name} to {where}",
                hint="pass on=... to join on a condition",
            )
        raise JoinError(
            f"{len(candidates)} foreign keys link {target.qualified_name} to {where}: {names}",
            hint="pass fk='<name>' with one of them, or on=...",
        )
    child, parent, fk = candidates[0]
    return and_(
        *(
            TableColumn(child, child.by_name[a]) == TableColumn(parent, parent.by_name[b])
            for a, b in zip(fk.columns, fk.ref_columns, strict=True)
        )
    )


_ON_CACHE: dict[tuple[tuple[TableInfo, ...], TableInfo, str | None], Expr[bool]] = {}
"""Join conditions by (tables in the query, joined table, FK name): expressions are immutable."""


class _RowCompare(Expr[bool]):
    __slots__ = ("left", "op", "right")

    def __init__(self, left: tuple[Expr[Any], ...], op: str, right: tuple[Expr[Any], ...]) -> None:
        self.left = left
        self.op = op
        self.right = right

    def _sql(self, c: Compiler) -> None:
        c.write("((")
        c.join(self.left)
        c.write(f") {self.op} (")
        c.join(self.right)
        c.write("))")

    def _shape(self, p: list[Any]) -> Hashable:
        left = tuple(e._shape(p) for e in self.left)
        return (_RowCompare, left, self.op, tuple(e._shape(p) for e in self.right))


def _and(current: Expr[bool] | None, more: Sequence[Expr[bool]]) -> Expr[bool] | None:
    items = ([current] if current is not None else []) + list(more)
    if not items:
        return None
    return and_(*items)


def _first_table(items: Sequence[Any]) -> TableInfo | None:
    for item in items:
        if isinstance(item, TableInfo):
            return item
        if isinstance(item, ColumnExpr):
            return item._info()[0]
    for item in items:
        found = _find_column(item)
        if found is not None:
            return found
    return None


def _find_column(node: Any) -> TableInfo | None:
    """The table of the first column inside an expression (``count(Order.id)`` → orders)."""
    if isinstance(node, ColumnExpr):
        return node._info()[0]
    for cls in type(node).__mro__:  # a subclass (ArrayAgg) may add no slots of its own
        for slot in getattr(cls, "__slots__", ()):
            value = getattr(node, slot, None)
            children = value if isinstance(value, tuple) else (value,)
            for child in children:
                if isinstance(child, Expr | OrderBy):
                    found = _find_column(child)
                    if found is not None:
                        return found
    return None


# A table class gives its rows; columns give typed tuples. From two items on, an item
# may also be a table class (``select(Order, Customer.email)`` → ``tuple[Order, str]``).
# The first overload overlaps the catch-all one: checkers pick the first that matches.
@overload
def select(entity: type[R], /) -> Select[R]: ...  # type: ignore[overload-overlap]
@overload
def select(c1: Expr[T1], /) -> Select[tuple[T1]]: ...
@overload
def select(c1: Item[T1], c2: Item[T2], /) -> Select[tuple[T1, T2]]: ...
@overload
def select(c1: Item[T1], c2: Item[T2], c3: Item[T3], /) -> Select[tuple[T1, T2, T3]]: ...
@overload
def select(
    c1: Item[T1], c2: Item[T2], c3: Item[T3], c4: Item[T4], /
) -> Select[tuple[T1, T2, T3, T4]]: ...
@overload
def select(
    c1: Item[T1], c2: Item[T2], c3: Item[T3], c4: Item[T4], c5: Item[T5], /
) -> Select[tuple[T1, T2, T3, T4, T5]]: ...
@overload
def select(
    c1: Item[T1], c2: Item[T2], c3: Item[T3], c4: Item[T4], c5: Item[T5], c6: Item[T6], /
) -> Select[tuple[T1, T2, T3, T4, T5, T6]]: ...
@overload
def select(
    c1: Item[T1],
    c2: Item[T2],
    c3: Item[T3],
    c4: Item[T4],
    c5: Item[T5],
    c6: Item[T6],
    c7: Item[T7],
    /,
) -> Select[tuple[T1, T2, T3, T4, T5, T6, T7]]: ...
@overload
def select(
    c1: Item[T1],
    c2: Item[T2],
    c3: Item[T3],
    c4: Item[T4],
    c5: Item[T5],
    c6: Item[T6],
    c7: Item[T7],
    c8: Item[T8],
    /,
) -> Select[tuple[T1, T2, T3, T4, T5, T6, T7, T8]]: ...
@overload
def select(
    c1: Item[T1],
    c2: Item[T2],
    c3: Item[T3],
    c4: Item[T4],
    c5: Item[T5],
    c6: Item[T6],
    c7: Item[T7],
    c8: Item[T8],
    c9: Item[T9],
    /,
) -> Select[tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9]]: ...
@overload
def select(
    c1: Item[T1],
    c2: Item[T2],
    c3: Item[T3],
    c4: Item[T4],
    c5: Item[T5],
    c6: Item[T6],
    c7: Item[T7],
    c8: Item[T8],
    c9: Item[T9],
    c10: Item[T10],
    /,
) -> Select[tuple[T1, T2, T3, T4, T5, T6, T7, T8, T9, T10]]: ...
@overload
def select(*items: Expr[Any] | type[Any]) -> Select[tuple[Any, ...]]: ...


def select(*items: Any) -> Select[Any]:
    """SELECT a table's rows (``select(Order)``) or columns and expressions (typed tuples)."""
    if len(items) == 1 and isinstance(items[0], TableType):
        # ``select(Table)`` is the most common start of a query and statements are
        # immutable (every builder call copies), so one prototype per class serves all.
        prototype = _PROTOTYPES.get(items[0])
        if prototype is None:
            prototype = _PROTOTYPES[items[0]] = Select(items)
        return prototype
    return Select(items)


# Keyed by the table class itself: weak, so a class that goes away (a test's
# throwaway declaration) takes its prototype with it.
_PROTOTYPES: weakref.WeakKeyDictionary[Any, Select[Any]] = weakref.WeakKeyDictionary()


def exists(query: Select[Any]) -> Expr[bool]:
    """``EXISTS (subquery)``."""
    return Exists(query)


def scalar(query: Select[tuple[T1]]) -> Expr[T1]:
    """A one-column, one-row subquery used as a value."""
    return ScalarSubquery(query)


Direction = Literal["asc", "desc"]
