"""What the query builder knows about a table: its model, its columns, its SQL fragments.

Built lazily from the declared model the first time a table class (or a
dynamic table name) is used in a query, then cached: quoted names and column
lists are rendered once per table, not once per statement.
"""

from __future__ import annotations

import builtins
import enum
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dibs.query.compiler import quote
from dibs.schema import model

__all__ = ["MISSING", "ColumnInfo", "TableInfo", "table_info", "tables_of_schema"]

MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class ColumnInfo:
    """One column as queries need it."""

    attr: str
    name: str
    type: str
    nullable: bool
    db_default: bool
    generated: bool
    identity_always: bool
    python_default: Any = MISSING
    # ``builtins.type``: the field ``type`` above shadows the builtin in this class body.
    enum_cls: builtins.type[enum.Enum] | None = None
    sql: str = ""

    @property
    def has_python_default(self) -> bool:
        return self.python_default is not MISSING


@dataclass(frozen=True, slots=True, eq=False)
class TableInfo:
    """A table with its columns, its class (``None`` for the dynamic API) and SQL fragments."""

    table: model.Table
    schema: model.Schema
    cls: type | None
    columns: tuple[ColumnInfo, ...]
    by_attr: dict[str, ColumnInfo]
    by_name: dict[str, ColumnInfo]
    pk: tuple[ColumnInfo, ...]
    sql: str  # "schema"."table"
    ref: str  # "table": how columns are qualified
    select_list: str  # "table"."a", "table"."b", ...
    classes: dict[tuple[str, str], type] = field(default_factory=dict)
    # Attribute names in column order when no column is an enum (decoded as is).
    plain_attrs: tuple[str, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not any(c.enum_cls is not None for c in self.columns):
            object.__setattr__(self, "plain_attrs", tuple(c.attr for c in self.columns))

    @property
    def key(self) -> tuple[str, str]:
        return (self.table.schema, self.table.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.table.schema}.{self.table.name}"

    def decode(self, values: Sequence[Any], start: int = 0) -> Any:
        """A row (an instance of the class, or a dict by column name) from result values."""
        cols = self.columns
        if self.cls is not None and start == 0 and self.plain_attrs is not None:
            # No enum column to convert: the values go into the instance as they are (a
            # joined row is longer than this table: zip stops at its last column).
            obj: Any = object.__new__(self.cls)
            obj.__dict__.update(zip(self.plain_attrs, values, strict=False))
            return obj
        if self.cls is None:
            out: dict[str, Any] = {}
            for i, col in enumerate(cols):
                v = values[start + i]
                if col.enum_cls is not None and v is not None:
                    v = _enum_value(col.enum_cls, v)
                out[col.name] = v
            return out
        obj = object.__new__(self.cls)
        d = obj.__dict__
        for i, col in enumerate(cols):
            v = values[start + i]
            if col.enum_cls is not None and v is not None:
                v = _enum_value(col.enum_cls, v)
            d[col.attr] = v
        return obj

    def row_dict(self, row: Any) -> dict[str, Any]:
        """Column name → value for the columns set on an instance (or a dict row)."""
        if isinstance(row, dict):
            return dict(row)
        d = row.__dict__
        return {c.name: d[c.attr] for c in self.columns if c.attr in d}

    def to_row(self, values: dict[str, Any]) -> Any:
        """The hook-facing row for column values: an instance when the table has a class."""
        if self.cls is None:
            return dict(values)
        obj: Any = object.__new__(self.cls)
        obj.__dict__.update({self.by_name[k].attr: v for k, v in values.items()})
        return obj


def _enum_value(cls: type[enum.Enum], value: Any) -> Any:
    try:
        return cls(value)
    except ValueError:
        return cls[value]


_LOCK = threading.Lock()
_CACHE: dict[type, TableInfo] = {}


def table_info(cls: type) -> TableInfo:
    """The query facts of a ``@dibs.table`` class (built once from its module's tables)."""
    info = _CACHE.get(cls)
    if info is None:
        with _LOCK:
            info = _CACHE.get(cls)
            if info is None:
                _build_module(cls)
                info = _CACHE[cls]
    return info


def _build_module(cls: type) -> None:
    from dibs.errors import DeclarationError
    from dibs.schema import markers as m
    from dibs.schema.declare import schema_from_specs

    spec = getattr(cls, "__dibs_table__", None)
    if not isinstance(spec, m.TableSpec) or spec.cls is not cls:
        raise TypeError(f"{getattr(cls, '__name__', cls)!r} is not a @dibs.table class")
    same_module = m.REGISTRY.tables.get(cls.__module__, [])
    specs = [s for s in same_module if s.cls.__module__ == cls.__module__] or [spec]
    try:
        schema = schema_from_specs(specs)
    except DeclarationError:
        # A foreign key may point into another module: use every declared table.
        everything = [s for group in m.REGISTRY.tables.values() for s in group]
        schema = schema_from_specs(everything)
    classes = {(s.schema, s.name or _snake(s.cls.__name__)): s.cls for s in specs}
    for info in tables_of_schema(schema, classes).values():
        if info.cls is not None:
            _CACHE[info.cls] = info


def _snake(name: str) -> str:
    from dibs.schema.declare_columns import snake_case

    return snake_case(name)


def tables_of_schema(
    schema: model.Schema, classes: dict[tuple[str, str], type] | None = None
) -> dict[tuple[str, str], TableInfo]:
    """``TableInfo`` for every table of a schema; tables found in ``classes`` get their class."""
    classes = classes or {}
    return {t.key: _table(t, schema, classes.get(t.key), classes) for t in schema.tables}


def _table(
    table: model.Table, schema: model.Schema, cls: type | None, classes: dict[tuple[str, str], type]
) -> TableInfo:
    hints: dict[str, Any] = {}
    attrs: list[str] = [c.name for c in table.columns]
    if cls is not None:
        from dibs.schema.declare_columns import type_hints

        hints = type_hints(cls, None)
        attrs = list(hints)
    cols = tuple(
        _column(c, a, cls, hints.get(a)) for c, a in zip(table.columns, attrs, strict=True)
    )
    pk_names = table.primary_key.columns if table.primary_key else ()
    by_name = {c.name: c for c in cols}
    ref = quote(table.name)
    return TableInfo(
        table=table,
        schema=schema,
        cls=cls,
        columns=cols,
        by_attr={c.attr: c for c in cols},
        by_name=by_name,
        pk=tuple(by_name[n] for n in pk_names),
        sql=f"{quote(table.schema)}.{ref}",
        ref=ref,
        select_list=", ".join(f"{ref}.{c.sql}" for c in cols),
        classes=classes,
    )


def _column(col: model.Column, attr: str, cls: type | None, hint: Any) -> ColumnInfo:
    enum_cls: type[enum.Enum] | None = None
    if hint is not None:
        from dibs.schema.declare_columns import unwrap

        base = unwrap(hint)[0]
        if isinstance(base, type) and issubclass(base, enum.Enum):
            enum_cls = base
    default = MISSING
    if cls is not None and attr in cls.__dict__ and cls.__dict__[attr] is not None:
        default = cls.__dict__[attr]
    return ColumnInfo(
        attr=attr,
        name=col.name,
        type=col.type,
        nullable=col.nullable,
        db_default=col.default is not None or col.identity is not None or col.generated is not None,
        generated=col.generated is not None,
        identity_always=col.identity == "always",
        python_default=default,
        enum_cls=enum_cls,
        sql=quote(col.name),
    )
