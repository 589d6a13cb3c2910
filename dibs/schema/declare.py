"""Turn Python table classes into the canonical ``Schema``.

``load_schema(["myapp.schema"])`` imports the modules, gathers what they
registered with ``@dibs.table``, ``@dibs.enum``, ``dibs.extension`` and
``dibs.sequence``, and builds the model: every type through
``canonical_type``, every expression through ``canonical_expression``, every
implicit name through ``naming``. Mistakes raise ``DeclarationError`` naming
the file and line. Columns are built in ``declare_columns.py``, tables in
``declare_table.py``; cross-table checks (foreign keys, duplicate names) live
in ``validate.py``.
"""

from __future__ import annotations

import enum
import importlib
import sysconfig
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path

from dibs.errors import DeclarationError, SourceLocation
from dibs.schema import markers as m
from dibs.schema import model
from dibs.schema.declare_columns import class_location, snake_case
from dibs.schema.declare_table import build_table
from dibs.schema.types import canonical_type

__all__ = ["load_schema", "schema_from_classes", "schema_from_specs"]


# -- whole schema ---------------------------------------------------------------


def _user_frame(exc: BaseException) -> SourceLocation | None:
    """The innermost traceback frame in the user's code (not in dibs, Python or a library)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    if not frames:
        return None
    foreign = [str(Path(__file__).resolve().parents[1])]
    foreign += [sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")]
    mine = [f for f in frames if not any(f.filename.startswith(root) for root in foreign)]
    last = (mine or frames)[-1]
    return SourceLocation(last.filename, last.lineno or 1)


def _import(module: str) -> None:
    try:
        importlib.import_module(module)
    except DeclarationError:
        raise
    except SyntaxError as exc:
        where = SourceLocation(exc.filename or module, exc.lineno or 1)
        raise DeclarationError(
            f"schema module {module!r} has a syntax error: {exc.msg}", location=where
        ) from exc
    except Exception as exc:  # user code failed while importing
        if isinstance(exc, ModuleNotFoundError) and exc.name == module:
            raise DeclarationError(
                f"schema module {module!r} not found",
                hint="check [tool.dibs] schema and pythonpath in pyproject.toml",
            ) from exc
        raise DeclarationError(
            f"schema module {module!r} failed to import: {type(exc).__name__}: {exc}",
            location=_user_frame(exc),
            hint="fix the error at that line; dibs imports the module exactly as Python would",
        ) from exc


def _in(module: str, roots: Iterable[str]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def load_schema(modules: Sequence[str]) -> model.Schema:
    """Import ``modules`` and return the schema they declare.

    Raises:
        DeclarationError: a module fails to import or declares something invalid.
    """
    for module in modules:
        _import(module)
    reg = m.REGISTRY
    tables = [s for mod, specs in reg.tables.items() if _in(mod, modules) for s in specs]
    extensions = [e for mod, ex in reg.extensions.items() if _in(mod, modules) for e in ex]
    sequences = [s for mod, sq in reg.sequences.items() if _in(mod, modules) for s in sq]
    domains = [d for mod, ds in reg.domains.items() if _in(mod, modules) for d in ds]
    declared_enums = [cls for cls in reg.enums if _in(cls.__module__, modules)]
    namespaces = [n for mod, ns in reg.namespaces.items() if _in(mod, modules) for n in ns]
    schema = schema_from_specs(tables, extensions, sequences, domains, declared_enums)
    if namespaces:
        schema = model.Schema.build(
            tables=schema.tables,
            enums=schema.enums,
            sequences=schema.sequences,
            extensions=schema.extensions,
            schemas={*schema.schemas, *namespaces},
            domains=schema.domains,
        )
    return schema


def schema_from_classes(classes: Iterable[type]) -> model.Schema:
    """Build the schema of these ``@dibs.table`` classes (and ``Enum`` classes) alone.

    Unlike ``load_schema`` it imports nothing and ignores the module registry
    (extensions, sequences, domains): handy in tests and notebooks.

    Raises:
        DeclarationError: a class is neither a table nor an enum, or the tables are invalid.
    """
    tables: list[m.TableSpec] = []
    enums: list[type[enum.Enum]] = []
    for cls in classes:
        spec = getattr(cls, "__dibs_table__", None)
        if isinstance(spec, m.TableSpec) and spec.cls is cls:
            tables.append(spec)
        elif isinstance(cls, type) and issubclass(cls, enum.Enum):
            enums.append(cls)
        else:
            raise DeclarationError(
                f"{getattr(cls, '__name__', cls)!r} is not a table class",
                location=class_location(cls) if isinstance(cls, type) else None,
                hint="decorate it with @dibs.table (a subclass of a table class is not one)",
            )
    return schema_from_specs(tables, enum_classes=enums)


def schema_from_specs(
    tables: Sequence[m.TableSpec],
    extensions: Sequence[m.ExtensionSpec] = (),
    sequences: Sequence[m.SequenceSpec] = (),
    domains: Sequence[m.DomainSpec] = (),
    enum_classes: Sequence[type[enum.Enum]] = (),
) -> model.Schema:
    """Build the schema from registered specs (tests may pass specs directly)."""
    from dibs.schema.validate import check_type_and_relation_names, resolve_and_validate

    built = [build_table(spec) for spec in tables]
    enums = _enums([*(b.enum_classes for b in built), enum_classes])
    schema = resolve_and_validate(built, enums)
    seqs = [
        model.Sequence(
            name=s.name,
            schema=s.schema,
            type=canonical_type(s.type),
            start=s.start,
            increment=s.increment,
            min_value=s.min_value,
            max_value=s.max_value,
            cache=s.cache,
            cycle=s.cycle,
            owned_by=s.owned_by,
        )
        for s in sequences
    ]
    exts = [model.Extension(e.name, e.schema) for e in extensions]
    doms = [_domain(d) for d in domains]
    check_type_and_relation_names(schema, sequences, domains)
    namespaces = {t.schema for t in schema.tables} | {e.schema for e in schema.enums}
    namespaces |= {s.schema for s in seqs} | {e.schema for e in exts} | {d.schema for d in doms}
    return model.Schema.build(
        tables=schema.tables,
        enums=schema.enums,
        sequences=seqs,
        extensions=exts,
        schemas=namespaces,
        domains=doms,
    )


def _domain(spec: m.DomainSpec) -> model.Domain:
    from dibs.schema.declare_columns import expression

    where = spec.location
    return model.Domain(
        name=spec.name,
        type=canonical_type(spec.type),
        schema=spec.schema,
        nullable=spec.nullable,
        default=None if spec.default is None else expression(spec.default, where, "domain default"),
        checks=tuple(
            model.Check(
                c.name or f"{spec.name}_check",
                expression(c.expression, c.location or where, f"check of domain {spec.name}"),
            )
            for c in spec.checks
        ),
        collation=spec.collation,
        comment=spec.comment,
    )


def _enums(groups: Sequence[Sequence[type[enum.Enum]]]) -> list[model.EnumType]:
    """Every Python Enum used by a column or declared with @dibs.enum, as a Postgres enum."""
    seen: dict[tuple[str, str], model.EnumType] = {}
    owners: dict[tuple[str, str], type[enum.Enum]] = {}
    for group in groups:
        for cls in group:
            spec = m.REGISTRY.enums.get(cls)
            name = (spec.name if spec else None) or snake_case(cls.__name__)
            schema = spec.schema if spec else "public"
            first = owners.setdefault((schema, name), cls)
            if first is not cls:
                raise DeclarationError(
                    f"two Enum classes map to the Postgres type {schema}.{name}: "
                    f"{first.__qualname__} and {cls.__qualname__}",
                    location=(spec.location if spec else None) or class_location(cls),
                    hint="give one of them another name with @dibs.enum(name=...)",
                )
            values = tuple(str(v.value) if isinstance(v.value, str) else v.name for v in cls)
            seen[(schema, name)] = model.EnumType(
                name=name,
                values=values,
                schema=schema,
                comment=spec.comment if spec else None,
                location=spec.location if spec else class_location(cls),
            )
    return list(seen.values())
