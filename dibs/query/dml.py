"""INSERT (one, many, upsert), UPDATE and DELETE, all with RETURNING and per-row hooks.

Rows travel as ``{column name: value}`` dicts inside the statement; hooks see
them as instances of the table class (or dicts for tables without one). Work
with hooks is a plan (``plan.py``): before-hooks per row, the SQL, then
after-hooks per returned row, in one transaction. UPDATE and DELETE refuse to
run without WHERE unless ``.all_rows()`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar, overload

from dibs.query.compiler import Compiler
from dibs.query.errors import QueryError, UnsafeStatement
from dibs.query.expr import Col, Expr, TableColumn, and_, lit
from dibs.query.hooks import HookContext, has_hooks, hooks_for
from dibs.query.plan import Call, Defer, Query
from dibs.query.statement import Statement

if TYPE_CHECKING:
    from dibs.query.info import ColumnInfo, TableInfo
    from dibs.query.plan import Env, Plan

__all__ = ["Delete", "Insert", "Update", "delete", "insert", "insert_many", "update"]

R = TypeVar("R")
T = TypeVar("T")


def _info(table: Any) -> TableInfo:
    from dibs.query.info import TableInfo, table_info

    if isinstance(table, TableInfo):
        return table
    return table_info(table if isinstance(table, type) else type(table))


def _pk_where(info: TableInfo, values: dict[str, Any]) -> Expr[bool]:
    if not info.pk:
        raise QueryError(
            f"{info.qualified_name} has no primary key: update or delete it with .where(...)"
        )
    missing = [c.name for c in info.pk if c.name not in values]
    if missing:
        raise QueryError(
            f"the row has no value for primary key column(s) {', '.join(missing)}",
            hint="insert the row first, or update with .where(...)",
        )
    return and_(*(TableColumn(info, c) == values[c.name] for c in info.pk))


class _Dml(Statement[R]):
    __slots__ = ("_hook_info", "_hooks", "_table")
    _kind = ""

    def __init__(self, table: TableInfo) -> None:
        self._table = table
        self._hook_info = table
        self._hooks = True

    def without_hooks(self) -> Self:
        """Skip every hook (bulk maintenance): one statement, no per-row work.

        Before, after and after-commit hooks all stay silent, whoever registered
        them: use it for backfills and imports whose rows need no business rules.
        """
        return self._copy(_hooks=False)

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[R]:
        return [self._table.decode(r) for r in rows]

    def _needs_transaction(self) -> bool:
        return self._hooks and has_hooks(self._hook_info.key, self._kind)

    def _ctx(self, env: Env, old: Any = None) -> HookContext:
        info = self._hook_info
        return HookContext(env.conn, env.actor, env.origin, info.qualified_name, self._kind, old)

    def _before(self, env: Env, values: dict[str, Any], old: Any = None) -> Plan:
        """Run before-hooks on one row; return its (possibly changed) column values."""
        hooks = hooks_for(self._hook_info.key, f"before_{self._kind}")
        if not hooks:
            return values
        row = self._hook_info.to_row(values)
        ctx = self._ctx(env, old)
        for fn in hooks:
            out = yield Call(fn, row, ctx)
            if out is not None:
                row = out
        return self._hook_info.row_dict(row)

    def _after(self, env: Env, rows: list[Any], olds: dict[Any, Any] | None = None) -> Plan:
        key = self._hook_info.key
        after = hooks_for(key, f"after_{self._kind}")
        later = hooks_for(key, f"after_commit_{self._kind}")
        if not (after or later):
            return None
        for raw in rows:
            row = self._hook_info.decode(raw)
            old = olds.get(_pk_of(self._table, raw)) if olds else None
            ctx = self._ctx(env, old)
            for fn in after:
                yield Call(fn, row, ctx)
            for fn in later:
                yield Defer(fn, row, ctx)
        return None


def _pk_of(info: TableInfo, raw: Sequence[Any]) -> tuple[Any, ...]:
    index = {c.name: i for i, c in enumerate(info.columns)}
    return tuple(raw[index[c.name]] for c in info.pk)


# -- INSERT --------------------------------------------------------------------


class Insert(_Dml[R]):
    """INSERT one or many rows in one statement, RETURNING the stored rows.

    Several rows travel in one multi-row ``VALUES`` list: one statement, one
    round trip. When the statement was made from one instance
    (``insert(customer)``), the returned row's values (identity, defaults,
    anything a before-hook or trigger set) are also written into that instance.
    """

    __slots__ = ("_conflict", "_rows", "_target", "_update")
    _kind = "create"

    def __init__(
        self, table: TableInfo, rows: tuple[dict[str, Any], ...], target: Any = None
    ) -> None:
        super().__init__(table)
        self._rows = rows
        self._target = target
        self._conflict: tuple[ColumnInfo, ...] | None = None
        self._update: tuple[ColumnInfo, ...] | None = None

    def values(self, **values: Any) -> Insert[R]:
        """Add a row given by attribute name (``insert(Order).values(number="A1", ...)``)."""
        row: dict[str, Any] = {}
        for attr, value in values.items():
            col = self._table.by_attr.get(attr)
            if col is None:
                from dibs.query.errors import UnknownName

                raise UnknownName(
                    "column", attr, self._table.by_attr, f" in {self._table.qualified_name}"
                )
            row[col.name] = value
        return self._copy(_rows=(*self._rows, row))

    def on_conflict_do_nothing(self, *target: Expr[Any]) -> Insert[R]:
        """``ON CONFLICT (target) DO NOTHING``: rows that clash are skipped (not returned)."""
        return self._copy(_conflict=self._columns(target), _update=())

    def on_conflict_do_update(
        self, *target: Expr[Any], set: Iterable[Expr[Any]] | None = None
    ) -> Insert[R]:
        """Upsert: ``ON CONFLICT (target) DO UPDATE SET col = EXCLUDED.col``.

        ``set`` names the columns to overwrite (default: every inserted column
        that is not in the conflict target).
        """
        cols = self._columns(target)
        if not cols:
            raise QueryError("on_conflict_do_update needs the conflict target columns")
        chosen = None if set is None else self._columns(tuple(set))
        return self._copy(_conflict=cols, _update=chosen)

    def _columns(self, exprs: tuple[Expr[Any], ...]) -> tuple[ColumnInfo, ...]:
        out = []
        for e in exprs:
            if not isinstance(e, Col | TableColumn) or e._info()[0].key != self._table.key:
                raise TypeError(f"expected a column of {self._table.qualified_name}, got {e!r}")
            out.append(e._info()[1])
        return tuple(out)

    def _decode(self, rows: Sequence[Sequence[Any]]) -> list[R]:
        out = super()._decode(rows)
        target = self._target
        if target is not None and len(out) == 1 and not isinstance(target, dict):
            target.__dict__.update(self._hook_info.decode(rows[0]).__dict__)
        return out

    def _needs_transaction(self) -> bool:
        return bool(self._rows) and super()._needs_transaction()

    def _sql(self, c: Compiler) -> None:
        self._render(c, self._rows)

    def _render(self, c: Compiler, rows: Sequence[dict[str, Any]]) -> None:
        info = self._table
        names = {n for r in rows for n in r}
        cols = [col for col in info.columns if col.name in names and not col.generated]
        c.write(f"INSERT INTO {info.sql} ")
        if cols:
            c.write("(" + ", ".join(col.sql for col in cols) + ") VALUES ")
            for i, row in enumerate(rows):
                c.write(", (" if i else "(")
                for j, col in enumerate(cols):
                    if j:
                        c.write(", ")
                    if col.name in row:
                        lit(row[col.name], col.type)._sql(c)
                    else:
                        c.write("DEFAULT")
                c.write(")")
        else:
            if len(rows) != 1:
                raise QueryError("several rows with no column values: insert them one by one")
            c.write("DEFAULT VALUES")
        if self._conflict is not None:
            c.write(" ON CONFLICT")
            if self._conflict:
                c.write(" (" + ", ".join(col.sql for col in self._conflict) + ")")
            update = self._update
            if update is None:
                update = tuple(col for col in cols if col not in self._conflict)
            if update:
                c.write(" DO UPDATE SET ")
                c.write(", ".join(f"{col.sql} = EXCLUDED.{col.sql}" for col in update))
            else:
                c.write(" DO NOTHING")
        c.write(" RETURNING " + info.select_list)

    def _plan(self, env: Env) -> Plan:
        if not self._rows:
            return []
        rows = []
        for values in self._rows:
            rows.append((yield from self._before(env, values)))
        c = Compiler()
        self._render(c, rows)
        compiled = c.result()
        raw = yield Query(compiled.sql, compiled.params)
        yield from self._after(env, raw)
        return self._decode(raw)


@overload
def insert(row: type[R], /) -> Insert[R]: ...
@overload
def insert(row: R, /) -> Insert[R]: ...
def insert(row: Any, /) -> Insert[Any]:
    """INSERT a row instance (``insert(order)``), or start one to fill with ``.values(...)``."""
    if isinstance(row, type):
        return Insert(_info(row), ())
    info = _info(row)
    return Insert(info, (info.row_dict(row),), target=row)


def insert_many(rows: Iterable[R], /) -> Insert[R]:
    """INSERT several rows of one table in one statement (one round trip)."""
    items = list(rows)
    if not items:
        raise QueryError("insert_many() needs at least one row")
    info = _info(items[0])
    return Insert(info, tuple(info.row_dict(r) for r in items))


# -- UPDATE / DELETE -----------------------------------------------------------------


class _Filtered(_Dml[R]):
    __slots__ = ("_all", "_where")

    def __init__(self, table: TableInfo, where: Expr[bool] | None = None) -> None:
        super().__init__(table)
        self._where = where
        self._all = False

    def where(self, *conditions: Expr[bool]) -> Self:
        """Add conditions (ANDed with any given before)."""
        items = ([self._where] if self._where is not None else []) + list(conditions)
        return self._copy(_where=and_(*items) if items else None)

    def all_rows(self) -> Self:
        """Allow running without WHERE: every row of the table."""
        return self._copy(_all=True)

    def _check_where(self) -> None:
        if self._where is None and not self._all:
            raise UnsafeStatement(
                f"{self._kind} on {self._table.qualified_name} without WHERE would touch every row",
                hint="add .where(...), or call .all_rows() if you mean every row",
            )

    def _lock_rows(self) -> Query:
        c = Compiler()
        c.write(f"SELECT {self._table.select_list} FROM {self._table.sql}")
        if self._where is not None:
            c.write(" WHERE ")
            self._where._sql(c)
        c.write(" FOR UPDATE")
        compiled = c.result()
        return Query(compiled.sql, compiled.params)


class Update(_Filtered[R]):
    """UPDATE ... SET ... WHERE ... RETURNING the updated rows."""

    __slots__ = ("_changes",)
    _kind = "update"

    def __init__(self, table: TableInfo, changes: dict[str, Any], where: Expr[bool] | None = None):
        super().__init__(table, where)
        self._changes = changes

    def set(self, column: Col[T] | Expr[T], value: T | Expr[T]) -> Update[R]:
        """Set one column (typed: the value must fit the column)."""
        if not isinstance(column, Col | TableColumn):
            raise TypeError(f"expected a column of {self._table.qualified_name}, got {column!r}")
        return self._copy(_changes={**self._changes, column._info()[1].name: value})

    def values(self, **values: Any) -> Update[R]:
        """Set columns by attribute name."""
        changes = dict(self._changes)
        for attr, value in values.items():
            col = self._table.by_attr.get(attr)
            if col is None:
                from dibs.query.errors import UnknownName

                raise UnknownName(
                    "column", attr, self._table.by_attr, f" in {self._table.qualified_name}"
                )
            changes[col.name] = value
        return self._copy(_changes=changes)

    def _sql(self, c: Compiler) -> None:
        self._check_where()
        self._render(c, self._changes, self._where)

    def _render(self, c: Compiler, changes: dict[str, Any], where: Expr[bool] | None) -> None:
        info = self._table
        if not changes:
            raise QueryError(f"update of {info.qualified_name} sets no column")
        c.write(f"UPDATE {info.sql} SET ")
        for i, (name, value) in enumerate(changes.items()):
            col = info.by_name[name]
            c.write((", " if i else "") + col.sql + " = ")
            lit(value, col.type)._sql(c)
        if where is not None:
            c.write(" WHERE ")
            where._sql(c)
        c.write(" RETURNING " + info.select_list)

    def _plan(self, env: Env) -> Plan:
        self._check_where()
        info = self._table
        if not hooks_for(self._hook_info.key, "before_update"):
            olds: dict[Any, Any] = {}
            if hooks_for(self._hook_info.key, "after_update") or hooks_for(
                self._hook_info.key, "after_commit_update"
            ):
                for r in (yield self._lock_rows()):
                    olds[_pk_of(info, r)] = self._hook_info.decode(r)
            c = Compiler()
            self._render(c, self._changes, self._where)
            compiled = c.result()
            raw = yield Query(compiled.sql, compiled.params)
            yield from self._after(env, raw, olds)
            return self._decode(raw)
        # Before-hooks see each row as it will be: lock, apply, ask, then update it by key.
        locked = yield self._lock_rows()
        out: list[Any] = []
        plain = {k: v for k, v in self._changes.items() if not isinstance(v, Expr)}
        for r in locked:
            old_values = {c.name: r[i] for i, c in enumerate(info.columns)}
            old = self._hook_info.decode(r)
            new_values = yield from self._before(env, {**old_values, **plain}, old)
            changes = {
                k: v for k, v in new_values.items() if k in self._changes or v != old_values.get(k)
            }
            changes.update({k: v for k, v in self._changes.items() if isinstance(v, Expr)})
            changes = {k: v for k, v in changes.items() if not info.by_name[k].generated}
            c = Compiler()
            self._render(c, changes, _pk_where(info, old_values))
            compiled = c.result()
            raw = yield Query(compiled.sql, compiled.params)
            yield from self._after(env, raw, {_pk_of(info, r): old})
            out.extend(self._decode(raw))
        return out


@overload
def update(row: type[R], /) -> Update[R]: ...
@overload
def update(row: R, /) -> Update[R]: ...
def update(row: Any, /) -> Update[Any]:
    """UPDATE: ``update(Order).set(...).where(...)``, or ``update(order)`` by primary key."""
    if isinstance(row, type):
        return Update(_info(row), {})
    info = _info(row)
    values = info.row_dict(row)
    pk = {c.name for c in info.pk}
    changes = {k: v for k, v in values.items() if k not in pk and not info.by_name[k].generated}
    return Update(info, changes, _pk_where(info, values))


class Delete(_Filtered[R]):
    """DELETE ... WHERE ... RETURNING the deleted rows."""

    __slots__ = ()
    _kind = "delete"

    def _sql(self, c: Compiler) -> None:
        self._check_where()
        info = self._table
        c.write(f"DELETE FROM {info.sql}")
        if self._where is not None:
            c.write(" WHERE ")
            self._where._sql(c)
        c.write(" RETURNING " + info.select_list)

    def _plan(self, env: Env) -> Plan:
        self._check_where()
        befores = hooks_for(self._hook_info.key, "before_delete")
        if befores:
            for r in (yield self._lock_rows()):
                row = self._hook_info.decode(r)
                ctx = self._ctx(env)
                for fn in befores:
                    yield Call(fn, row, ctx)
        compiled = self.compile()
        raw = yield Query(compiled.sql, compiled.params)
        yield from self._after(env, raw)
        return self._decode(raw)


@overload
def delete(row: type[R], /) -> Delete[R]: ...
@overload
def delete(row: R, /) -> Delete[R]: ...
def delete(row: Any, /) -> Delete[Any]:
    """DELETE: ``delete(Order).where(...)``, or ``delete(order)`` by primary key."""
    if isinstance(row, type):
        return Delete(_info(row))
    info = _info(row)
    return Delete(info, _pk_where(info, info.row_dict(row)))
