"""Make a ``@dibs.table`` class its own row type: a constructor, and columns at class level.

The table decorator calls ``make_row_type``. It cannot put a descriptor in the
class's ``__dict__``: the declaration reader takes Python defaults from there
(``marketing_opt_in: bool = False``). So the class is re-created with a small
metaclass of its own whose *data descriptors* (``Col`` objects) win over the
class dictionary for class-level access (``Customer.email`` is a column
expression) while instances keep plain attributes (``customer.email`` is a
``str``, read at dict speed). Nothing here evaluates annotations: the column
facts (nullable, DB defaults…) are read lazily from the model on first use.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, TypeVar

from dibs.query.expr import Col

__all__ = [
    "DB_DEFAULT",
    "TableType",
    "column_attrs",
    "default_value",
    "is_table_class",
    "make_row_type",
]

T = TypeVar("T")


class _DbDefault:
    """Class-body value meaning "the database fills this column" (identity, DEFAULT)."""

    _instance: _DbDefault | None = None

    def __new__(cls) -> _DbDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "dibs.DB_DEFAULT"


DB_DEFAULT: Any = _DbDefault()


def default_value(value: T) -> Col[T]:
    """Give a ``dibs.Col[T]`` column a Python default (``= dibs.default_value(False)``).

    At runtime it returns ``value`` itself, so the class body reads exactly as
    ``opt_in: bool = False`` does for the schema reader. It exists for type
    checkers: a bare ``False`` is not a ``Col[bool]``; this is, and a default of
    the wrong type (``default_value("no")`` for a ``Col[bool]``) is an error.
    """
    return value  # type: ignore[return-value]


class TableType(type):
    """Base of the per-class metaclasses of table classes (``isinstance(User, TableType)``)."""

    __dibs_attrs__: tuple[str, ...]


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


def column_attrs(cls: type) -> tuple[str, ...]:
    """The attribute names of a table class's columns, in declaration order (unevaluated)."""
    own = inspect.get_annotations(cls)
    return tuple(k for k, v in own.items() if not _is_classvar(v))


def is_table_class(obj: object) -> bool:
    return isinstance(obj, TableType)


def _init(self: Any, **values: Any) -> None:
    from dibs.query.info import table_info

    info = table_info(type(self))
    unknown = values.keys() - info.by_attr.keys()
    if unknown:
        raise TypeError(
            f"{type(self).__name__}() got unexpected keyword argument(s): "
            f"{', '.join(sorted(unknown))}"
        )
    missing: list[str] = []
    for col in info.columns:
        if col.attr in values:
            continue
        if col.has_python_default:
            values[col.attr] = copy.copy(col.python_default)
        elif col.db_default:
            continue  # left unset: INSERT omits it and RETURNING fills it in
        elif col.nullable:
            values[col.attr] = None
        else:
            missing.append(col.attr)
    if missing:
        raise TypeError(f"{type(self).__name__}() missing required column(s): {', '.join(missing)}")
    self.__dict__.update(values)


def _repr(self: Any) -> str:
    attrs: tuple[str, ...] = type(self).__dibs_attrs__
    shown = ", ".join(f"{a}={self.__dict__[a]!r}" for a in attrs if a in self.__dict__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> object:  # bool, or NotImplemented for another type
    if type(other) is not type(self):
        return NotImplemented
    attrs: tuple[str, ...] = self.__dibs_attrs__
    return all(self.__dict__.get(a) == other.__dict__.get(a) for a in attrs)


def _getattr(self: Any, name: str) -> Any:
    if name in type(self).__dibs_attrs__:
        raise AttributeError(
            f"{type(self).__name__}.{name} is not set yet: the database fills it in "
            "(identity or DEFAULT); insert the row with RETURNING to read it"
        )
    raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def make_row_type(cls: type[T]) -> type[T]:
    """Return ``cls`` re-created as a row type with class-level column expressions.

    The class body is kept as written (methods, defaults, docstring); only a
    constructor, ``__repr__`` and ``__eq__`` are added when the class has none.
    """
    attrs = column_attrs(cls)
    meta_ns: dict[str, Any] = {a: Col(a) for a in attrs}
    base_meta = type(cls)
    bases_meta = (TableType,) if base_meta in (type, TableType) else (TableType, base_meta)
    meta = type(f"{cls.__name__}Type", bases_meta, meta_ns)
    ns = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    # The sentinel only tells type checkers "has a default"; the model reads the class
    # dict and must not see it.
    for a in attrs:
        if ns.get(a) is DB_DEFAULT:
            del ns[a]
    ns["__dibs_attrs__"] = attrs
    for name, fn in (("__init__", _init), ("__repr__", _repr), ("__eq__", _eq)):
        if name not in ns:
            ns[name] = fn
    if "__eq__" in ns and ns["__eq__"] is _eq and "__hash__" not in ns:
        ns["__hash__"] = None
    if "__getattr__" not in ns:
        ns["__getattr__"] = _getattr
    new: type[T] = meta(cls.__name__, cls.__bases__, ns)
    for col in meta_ns.values():
        col._bind(new)
    return new
