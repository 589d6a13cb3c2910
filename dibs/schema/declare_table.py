"""One ``@dibs.table`` class → a model ``Table`` (foreign keys still unresolved).

Foreign keys name other tables, so they are resolved in ``validate.py`` once
every table is built; everything else about a table is decided here.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace

from dibs.errors import DeclarationError, ExpressionError, SourceLocation
from dibs.schema import markers as m
from dibs.schema import model, naming
from dibs.schema.declare_columns import (
    ColumnDecl,
    class_location,
    column_decl,
    expression,
    snake_case,
    type_hints,
)
from dibs.schema.expressions import referenced_columns

__all__ = ["BuiltTable", "build_table"]


@dataclass
class BuiltTable:
    """A table with its foreign keys still as specs, and the enums its columns use."""

    table: model.Table
    fks: list[m.ForeignKeySpec] = field(default_factory=list)
    enum_classes: list[type[enum.Enum]] = field(default_factory=list)
    cls: type | None = None


_INDEX_KEY = re.compile(r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_$]*|\"(?:[^\"]|\"\")+\")\s*(?P<rest>.*)$")


def _index_element(key: str, table: str, where: SourceLocation | None) -> model.IndexElement:
    """Parse one index key (``"email"``, ``"created_at DESC"``, ``"lower(email)"``)."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        stmt = parse_sql(f"CREATE INDEX x ON t ({key})")[0].stmt
    except ParseError as exc:
        raise DeclarationError(
            f"index key {key!r} of table {table!r} does not parse: {exc.args[0]}",
            location=where,
            hint="write a column name or an expression, optionally followed by DESC, "
            "NULLS FIRST/LAST or an operator class",
        ) from exc
    params = stmt.indexParams  # type: ignore[union-attr]
    if len(params) != 1:
        raise DeclarationError(
            f"index key {key!r} holds {len(params)} keys; pass one key per argument",
            location=where,
        )
    elem = params[0]
    from pglast.enums import SortByDir, SortByNulls
    from pglast.stream import RawStream

    descending = elem.ordering == SortByDir.SORTBY_DESC
    nulls_first = descending
    if elem.nulls_ordering == SortByNulls.SORTBY_NULLS_FIRST:
        nulls_first = True
    elif elem.nulls_ordering == SortByNulls.SORTBY_NULLS_LAST:
        nulls_first = False
    opclass = ".".join(n.sval for n in elem.opclass) if elem.opclass else None
    collation = ".".join(n.sval for n in elem.collation) if elem.collation else None
    if elem.name is not None:
        return model.IndexElement(
            column=elem.name,
            descending=descending,
            nulls_first=nulls_first,
            opclass=opclass,
            collation=collation,
        )
    text = str(RawStream()(elem.expr))
    try:
        text = expression(text, where, f"index key {key!r}")
    except ExpressionError:  # pragma: no cover - already parsed above
        raise
    return model.IndexElement(
        expression=text,
        descending=descending,
        nulls_first=nulls_first,
        opclass=opclass,
        collation=collation,
    )


def _figure_colname(expression: str) -> str:
    """The name Postgres gives an expression key (``FigureIndexColname``): a function's name."""
    from pglast import parse_sql

    node = parse_sql(f"SELECT {expression}")[0].stmt.targetList[0].val  # type: ignore[union-attr]
    if type(node).__name__ == "FuncCall":
        return str(node.funcname[-1].sval)
    return "expr"


def _index(spec: m.IndexSpec, table: str) -> model.Index:
    where = spec.location
    elements = tuple(_index_element(k, table, where) for k in spec.keys)
    if not elements:
        raise DeclarationError(f"an index of table {table!r} has no keys", location=where)
    if spec.name:
        name = spec.name
    else:
        parts = [e.column or _figure_colname(e.expression or "") for e in elements]
        parts += list(spec.include)
        name = naming.index_name(table, parts)
    return model.Index(
        name=name,
        elements=elements,
        unique=spec.unique,
        method=spec.method.lower(),
        where=None if spec.where is None else expression(spec.where, where, f"index {name} WHERE"),
        include=spec.include,
        nulls_not_distinct=spec.nulls_not_distinct,
        comment=spec.comment,
        location=where,
        storage=model.storage_parameters(spec.storage, keep_order=True),
    )


def _check(spec: m.Check, table: str) -> model.Check:
    text = expression(spec.expression, spec.location, f"check on table {table!r}")
    name = spec.name or naming.check_name(table, referenced_columns(text))
    return model.Check(
        name=name,
        expression=text,
        no_inherit=spec.no_inherit,
        not_valid=spec.not_valid,
        comment=spec.comment,
    )


def _exclusion(spec: m.ExclusionSpec, table: str) -> model.Exclusion:
    elements = []
    names = []
    for expr_text, operator in spec.elements:
        element = _index_element(expr_text, table, spec.location)
        text = element.column if element.column else element.expression
        from dibs.schema.types import quote_ident

        if element.column:
            text = quote_ident(element.column)
        elements.append(
            model.ExclusionElement(expression=str(text), operator=operator, opclass=element.opclass)
        )
        names.append(element.column or "expr")
    return model.Exclusion(
        name=spec.name or naming.exclusion_name(table, names),
        method=spec.using.lower(),
        elements=tuple(elements),
        where=None if spec.where is None else expression(spec.where, spec.location, "exclusion"),
        deferrable=spec.deferrable,
        initially_deferred=spec.initially_deferred,
        comment=spec.comment,
    )


def _unique(spec: m.UniqueSpec, table: str) -> model.Unique:
    return model.Unique(
        name=spec.name or naming.unique_name(table, spec.columns),
        columns=spec.columns,
        nulls_not_distinct=spec.nulls_not_distinct,
        deferrable=spec.deferrable,
        initially_deferred=spec.initially_deferred,
        comment=spec.comment,
    )


def _enum_classes(cls: type, attrs: list[str]) -> list[type[enum.Enum]]:
    import typing

    from dibs.schema.declare_columns import unwrap

    found: list[type[enum.Enum]] = []
    hints = typing.get_type_hints(cls, include_extras=True)
    for attr in attrs:
        base, _, _ = unwrap(hints[attr])
        while typing.get_origin(base) in (list, tuple) and typing.get_args(base):
            base, _, _ = unwrap(typing.get_args(base)[0])
        if isinstance(base, type) and issubclass(base, enum.Enum) and base not in found:
            found.append(base)
    return found


def _primary_key(spec: m.TableSpec, name: str, decls: list[ColumnDecl]) -> model.PrimaryKey | None:
    marked = tuple(d.column.name for d in decls if d.pk)
    if marked and spec.primary_key:
        raise DeclarationError(
            f"table {name!r} declares its primary key twice (dibs.pk markers and primary_key=)",
            location=spec.location,
            hint="keep one of them",
        )
    columns = marked or spec.primary_key
    if not columns:
        return None
    return model.PrimaryKey(
        spec.primary_key_name or naming.primary_key_name(name),
        columns,
        deferrable=spec.primary_key_deferrable,
        initially_deferred=spec.primary_key_initially_deferred,
        comment=spec.primary_key_comment,
    )


def build_table(spec: m.TableSpec) -> BuiltTable:
    """Build one table from its class (see module docstring)."""
    cls = spec.cls
    cls_loc = class_location(cls) or spec.location
    name = spec.name or snake_case(cls.__name__)
    hints = type_hints(cls, cls_loc)
    decls = [column_decl(cls, attr, hint, cls_loc) for attr, hint in hints.items()]
    pk = _primary_key(spec, name, decls)
    if pk is not None:
        decls = [
            ColumnDecl(
                replace(d.column, nullable=False),
                d.attr,
                d.pk,
                d.unique,
                d.checks,
                d.fks,
                d.indexes,
            )
            if d.column.name in pk.columns
            else d
            for d in decls
        ]
    doc = cls.__doc__
    comment = (
        spec.comment
        if spec.comment is not None
        else (_clean_doc(doc) if doc and doc != _inherited_doc(cls) else None)
    )
    uniques = [_unique(u, name) for d in decls for u in d.unique]
    uniques += [_unique(u, name) for u in spec.unique]
    check_specs = [c for d in decls for c in d.checks] + list(spec.checks)
    checks = [_check(c, name) for c in check_specs]
    fks = [
        replace(f, columns=(d.column.name,), location=f.location or d.column.location)
        for d in decls
        for f in d.fks
    ] + list(spec.foreign_keys)
    indexes = [_index(i, name) for d in decls for i in d.indexes]
    indexes += [_index(i, name) for i in spec.indexes]
    table = model.Table(
        name=name,
        schema=spec.schema,
        columns=tuple(d.column for d in decls),
        primary_key=pk,
        uniques=tuple(uniques),
        checks=tuple(checks),
        exclusions=tuple(_exclusion(x, name) for x in spec.exclusions),
        indexes=tuple(indexes),
        comment=comment,
        partition_by=spec.partition_by,
        partition_of=spec.partition_of,
        partition_bound=spec.partition_bound,
        renamed_from=spec.renamed_from,
        label_column=next((d.column.name for d in decls if d.column.display.label), None),
        location=cls_loc,
    )
    uses = [
        (c.expression, f"check {c.name}", s.location or cls_loc)
        for c, s in zip(checks, check_specs, strict=True)
    ]
    uses += [
        (x, f"exclusion {e.name}", s.location or cls_loc)
        for e, s in zip(table.exclusions, spec.exclusions, strict=True)
        for x in [*(el.expression for el in e.elements), e.where]
        if x
    ]
    _check_references(table, uses)
    return BuiltTable(table, fks, _enum_classes(cls, list(hints)), cls)


def _check_references(
    table: model.Table, uses: list[tuple[str, str, SourceLocation | None]]
) -> None:
    """Every column an expression of the table reads must be a column of the table.

    ``uses`` are (expression, what it is, where declared); generated columns and
    index keys and predicates are added here from the table itself.
    """
    uses = list(uses)
    uses += [
        (c.generated, f"generated column {c.name}", c.location)
        for c in table.columns
        if c.generated
    ]
    for ix in table.indexes:
        texts = [e.expression for e in ix.elements if e.expression] + [ix.where]
        uses += [(t, f"index {ix.name}", ix.location or table.location) for t in texts if t]
    known = {c.name for c in table.columns}
    for text, what, where in uses:
        missing = [c for c in referenced_columns(text) if c not in known]
        if missing:
            raise DeclarationError(
                f"{what} of table {table.qualified_name} reads unknown column(s) "
                f"{', '.join(missing)}",
                location=where,
                hint="columns: "
                + ", ".join(c.name for c in table.columns)
                + " (string literals need single quotes: 'x')",
            )


def _inherited_doc(cls: type) -> str | None:
    return object.__doc__ if cls.__doc__ is object.__doc__ else None


def _clean_doc(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc)
