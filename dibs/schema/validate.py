"""Cross-table checks of a declared schema, and foreign-key resolution.

Run once all tables are built: foreign keys are resolved to real tables and
columns (and must reference a primary key or unique constraint with the same
column types), names must be unique where Postgres requires it, and every
identifier must fit in 63 bytes. Each failure is a ``DeclarationError`` with
the file and line of the offending declaration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from dibs.errors import DeclarationError, SourceLocation
from dibs.schema import markers as m
from dibs.schema import model, naming
from dibs.schema.declare_table import BuiltTable

__all__ = ["check_type_and_relation_names", "resolve_and_validate"]

_ACTIONS: dict[str, model.FkAction] = {
    "no action": "NO ACTION",
    "restrict": "RESTRICT",
    "cascade": "CASCADE",
    "set null": "SET NULL",
    "set default": "SET DEFAULT",
}


def _tables_by_key(built: Sequence[BuiltTable]) -> dict[tuple[str, str], BuiltTable]:
    seen: dict[tuple[str, str], BuiltTable] = {}
    for b in built:
        key = b.table.key
        if key in seen:
            first = seen[key]
            raise DeclarationError(
                f"two classes map to table {b.table.qualified_name!r}: "
                f"{getattr(first.cls, '__name__', '?')} (at {first.table.location}) and "
                f"{getattr(b.cls, '__name__', '?')}",
                location=b.table.location,
                hint="give one of them another name with @dibs.table(name=...)",
            )
        seen[key] = b
    return seen


def _target(
    spec: m.ForeignKeySpec, owner: model.Table, tables: dict[tuple[str, str], BuiltTable]
) -> tuple[model.Table, tuple[str, ...]]:
    """Resolve an FK target to (table, referenced columns)."""
    target = spec.target
    where = spec.location or owner.location
    if isinstance(target, type):
        tspec = getattr(target, "__dibs_table__", None)
        if tspec is None:
            raise DeclarationError(
                f"foreign key on {owner.qualified_name}: {target.__name__} is not a dibs table",
                location=where,
                hint="decorate it with @dibs.table, or reference 'table.column'",
            )
        matches = [b.table for b in tables.values() if b.cls is target]
        if not matches:
            raise DeclarationError(
                f"foreign key on {owner.qualified_name}: table class {target.__name__} is not "
                "part of the loaded schema modules",
                location=where,
            )
        table, cols = matches[0], tuple(spec.ref_columns)
    else:
        parts = str(target).split(".")
        ref_cols = tuple(spec.ref_columns)
        candidates: list[tuple[str, str, tuple[str, ...]]] = []
        if len(parts) == 1:
            candidates.append((owner.schema, parts[0], ref_cols))
        elif len(parts) == 2:
            if not ref_cols:
                candidates.append((owner.schema, parts[0], (parts[1],)))
            candidates.append((parts[0], parts[1], ref_cols))
        elif len(parts) == 3:
            candidates.append((parts[0], parts[1], (parts[2],)))
        found = [(tables[(s, t)].table, c) for s, t, c in candidates if (s, t) in tables]
        if not found and len(parts) <= 2 and owner.schema != "public":
            key = ("public", parts[0])
            if key in tables:
                found = [(tables[key].table, (parts[1],) if len(parts) == 2 else ref_cols)]
        if not found:
            known = ", ".join(sorted(b.table.qualified_name for b in tables.values()))
            raise DeclarationError(
                f"foreign key on {owner.qualified_name} references unknown table {target!r}",
                location=where,
                hint=f"known tables: {known}",
            )
        table, cols = found[0]
    if not cols:
        if table.primary_key is None:
            raise DeclarationError(
                f"foreign key on {owner.qualified_name} references {table.qualified_name}, "
                "which has no primary key",
                location=where,
                hint="name the referenced columns, e.g. 'table.column'",
            )
        cols = table.primary_key.columns
    return table, cols


def _check_fk(
    spec: m.ForeignKeySpec, owner: model.Table, table: model.Table, cols: tuple[str, ...]
) -> None:
    where = spec.location or owner.location
    for col in cols:
        if table.column(col) is None:
            raise DeclarationError(
                f"foreign key on {owner.qualified_name} references unknown column "
                f"{table.qualified_name}.{col}",
                location=where,
                hint=f"columns of {table.qualified_name}: "
                + ", ".join(c.name for c in table.columns),
            )
    if len(spec.columns) != len(cols):
        raise DeclarationError(
            f"foreign key on {owner.qualified_name} has {len(spec.columns)} columns but "
            f"references {len(cols)}",
            location=where,
        )
    keys = [table.primary_key.columns] if table.primary_key else []
    keys += [u.columns for u in table.uniques]
    keys += [
        tuple(e.column or "" for e in ix.elements)
        for ix in table.indexes
        if ix.unique and ix.where is None and all(e.column for e in ix.elements)
    ]
    if not any(set(k) == set(cols) for k in keys):
        raise DeclarationError(
            f"foreign key on {owner.qualified_name} references "
            f"{table.qualified_name}({', '.join(cols)}), which is not a primary key or unique",
            location=where,
            hint="reference the primary key, or declare those columns unique",
        )
    for mine, theirs in zip(spec.columns, cols, strict=True):
        a, b = owner.column(mine), table.column(theirs)
        if a is None:
            raise DeclarationError(
                f"foreign key on {owner.qualified_name} uses unknown column {mine!r}",
                location=where,
            )
        assert b is not None
        if a.type != b.type and spec.strict_types:
            raise DeclarationError(
                f"foreign key column {owner.qualified_name}.{mine} is {a.type} but "
                f"{table.qualified_name}.{theirs} is {b.type}",
                location=a.location or where,
                hint=f"declare {mine} with the type {b.type} (or pass strict_types=False "
                "if the difference is intended)",
            )


def _foreign_key(
    spec: m.ForeignKeySpec, owner: model.Table, tables: dict[tuple[str, str], BuiltTable]
) -> model.ForeignKey:
    table, cols = _target(spec, owner, tables)
    _check_fk(spec, owner, table, cols)
    where = spec.location or owner.location

    def action(value: str) -> model.FkAction:
        key = " ".join(value.lower().replace("_", " ").split())
        if key not in _ACTIONS:
            raise DeclarationError(
                f"unknown foreign key action {value!r}",
                location=where,
                hint=f"use one of: {', '.join(_ACTIONS)}",
            )
        return _ACTIONS[key]

    match = spec.match.upper()
    if match not in ("SIMPLE", "FULL"):
        raise DeclarationError(f"unknown MATCH {spec.match!r}", location=where)
    return model.ForeignKey(
        name=spec.name or naming.foreign_key_name(owner.name, spec.columns),
        columns=tuple(spec.columns),
        ref_schema=table.schema,
        ref_table=table.name,
        ref_columns=cols,
        on_delete=action(spec.on_delete),
        on_update=action(spec.on_update),
        match="FULL" if match == "FULL" else "SIMPLE",
        deferrable=spec.deferrable,
        initially_deferred=spec.initially_deferred,
        not_valid=spec.not_valid,
        comment=spec.comment,
    )


def _check_lengths(table: model.Table) -> None:
    names: list[tuple[str, SourceLocation | None]] = [(table.name, table.location)]
    names += [(c.name, c.location or table.location) for c in table.columns]
    names += [(i.name, i.location or table.location) for i in table.indexes]
    names += [(u.name, table.location) for u in table.uniques]
    names += [(c.name, table.location) for c in table.checks]
    for name, where in names:
        if len(name.encode()) > naming.MAX_IDENTIFIER_BYTES:
            raise DeclarationError(
                f"identifier {name!r} is {len(name.encode())} bytes long; Postgres allows 63",
                location=where,
                hint="shorten it (Postgres would silently truncate it)",
            )


def _check_duplicates(tables: Sequence[model.Table]) -> None:
    relations: dict[tuple[str, str], str] = {}

    def claim(schema: str, name: str, what: str, where: SourceLocation | None) -> None:
        key = (schema, name)
        if key in relations:
            raise DeclarationError(
                f"name {name!r} is used twice in schema {schema!r}: by {relations[key]} and "
                f"by {what}",
                location=where,
                hint="Postgres keeps tables, indexes and unique/primary-key/exclusion "
                "constraints in one namespace per schema; pass name=... to rename one",
            )
        relations[key] = what

    for t in tables:
        claim(t.schema, t.name, f"table {t.qualified_name}", t.location)
        seen_cols: set[str] = set()
        for c in t.columns:
            if c.name in seen_cols:
                raise DeclarationError(
                    f"column {c.name!r} is declared twice in table {t.qualified_name}",
                    location=c.location or t.location,
                )
            seen_cols.add(c.name)
    for t in tables:
        if t.primary_key:
            claim(
                t.schema, t.primary_key.name, f"the primary key of {t.qualified_name}", t.location
            )
        for u in t.uniques:
            claim(t.schema, u.name, f"unique constraint on {t.qualified_name}", t.location)
        for x in t.exclusions:
            claim(t.schema, x.name, f"exclusion constraint on {t.qualified_name}", t.location)
        for i in t.indexes:
            claim(t.schema, i.name, f"index on {t.qualified_name}", i.location or t.location)
        # Postgres refuses two constraints of any kinds with one name on one table.
        per_table: set[str] = set()
        constraints = [c.name for c in t.checks] + [f.name for f in t.foreign_keys]
        constraints += [u.name for u in t.uniques] + [x.name for x in t.exclusions]
        constraints += [t.primary_key.name] if t.primary_key else []
        for con_name in constraints:
            if con_name in per_table:
                raise DeclarationError(
                    f"constraint name {con_name!r} is used twice on {t.qualified_name}",
                    location=t.location,
                    hint="pass name=... to one of them",
                )
            per_table.add(con_name)


def _check_columns_exist(t: model.Table) -> None:
    """Every column named by a key, constraint or index must exist."""
    named: list[tuple[str, str, SourceLocation | None]] = []
    if t.primary_key:
        named += [("primary key", c, t.location) for c in t.primary_key.columns]
    named += [(f"unique constraint {u.name}", c, t.location) for u in t.uniques for c in u.columns]
    for ix in t.indexes:
        cols = [e.column for e in ix.elements if e.column] + list(ix.include)
        named += [(f"index {ix.name}", c, ix.location or t.location) for c in cols]
    for what, col, where in named:
        if t.column(col) is None:
            raise DeclarationError(
                f"{what} of {t.qualified_name} names unknown column {col!r}",
                location=where,
                hint="columns: " + ", ".join(c.name for c in t.columns),
            )


def resolve_and_validate(
    built: Sequence[BuiltTable], enums: Sequence[model.EnumType]
) -> model.Schema:
    """Resolve foreign keys and run every cross-table check; return the schema."""
    tables = _tables_by_key(built)
    for b in built:
        _check_columns_exist(b.table)
    resolved: list[model.Table] = []
    for b in built:
        fks = tuple(_foreign_key(spec, b.table, tables) for spec in b.fks)
        resolved.append(replace(b.table, foreign_keys=b.table.foreign_keys + fks))
    for t in resolved:
        _check_lengths(t)
    _check_duplicates(resolved)
    return model.Schema.build(tables=resolved, enums=list(enums))


def check_type_and_relation_names(
    schema: model.Schema,
    sequences: Sequence[m.SequenceSpec],
    domains: Sequence[m.DomainSpec],
) -> None:
    """Refuse a sequence named like a relation, or an enum/domain named like a table's row type.

    Postgres keeps tables, indexes and sequences in one namespace per schema
    (``pg_class``), and every table also owns a row type of its name, which enums and
    domains share (``pg_type``); a clash only shows up when the migration runs.
    """
    relations: dict[tuple[str, str], str] = {}
    types: dict[tuple[str, str], str] = {}
    for t in schema.tables:
        relations[t.key] = types[t.key] = f"table {t.qualified_name}"
        for ix in t.indexes:
            relations[(t.schema, ix.name)] = f"index {ix.name}"
        for name in [u.name for u in t.uniques] + [x.name for x in t.exclusions]:
            relations[(t.schema, name)] = f"the index of constraint {name}"
        if t.primary_key:
            relations[(t.schema, t.primary_key.name)] = f"the primary key of {t.qualified_name}"
    named: list[tuple[dict[tuple[str, str], str], tuple[str, str], str, SourceLocation | None]]
    named = [(relations, (s.schema, s.name), "sequence", s.location) for s in sequences]
    named += [(types, e.key, "enum type", e.location) for e in schema.enums]
    named += [(types, (d.schema, d.name), "domain", d.location) for d in domains]
    for space, key, what, where in named:
        if key in space:
            raise DeclarationError(
                f"{what} {key[1]!r} in schema {key[0]!r} has the name of {space[key]}",
                location=where,
                hint="rename one of them: Postgres keeps them in one namespace per schema",
            )
        space[key] = f"{what} {key[1]}"
