"""The same statements by table and column *names*, checked against the declared schema.

For code that learns names at runtime (the admin). Every name is looked up in
the model while the statement is built — an unknown one raises ``UnknownName``
with the closest matches (``difflib``) before any SQL exists — so only declared
identifiers reach SQL, always quoted, and every value is a bound parameter.

Rows come back as dicts keyed by column name (or by the names given to
``columns(...)``). Values are decoded by psycopg into their Python types
(``Decimal``, ``datetime``, ``UUID``, ``dict`` for JSONB, ``list`` for arrays);
**enum columns come back as their database value** (``"paid"``), not as the
``Enum`` member: a catalog may be built from an introspected schema that has no
Python classes, and the admin renders and round-trips plain values. Writes and
filters accept either the member or its value.

Hooks registered on a table's class (``@dibs.hooks.before_create(Customer)``)
run for dynamic writes too, with the rows as instances of that class (enum
values as members, Python defaults filled as the constructor would); pass
``origin="admin"`` and ``actor=`` to ``fetch`` to tell hooks who wrote.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from dibs.query import funcs
from dibs.query.dml import Delete, Insert, Update
from dibs.query.errors import QueryError, UnknownName
from dibs.query.expr import Expr, OrderBy, TableColumn
from dibs.query.info import TableInfo, tables_of_schema
from dibs.query.selects import Select
from dibs.query.statement import Statement
from dibs.schema import model

if TYPE_CHECKING:
    from dibs.query.compiler import Compiler

__all__ = ["Catalog", "Condition", "DynDelete", "DynInsert", "DynSelect", "DynTable", "DynUpdate"]

Condition = Expr[bool] | tuple[str, str] | tuple[str, str, Any]
"""``(column, op, value)``, ``(column, "is null")``, or an expression (``|`` for OR)."""

OrderItem = str | tuple[str, str] | tuple[str, str, str] | Expr[Any] | OrderBy
"""``"name"``, ``"-name"`` (descending), ``(name, "desc")``, ``(name, "asc", "last")``."""


def _pair(v: Any) -> tuple[Any, Any]:
    if isinstance(v, str | bytes) or not isinstance(v, Sequence) or len(v) != 2:
        raise QueryError(f"'between' needs a (low, high) pair, got {v!r}")
    return v[0], v[1]


def _many(v: Any) -> list[Any]:
    if isinstance(v, str | bytes | Mapping) or not isinstance(v, Iterable):
        raise QueryError(f"'in' needs a list of values, got {v!r}")
    return list(v)


_OPS: dict[str, Callable[[Expr[Any], Any], Expr[bool]]] = {
    "=": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<>": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "in": lambda c, v: c.in_(_many(v)),
    "not in": lambda c, v: c.not_in(_many(v)),
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: c.ilike(v),
    "is null": lambda c, v: c.is_null(),
    "is not null": lambda c, v: c.is_not_null(),
    "between": lambda c, v: c.between(*_pair(v)),
    "contains": lambda c, v: c.contains(v),
    "has key": lambda c, v: c.has_key(v),
    "any": lambda c, v: c.any_eq(v),
}

_AGGREGATES: dict[str, Callable[[Expr[Any]], Expr[Any]]] = {
    "count": funcs.count,
    "sum": funcs.sum_,
    "avg": funcs.avg,
    "min": funcs.min_,
    "max": funcs.max_,
    "array_agg": funcs.array_agg,
    "json_agg": funcs.json_agg,
}
# "sum(total)", "count(*)", "count(distinct customer_id)": the function name is looked
# up in _AGGREGATES and the argument as a column, so nothing here reaches SQL as text.
# The argument is taken exactly as written (no trimming): column names may hold spaces.
_AGGREGATE = re.compile(r"(?is)([a-z_]+)\((distinct )?(.*)\)")


class DynTable:
    """A table by name: ``t["email"]`` is its column (validated)."""

    __slots__ = ("hook_info", "info")

    def __init__(self, info: TableInfo, hook_info: TableInfo) -> None:
        self.info = info
        self.hook_info = hook_info

    @property
    def name(self) -> str:
        return self.info.qualified_name

    def __getitem__(self, column: str) -> TableColumn:
        col = self.info.by_name.get(column)
        if col is None:
            raise UnknownName("column", column, self.info.by_name, f" in {self.name}")
        return TableColumn(self.info, col)

    def condition(self, column: str, op: str, value: Any = None) -> Expr[bool]:
        """A condition from names, e.g. ``("email", "ilike", "%@example.com")``."""
        return _condition(self[column], op, value)

    def values(self, values: Mapping[str, Any], *, fill: bool = False) -> dict[str, Any]:
        """Validate a row given by column names, ready for INSERT or UPDATE.

        Enum values become members of the class's enum (so hooks see what typed
        code would); with ``fill``, Python defaults and ``None`` for nullable
        columns are added where the class constructor would add them.

        Raises:
            UnknownName: a name is not a column; QueryError: the column cannot be written.
        """
        out: dict[str, Any] = {}
        for name, value in values.items():
            col = self[name].col
            if col.generated or col.identity_always:
                what = "generated" if col.generated else "an identity GENERATED ALWAYS column"
                raise QueryError(f"{self.name}.{name} is {what}: the database sets it")
            out[name] = _to_enum(self.hook_info, name, value)
        if fill and self.hook_info.cls is not None:
            for col in self.hook_info.columns:
                if col.name in out or col.generated or col.identity_always:
                    continue
                if col.has_python_default:
                    out[col.name] = copy.copy(col.python_default)
                elif col.nullable and not col.db_default:
                    out[col.name] = None
        return out


def _to_enum(hook_info: TableInfo, name: str, value: Any) -> Any:
    col = hook_info.by_name.get(name)
    if col is None or col.enum_cls is None or isinstance(value, col.enum_cls):
        return value
    for member in col.enum_cls:
        if member.value == value:
            return member
    return value  # not a member: Postgres rejects it with a clear message


def _condition(column: Expr[Any], op: str, value: Any) -> Expr[bool]:
    build = _OPS.get(op.lower()) if isinstance(op, str) else None
    if build is None:
        raise UnknownName("operator", str(op), _OPS)
    return build(column, value)


class Catalog:
    """Tables of a schema, by name: ``Catalog(load_schema(["app.schema"]))``.

    Statements are built with ``select``, ``insert``, ``update`` and ``delete``
    and run like typed ones: ``cat.select("shop.orders").fetch(conn)``. Rows are
    dicts; enum columns hold their database value (see the module docstring).
    """

    def __init__(self, schema: model.Schema) -> None:
        self.schema = schema
        self._tables = tables_of_schema(schema)
        self._qualified: dict[str, list[tuple[str, str]]] = {}
        self._bare: dict[str, list[tuple[str, str]]] = {}
        for key in self._tables:
            self._qualified.setdefault(f"{key[0]}.{key[1]}", []).append(key)
            self._bare.setdefault(key[1], []).append(key)
        self._cache: dict[tuple[str, str], DynTable] = {}

    @classmethod
    def from_modules(cls, modules: Sequence[str]) -> Catalog:
        """The catalog of the tables declared in these modules (imports them)."""
        from dibs.schema.declare import load_schema

        return cls(load_schema(modules))

    def table_names(self) -> list[str]:
        return sorted(self._qualified)

    def table(self, name: str | tuple[str, str]) -> DynTable:
        """A table by ``"schema.table"``, ``(schema, table)``, or ``"table"`` when unique.

        Raises:
            UnknownName: no such table (with the closest names); QueryError: ambiguous.
        """
        if isinstance(name, tuple):
            keys = [name] if name in self._tables else []
        else:
            keys = self._qualified.get(name) or self._bare.get(name, [])
        if len(keys) > 1:
            raise QueryError(
                f"table name {name!r} is ambiguous",
                hint="qualify it: " + " or ".join(f"{s}.{n}" for s, n in keys),
            )
        if not keys:
            raise UnknownName("table", str(name), self.table_names() + list(self._bare))
        key = keys[0]
        found = self._cache.get(key)
        if found is None:
            info = self._tables[key]
            found = self._cache[key] = DynTable(info, _hook_info(info))
        return found

    # -- statements --------------------------------------------------------------
    def select(
        self,
        table: str | tuple[str, str],
        columns: Iterable[str] | None = None,
        where: Iterable[Condition] = (),
    ) -> DynSelect:
        """SELECT rows as dicts (every column, or ``columns``), filtered by ``where``."""
        stmt = DynSelect(self, self.table(table).info)
        if columns is not None:
            stmt = stmt.columns(*columns)
        return stmt.where(*where)

    def insert(self, table: str | tuple[str, str], *rows: Mapping[str, Any]) -> DynInsert:
        """INSERT one or several rows (one statement) given as ``{column: value}``."""
        t = self.table(table)
        if not rows:
            raise QueryError(f"insert into {t.name} needs at least one row")
        stmt = DynInsert(t.info, tuple(t.values(r, fill=True) for r in rows))
        return stmt._with_hooks(t.hook_info)

    def update(self, table: str | tuple[str, str], changes: Mapping[str, Any]) -> DynUpdate:
        """UPDATE columns by name; add ``.where(...)`` (or ``.all_rows()``) to run it."""
        t = self.table(table)
        stmt = DynUpdate(t.info, t.values(changes))
        return stmt._with_hooks(t.hook_info)

    def delete(self, table: str | tuple[str, str]) -> DynDelete:
        """DELETE; add ``.where(...)`` (or ``.all_rows()``) to run it."""
        t = self.table(table)
        return DynDelete(t.info)._with_hooks(t.hook_info)


class DynSelect(Statement[dict[str, Any]]):
    """A SELECT built by names; each method returns a new statement.

    A column reference is ``"column"`` (of the first table, else of the one
    joined table that has it), ``"table.column"`` or ``"schema.table.column"``,
    or an aggregate: ``"count(*)"``, ``"sum(total)"``, ``"count(distinct id)"``.
    Join a table before naming its columns.
    """

    __slots__ = ("_catalog", "_scope", "_select")

    def __init__(self, catalog: Catalog, info: TableInfo) -> None:
        self._catalog = catalog
        self._scope: tuple[TableInfo, ...] = (info,)
        self._select: Select[dict[str, Any]] = Select([info])

    def _with(self, select: Select[Any], **changes: Any) -> DynSelect:
        new: DynSelect = self._copy(_select=select, **changes)
        return new

    # -- names -------------------------------------------------------------------
    def col(self, ref: str) -> Expr[Any]:
        """The expression a column reference (or aggregate) names in this query."""
        base = self._scope[0]
        found = base.by_name.get(ref)
        if found is not None:
            return TableColumn(base, found)
        matches = [
            (t, t.by_name[ref[len(prefix) + 1 :]])
            for t in self._scope
            for prefix in {t.qualified_name, t.table.name}
            if ref.startswith(prefix + ".") and ref[len(prefix) + 1 :] in t.by_name
        ]
        if not matches:
            matches = [(t, t.by_name[ref]) for t in self._scope[1:] if ref in t.by_name]
        if len(matches) == 1:
            return TableColumn(*matches[0])
        if matches:
            names = " or ".join(f"{t.qualified_name}.{c.name}" for t, c in matches)
            raise QueryError(f"column {ref!r} is ambiguous", hint=f"write {names}")
        aggregate = self._aggregate(ref)
        if aggregate is not None:
            return aggregate
        known = list(base.by_name) + [
            f"{t.table.name}.{c}" for t in self._scope[1:] for c in t.by_name
        ]
        where = ", ".join(t.qualified_name for t in self._scope)
        raise UnknownName("column", ref, known, f" in {where}")

    def _aggregate(self, ref: str) -> Expr[Any] | None:
        m = _AGGREGATE.fullmatch(ref)
        if m is None or m.group(1).lower() not in _AGGREGATES:
            return None
        name, distinct, arg = m.group(1).lower(), bool(m.group(2)), m.group(3)
        if name == "count":
            if arg == "*" and not distinct:
                return funcs.count()
            return funcs.count(self.col(arg), distinct=distinct)
        if distinct:
            raise QueryError(f"DISTINCT is only supported in count(), not in {name}()")
        return _AGGREGATES[name](self.col(arg))

    def cond(self, column: str, op: str, value: Any = None) -> Expr[bool]:
        """A condition by names (combine with ``|``, ``&``, ``~`` for OR, AND, NOT)."""
        return _condition(self.col(column), op, value)

    def _conditions(self, conditions: Iterable[Condition]) -> list[Expr[bool]]:
        return [c if isinstance(c, Expr) else self.cond(*c) for c in conditions]

    # -- building ------------------------------------------------------------------
    def columns(self, *refs: str) -> DynSelect:
        """Return only these columns or aggregates, keyed by the references as given."""
        if not refs:
            raise QueryError("columns() needs at least one column name")
        items = tuple(self.col(r) for r in refs)
        return self._with(self._select._copy(_items=items, _single=False, _keys=refs))

    def where(self, *conditions: Condition) -> DynSelect:
        """Add conditions (AND): ``("status", "=", "paid")``, ``("note", "is null")``."""
        found = self._conditions(conditions)
        return self._with(self._select.where(*found)) if found else self

    def join(
        self,
        table: str | tuple[str, str],
        *,
        on: Expr[bool] | tuple[str, str] | None = None,
        fk: str | None = None,
        left: bool = False,
    ) -> DynSelect:
        """Join a table on the one foreign key linking it to the query, a named ``fk``,
        or ``on=("customer_id", "customers.id")`` (equal columns) or an expression.

        Raises:
            JoinError: no foreign key or several (name one with ``fk=``).
        """
        info = self._catalog.table(table).info
        if info in self._scope:
            raise QueryError(
                f"{info.qualified_name} is already in the query",
                hint="the dynamic API has no table aliases; self-joins need the typed API",
            )
        new = self._copy(_scope=(*self._scope, info))
        condition = new.col(on[0]) == new.col(on[1]) if isinstance(on, tuple) else on
        return new._with(self._select.join(info, condition, fk=fk, left=left))

    def left_join(
        self,
        table: str | tuple[str, str],
        *,
        on: Expr[bool] | tuple[str, str] | None = None,
        fk: str | None = None,
    ) -> DynSelect:
        return self.join(table, on=on, fk=fk, left=True)

    def group_by(self, *refs: str) -> DynSelect:
        return self._with(self._select.group_by(*(self.col(r) for r in refs)))

    def having(self, *conditions: Condition) -> DynSelect:
        """Conditions on groups: ``("count(*)", ">", 2)``."""
        return self._with(self._select.having(*self._conditions(conditions)))

    def order_by(self, *items: OrderItem) -> DynSelect:
        """ORDER BY ``"name"``, ``"-name"``, ``("name", "desc")`` or ``("name", "asc", "last")``."""
        return self._with(self._select.order_by(*(self._order(i) for i in items)))

    def _order(self, item: OrderItem) -> Expr[Any] | OrderBy:
        if isinstance(item, Expr | OrderBy):
            return item
        if isinstance(item, str):
            if item.startswith("-") and not self._is_column(item):
                return OrderBy(self.col(item[1:]), True)
            return OrderBy(self.col(item))
        ref, direction, *rest = item
        if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
            raise UnknownName("direction", str(direction), ("asc", "desc"))
        nulls = rest[0].lower() if rest and isinstance(rest[0], str) else None
        if rest and nulls not in ("first", "last"):
            raise UnknownName("nulls position", str(rest[0]), ("first", "last"))
        return OrderBy(self.col(ref), direction.lower() == "desc", nulls)

    def _is_column(self, ref: str) -> bool:
        try:
            self.col(ref)
        except QueryError:
            return False
        return True

    def limit(self, n: int | None) -> DynSelect:
        return self._with(self._select.limit(n))

    def offset(self, n: int | None) -> DynSelect:
        return self._with(self._select.offset(n))

    def distinct(self, *refs: str) -> DynSelect:
        """``DISTINCT``, or ``DISTINCT ON`` these columns."""
        return self._with(self._select.distinct(*(self.col(r) for r in refs)))

    def after(self, *values: Any) -> DynSelect:
        """Keyset pagination: rows after ``values`` in the ORDER BY (see ``Select.after``)."""
        return self._with(self._select.after(*values))

    def count(self) -> DynSelect:
        """Count the rows this query returns (ORDER BY, LIMIT, OFFSET aside): ``{"count": n}``."""
        inner = self._select._copy(_order_by=(), _limit=None, _offset=None)
        outer: Select[Any] = Select([funcs.count()]).select_from(inner.subquery("dibs_count"))
        return self._with(outer._copy(_keys=("count",)))

    # -- Statement -------------------------------------------------------------------
    def _sql(self, c: Compiler) -> None:
        self._select._sql(c)

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return self._select._decode(rows)


class DynInsert(Insert[dict[str, Any]]):
    """INSERT by names; conflict targets and updated columns are names too."""

    __slots__ = ()

    def _with_hooks(self, hook_info: TableInfo) -> DynInsert:
        new: DynInsert = self._copy(_hook_info=hook_info)
        return new

    def _names(self, items: Iterable[str | Expr[Any]]) -> tuple[Expr[Any], ...]:
        return tuple(
            TableColumn(self._table, self._col(i)) if isinstance(i, str) else i for i in items
        )

    def _col(self, name: str) -> Any:
        col = self._table.by_name.get(name)
        if col is None:
            raise UnknownName(
                "column", name, self._table.by_name, f" in {self._table.qualified_name}"
            )
        return col

    def on_conflict_do_nothing(self, *target: str | Expr[Any]) -> DynInsert:
        """``ON CONFLICT (columns) DO NOTHING``: clashing rows are skipped, not returned."""
        # The parent returns ``self._copy(...)``: an instance of this class.
        return cast(DynInsert, super().on_conflict_do_nothing(*self._names(target)))

    def on_conflict_do_update(
        self, *target: str | Expr[Any], set: Iterable[str | Expr[Any]] | None = None
    ) -> DynInsert:
        """Upsert on these columns; ``set`` names the columns to overwrite (default: the rest)."""
        chosen = None if set is None else self._names(set)
        return cast(DynInsert, super().on_conflict_do_update(*self._names(target), set=chosen))


class _DynFiltered:
    """WHERE by names for UPDATE and DELETE (mixed into their dynamic classes)."""

    __slots__ = ()
    _table: TableInfo

    def _by_names(self, conditions: Iterable[Condition]) -> list[Expr[bool]]:
        t = DynTable(self._table, self._table)
        return [c if isinstance(c, Expr) else t.condition(*c) for c in conditions]


class DynUpdate(_DynFiltered, Update[dict[str, Any]]):
    """UPDATE by names; refuses to run without WHERE unless ``.all_rows()``."""

    __slots__ = ()

    def _with_hooks(self, hook_info: TableInfo) -> DynUpdate:
        new: DynUpdate = self._copy(_hook_info=hook_info)
        return new

    def where(self, *conditions: Condition) -> DynUpdate:
        new: DynUpdate = super().where(*self._by_names(conditions))
        return new

    def set(self, column: Any, value: Any) -> DynUpdate:
        """Set one column by name (or column expression)."""
        if isinstance(column, str):
            t = DynTable(self._table, self._hook_info)
            changed: DynUpdate = self._copy(_changes={**self._changes, **t.values({column: value})})
            return changed
        return cast(DynUpdate, super().set(column, value))


class DynDelete(_DynFiltered, Delete[dict[str, Any]]):
    """DELETE by names; refuses to run without WHERE unless ``.all_rows()``."""

    __slots__ = ()

    def _with_hooks(self, hook_info: TableInfo) -> DynDelete:
        new: DynDelete = self._copy(_hook_info=hook_info)
        return new

    def where(self, *conditions: Condition) -> DynDelete:
        new: DynDelete = super().where(*self._by_names(conditions))
        return new


def _hook_info(info: TableInfo) -> TableInfo:
    """The typed table info of the class declaring this table, when there is one.

    Hooks are written against the class, so the admin's rows reach them as
    instances. Rows are decoded by position, so a class is used only when its
    columns are the catalog's, in the same order (a catalog built from an
    introspected database may differ): otherwise hooks see dicts.
    """
    from dibs.query.info import table_info
    from dibs.schema import markers as m
    from dibs.schema.declare_columns import snake_case

    names = [c.name for c in info.columns]
    specs = [s for group in m.REGISTRY.tables.values() for s in group]
    for spec in reversed(specs):  # the latest declaration wins (a reloaded module)
        if (spec.schema, spec.name or snake_case(spec.cls.__name__)) != info.key:
            continue
        try:
            typed = table_info(spec.cls)
        except Exception:  # a stale or broken declaration: hooks see dicts
            return info
        return typed if [c.name for c in typed.columns] == names else info
    return info
