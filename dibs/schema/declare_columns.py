"""Python annotations and markers → model ``Column`` values (part of declaring a schema).

Also finds where each class and attribute is written (``ast`` over the
class's source file, parsed once per file), so every error and the TUI can
point at file:line.
"""

from __future__ import annotations

import ast
import datetime as dt
import decimal
import enum
import ipaddress
import re
import sys
import types
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from dibs.errors import DeclarationError, ExpressionError, SourceLocation
from dibs.schema import markers as m
from dibs.schema import model
from dibs.schema.expressions import (
    canonical_expression,
    is_column_reference,
    referenced_columns,
)
from dibs.schema.types import canonical_type

__all__ = [
    "ColumnDecl",
    "class_location",
    "column_decl",
    "expression",
    "snake_case",
    "type_hints",
    "unwrap",
]

_PY_TYPES: dict[Any, str] = {
    int: "bigint",
    str: "text",
    bool: "boolean",
    float: "double precision",
    decimal.Decimal: "numeric",
    dt.datetime: "timestamptz",
    dt.date: "date",
    dt.time: "time",
    dt.timedelta: "interval",
    uuid.UUID: "uuid",
    bytes: "bytea",
    dict: "jsonb",
    list: "jsonb",
    Any: "jsonb",
    ipaddress.IPv4Address: "inet",
    ipaddress.IPv6Address: "inet",
    ipaddress.IPv4Interface: "inet",
    ipaddress.IPv6Interface: "inet",
    ipaddress.IPv4Network: "cidr",
    ipaddress.IPv6Network: "cidr",
}


def snake_case(name: str) -> str:
    """``OrderLine`` → ``order_line``.

    >>> snake_case("OrderLine"), snake_case("HTTPRequest")
    ('order_line', 'http_request')
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


# -- source locations ---------------------------------------------------------


@lru_cache(maxsize=256)
def _class_lines(filename: str) -> dict[tuple[int, str], int]:
    """Map (class line, attribute) → line of its annotation, parsed once per file."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    found: dict[tuple[int, str], int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    found[(node.lineno, stmt.target.id)] = stmt.lineno
                    found[(first, stmt.target.id)] = stmt.lineno
            found[(first, "")] = node.lineno
            found[(node.lineno, "")] = node.lineno
    return found


def class_location(cls: type) -> SourceLocation | None:
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not filename:
        return None
    lines = _class_lines(filename)
    qualname_line = getattr(cls, "__firstlineno__", None)
    if isinstance(qualname_line, int):
        return SourceLocation(filename, qualname_line)
    for (line, attr), _ in lines.items():
        if attr == "" and _class_has_name(filename, line, cls.__name__):
            return SourceLocation(filename, line)
    return SourceLocation(filename, 1)


@lru_cache(maxsize=256)
def _class_names(filename: str) -> dict[int, str]:
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    return {n.lineno: n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}


def _class_has_name(filename: str, line: int, name: str) -> bool:
    return _class_names(filename).get(line) == name


def _attr_location(cls_loc: SourceLocation | None, attr: str) -> SourceLocation | None:
    if cls_loc is None:
        return None
    line = _class_lines(cls_loc.file).get((cls_loc.line, attr))
    return SourceLocation(cls_loc.file, line) if line else cls_loc


# -- columns ------------------------------------------------------------------


@dataclass
class ColumnDecl:
    """A column and the constraint markers found on it (resolved per table)."""

    column: model.Column
    attr: str
    pk: bool = False
    unique: list[m.UniqueSpec] = field(default_factory=list)
    checks: list[m.Check] = field(default_factory=list)
    fks: list[m.ForeignKeySpec] = field(default_factory=list)
    indexes: list[m.IndexSpec] = field(default_factory=list)


def unwrap(hint: Any) -> tuple[Any, list[Any], bool]:
    """Split ``Annotated[X | None, *markers]`` into (X, markers, nullable)."""
    found: list[Any] = []
    nullable = False
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            found.extend(hint.__metadata__)
            hint = hint.__origin__
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            if len(args) != len(typing.get_args(hint)):
                nullable = True
            if len(args) == 1:
                hint = args[0]
                continue
        return hint, found, nullable


def _enum_type(cls: type[enum.Enum]) -> str:
    spec = m.REGISTRY.enums.get(cls)
    name = (spec.name if spec else None) or snake_case(cls.__name__)
    schema = spec.schema if spec else "public"
    from dibs.schema.types import quote_ident

    return canonical_type(f"{quote_ident(schema)}.{quote_ident(name)}")


def _python_type(base: Any, where: SourceLocation | None, attr: str) -> str:
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return _enum_type(base)
    if base in _PY_TYPES:
        return _PY_TYPES[base]
    origin = typing.get_origin(base)
    if origin in (list, tuple, Sequence) and typing.get_args(base):
        inner, _, _ = unwrap(typing.get_args(base)[0])
        return _python_type(inner, where, attr) + "[]"
    if origin is dict:
        return "jsonb"
    shown = getattr(base, "__name__", None) or repr(base)
    raise DeclarationError(
        f"column {attr!r}: unsupported annotation {shown!r}",
        location=where,
        hint="use a supported Python type (see docs/declaring.md) or give the Postgres type "
        "explicitly, e.g. Annotated[..., dibs.sql_type('tsvector')]",
    )


def _quote(text: str) -> str:
    """A SQL string literal, quotes doubled (``standard_conforming_strings`` is on)."""
    return "'" + text.replace("'", "''") + "'"


def _interval(value: dt.timedelta) -> str:
    """``timedelta(days=1, hours=2)`` → ``'1 days 7200 seconds'`` (exact, any sign)."""
    parts = [f"{value.days} days"] if value.days else []
    if value.seconds or not parts:
        parts.append(f"{value.seconds} seconds")
    if value.microseconds:
        parts.append(f"{value.microseconds} microseconds")
    return _quote(" ".join(parts))


def _number(value: float | decimal.Decimal) -> str:
    """A numeric literal; NaN and infinities are quoted (bare, they would be column names)."""
    number = decimal.Decimal(value) if isinstance(value, float) else value
    if number.is_nan():
        return "'NaN'"
    if number.is_infinite():
        return "'Infinity'" if number > 0 else "'-Infinity'"
    return str(value)


_STRINGLIKE = (
    uuid.UUID,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
)


def _sql_literal(value: Any, ctype: str = "") -> str | None:
    """Render a Python default as a SQL literal (None means: no default).

    Raises:
        TypeError: the value has no SQL literal form.
    """
    if value is None:
        return None
    if ctype.endswith("[]") and isinstance(value, list | tuple):
        if not value:
            return "'{}'"
        items = [_sql_literal(v, ctype) for v in value]
        return "ARRAY[" + ", ".join(i or "NULL" for i in items) + "]"
    if isinstance(value, enum.Enum):
        return _quote(str(value.value if isinstance(value.value, str) else value.name))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | decimal.Decimal):
        return _number(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return _quote(value.isoformat())
    if isinstance(value, dt.timedelta):
        return _interval(value)
    if isinstance(value, bytes):
        return _quote("\\x" + value.hex())
    if isinstance(value, _STRINGLIKE):
        return _quote(str(value))
    if isinstance(value, dict | list):
        import json

        return _quote(json.dumps(value, sort_keys=True))
    raise TypeError(type(value).__name__)


def expression(text: str, where: SourceLocation | None, what: str) -> str:
    try:
        return canonical_expression(text)
    except ExpressionError as exc:
        raise DeclarationError(f"{what}: {exc.message}", location=where, hint=exc.hint) from exc


def _column_default(
    cls: type, attr: str, found: list[Any], where: SourceLocation | None, ctype: str
) -> str | None:
    sql_defaults = [x for x in found if isinstance(x, m.Default)]
    if sql_defaults:
        text = sql_defaults[-1].expression
        expr = expression(text, where, f"default of {attr!r}")
        if is_column_reference(text):
            raise DeclarationError(
                f"default of {attr!r} is the bare name {text.strip()!r}, which Postgres reads "
                "as a column reference",
                location=where,
                hint=f"for a string literal write `= {text.strip()!r}` after the annotation, "
                f"or dibs.default(\"'{text.strip()}'\")",
            )
        if referenced_columns(text):
            raise DeclarationError(
                f"default of {attr!r} reads column(s) {', '.join(referenced_columns(text))}; "
                "Postgres does not allow column references in a DEFAULT",
                location=where,
                hint="quote string literals ('x'), or use dibs.generated(...) for a value "
                "computed from other columns",
            )
        return expr
    if attr in cls.__dict__:
        value = cls.__dict__[attr]
        try:
            rendered = _sql_literal(value, ctype)
        except TypeError as exc:
            raise DeclarationError(
                f"default of {attr!r}: cannot turn a {type(value).__name__} into SQL",
                location=where,
                hint="use a str, number, bool, date/time, UUID, Enum member, dict or list, "
                "or dibs.default('<SQL expression>')",
            ) from exc
        return None if rendered is None else expression(rendered, where, f"default of {attr!r}")
    return None


def _identity_options(
    ident: m.Identity | None, ctype: str, attr: str, where: SourceLocation | None
) -> model.IdentityOptions | None:
    """The identity sequence options of ``dibs.identity(…)``, checked as Postgres would."""
    if ident is None:
        return None
    options = model.IdentityOptions(
        start=ident.start,
        increment=ident.increment,
        min_value=ident.min_value,
        max_value=ident.max_value,
        cache=ident.cache,
        cycle=ident.cycle,
    )
    try:
        return options.normalized(ctype)
    except ValueError as exc:
        raise DeclarationError(
            f"column {attr!r}: {exc}",
            location=where,
            hint="pass dibs.identity() options Postgres accepts (see CREATE SEQUENCE)",
        ) from exc


def column_decl(cls: type, attr: str, hint: Any, cls_loc: SourceLocation | None) -> ColumnDecl:
    where = _attr_location(cls_loc, attr)
    base, found, nullable = unwrap(hint)
    overrides = [x for x in found if isinstance(x, m.SqlType)]
    if overrides:
        ctype = overrides[-1].text
    elif m.naive in found and base is dt.datetime:
        ctype = "timestamp"
    else:
        ctype = _python_type(base, where, attr)
    try:
        ctype = canonical_type(ctype)
    except ExpressionError as exc:
        raise DeclarationError(
            f"column {attr!r}: {exc.message}", location=where, hint=exc.hint
        ) from exc
    ident = next((x for x in found if isinstance(x, m.Identity)), None)
    gen = next((x for x in found if isinstance(x, m.Generated)), None)
    names = [x.name for x in found if isinstance(x, m.ColumnName)]
    col = model.Column(
        name=names[-1] if names else attr,
        type=ctype,
        nullable=nullable and m.pk not in found,
        default=_column_default(cls, attr, found, where, ctype),
        identity=None if ident is None else ("always" if ident.always else "by default"),
        generated=None if gen is None else expression(gen.expression, where, f"generated {attr!r}"),
        comment=next((x.text for x in reversed(found) if isinstance(x, m.Comment)), None),
        collation=next((x.name for x in reversed(found) if isinstance(x, m.Collate)), None),
        identity_options=_identity_options(ident, ctype, attr, where),
        renamed_from=tuple(n for x in found if isinstance(x, m.RenamedFrom) for n in x.names),
        display=model.ColumnDisplay(
            label=m.label in found, long_text=m.long_text in found, hidden=m.hidden in found
        ),
        location=where,
    )
    decl = ColumnDecl(col, attr, pk=m.pk in found)
    for marker in found:
        if marker is m.unique:
            decl.unique.append(m.UniqueSpec((col.name,), location=where))
        elif isinstance(marker, m.UniqueSpec):
            decl.unique.append(
                m.UniqueSpec(
                    marker.columns or (col.name,),
                    marker.nulls_not_distinct,
                    marker.deferrable,
                    marker.initially_deferred,
                    marker.name,
                    where,
                    marker.comment,
                )
            )
        elif isinstance(marker, m.Check):
            decl.checks.append(replace(marker, location=marker.location or where))
        elif isinstance(marker, m.ForeignKeySpec):
            decl.fks.append(marker)
        elif marker is m.index:
            decl.indexes.append(m.IndexSpec((col.name,), location=where))
        elif isinstance(marker, m.IndexSpec):
            keys = marker.keys or (col.name,)
            decl.indexes.append(
                m.IndexSpec(
                    keys,
                    marker.unique,
                    marker.method,
                    marker.where,
                    marker.include,
                    marker.nulls_not_distinct,
                    marker.name,
                    marker.comment,
                    where,
                )
            )
    return decl


def type_hints(cls: type, cls_loc: SourceLocation | None) -> dict[str, Any]:
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # NameError, TypeError: user code
        raise DeclarationError(
            f"cannot read the annotations of {cls.__name__}: {type(exc).__name__}: {exc}",
            location=cls_loc,
            hint="import every type used in the annotations at module level",
        ) from exc
    import inspect

    own = inspect.get_annotations(cls)
    return {
        k: hints[k]
        for k in own
        if typing.get_origin(hints[k]) is not typing.ClassVar and hints[k] is not typing.ClassVar
    }
