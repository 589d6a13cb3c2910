"""Read a live Postgres database into the canonical ``Schema`` (pg_catalog → model).

The database is read with a fixed number of catalog queries (``catalog.py``),
whatever its size, inside one read-only REPEATABLE READ transaction so every
query sees the same snapshot. The queries are pipelined: the server runs the
next ones while Python builds objects from the rows of the previous ones.
Rows are turned into model objects by pure functions; every type goes
through ``canonical_type`` and every expression through
``canonical_expression``, exactly as declarations do, so a declared schema
and the database it created compare equal.

Indexes that back a primary key, unique or exclusion constraint are not
listed as indexes: the constraint stands for them (their details complete
the constraint). Objects dibs does not manage (views, functions, triggers,
policies, rules, domains, composite types, foreign tables) are listed as
``Unmanaged``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from typing import Any, cast

import psycopg
from psycopg.rows import RowFactory, dict_row, tuple_row

from dibs.errors import ExpressionError, IntrospectionError, UsageError
from dibs.performance import gc_paused
from dibs.postgres import catalog
from dibs.schema import model
from dibs.schema.expressions import canonical_expression
from dibs.schema.types import canonical_type, quote_ident

__all__ = ["introspect", "introspect_all"]

Row = dict[str, Any]

_FK_ACTIONS: dict[str, model.FkAction] = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_FK_MATCH: dict[str, model.FkMatch] = {"s": "SIMPLE", "f": "FULL"}
_IDENTITY: dict[str, model.IdentityKind] = {"a": "always", "d": "by default"}
_INDOPTION_DESC = 1
_INDOPTION_NULLS_FIRST = 2
_TYPE_RANGE = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def introspect(
    conn: psycopg.Connection[Any], *, schemas: Sequence[str] | None = None
) -> model.Schema:
    """Read the database behind ``conn`` into a canonical ``Schema``.

    Args:
        conn: an open connection; if it is idle, introspection runs in its own
            read-only transaction, otherwise inside the current one.
        schemas: Postgres schemas to read; ``None`` reads every user schema
            (all but ``pg_catalog``, ``information_schema`` and temporary ones).

    Raises:
        UsageError: a name in ``schemas`` is not a schema of the database.
        IntrospectionError: the catalog holds something dibs cannot read.
    """
    # The cyclic collector is paused while tens of thousands of rows and model
    # objects are allocated (none of them cyclic garbage): it would otherwise
    # walk them again and again, about a tenth of the time on 1,000 tables.
    with gc_paused():
        with _catalog_session(conn) as cur:
            cur.execute(catalog.NAMESPACES)
            existing = [str(r["nspname"]) for r in cur.fetchall()]
            wanted = existing if schemas is None else _check_schemas(schemas, existing)
            params = {"schemas": wanted}
            # The queries are sent in stages so the server runs the next ones
            # while the rows of the previous ones are turned into model objects.
            with _pipeline(conn):
                sent = [
                    _send(conn, catalog.TABLES, params),
                    _send(conn, catalog.COLUMNS, params),
                    _send(conn, catalog.OPCLASSES),
                    _send(conn, catalog.COLLATIONS),
                ]
                table_rows, column_rows, opclass_rows, collation_rows = map(_fetch, sent)
                index_cur = _send(conn, catalog.indexes_query(conn.info.server_version), params)
                collations = {oid: (name, schema) for oid, name, schema in collation_rows}
                columns = _Columns(table_rows, column_rows, collations)
                index_rows = _fetch(index_cur)
                constraint_cur = _send(conn, catalog.CONSTRAINTS, params)
                small = {
                    kind: _send(conn, query, params, row_factory=dict_row)
                    for kind, query in (
                        ("extensions", catalog.EXTENSIONS),
                        ("enums", catalog.ENUMS),
                        ("sequences", catalog.SEQUENCES),
                        ("unmanaged", catalog.UNMANAGED),
                        ("domains", catalog.DOMAINS),
                        ("attached", catalog.ATTACHED_INDEXES),
                    )
                }
                opclasses = {oid: str(name) for oid, name in opclass_rows}
                indexes = _indexes(index_rows, columns, opclasses, collations)
                constraint_rows = _fetch(constraint_cur)
                rows = {kind: _fetch(c) for kind, c in small.items()}
        return dataclasses.replace(
            model.Schema.build(
                enums=[_enum(r) for r in rows["enums"]],
                sequences=[_sequence(r) for r in rows["sequences"]],
                extensions=[
                    model.Extension(r["extname"], r["nspname"]) for r in rows["extensions"]
                ],
                schemas=[s for s in wanted if s != model.DEFAULT_SCHEMA],
                unmanaged=[_unmanaged(r) for r in rows["unmanaged"]],
                domains=[_domain(r) for r in rows["domains"]],
            ),
            # Built in ``Schema.normalized`` order already (see ``_tables``), so
            # ``normalized`` only checks it, and marks the schema as normal.
            tables=_tables(columns, constraint_rows, indexes, rows["attached"]),
        ).normalized()


def introspect_all(conns: Sequence[psycopg.Connection[Any]]) -> list[model.Schema]:
    """Read several databases at once, one thread each, in ``conns`` order.

    Comparing two databases (``dibs diff --from --to``) reads both: each
    read spends much of its time waiting on its server, so reading them side
    by side takes little more than the slower of the two.
    """
    if len(conns) < 2:
        return [introspect(c) for c in conns]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(conns)) as pool:
        return list(pool.map(introspect, conns))


def _pipeline(conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
    """Pipeline mode where libpq offers it (queries are sent without waiting)."""
    return conn.pipeline() if psycopg.Pipeline.is_supported() else nullcontext()


def _send(
    conn: psycopg.Connection[Any],
    query: Any,
    params: Any = None,
    row_factory: RowFactory[Any] = tuple_row,
) -> psycopg.Cursor[Any]:
    """Send a query on a cursor of its own; its rows are read by ``_fetch``."""
    cur = conn.cursor(row_factory=row_factory)
    cur.execute(query, params)
    return cur


def _fetch(cur: psycopg.Cursor[Any]) -> list[Any]:
    with cur:
        return cur.fetchall()


def _check_schemas(requested: Sequence[str], existing: list[str]) -> list[str]:
    missing = sorted(set(requested) - set(existing))
    if missing:
        raise UsageError(
            f"the database has no schema {', '.join(map(repr, missing))}",
            hint=f"existing schemas: {', '.join(existing) or '(none)'}",
        )
    return [s for s in existing if s in set(requested)]


# Settings that change how the catalog prints names and literals: fixed while
# reading so the model never depends on the caller's session (a partition
# bound on a timestamptz column is printed in the session's time zone).
_READ_SETTINGS = {
    "search_path": "public",
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
}


@contextmanager
def _catalog_session(conn: psycopg.Connection[Any]) -> Iterator[psycopg.Cursor[Row]]:
    """Yield a cursor reading one snapshot with ``_READ_SETTINGS`` in force.

    The settings are made transaction-local; when the caller's transaction is
    already open, the previous values are put back afterwards.
    """
    idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        if idle:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        names = list(_READ_SETTINGS)
        cur.execute(
            "SELECT name, current_setting(name) AS value FROM unnest(%s::text[]) AS name",
            (names,),
        )
        previous = {r["name"]: r["value"] for r in cur.fetchall()}
        set_all = (
            "SELECT set_config(name, value, true)"
            " FROM unnest(%s::text[], %s::text[]) AS s(name, value)"
        )
        cur.execute(set_all, (names, [_READ_SETTINGS[n] for n in names]))
        yield cur
        if not idle:
            cur.execute(set_all, (names, [previous[n] for n in names]))


def _qualified(schema: str, name: str) -> str:
    """Canonical name: unqualified in ``public``, ``schema.name`` elsewhere."""
    if schema == model.DEFAULT_SCHEMA:
        return quote_ident(name)
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def _expression(text: str, where: str | Callable[[], str]) -> str:
    """Canonical expression; ``where`` (or what it returns) names it in errors."""
    try:
        return canonical_expression(text)
    except ExpressionError as exc:
        if callable(where):
            where = where()
        raise IntrospectionError(
            f"cannot read the expression of {where}: {text!r}",
            hint="report this expression to the dibs maintainers",
        ) from exc


def _type(text: str, where: str) -> str:
    try:
        return canonical_type(text)
    except ExpressionError as exc:
        raise IntrospectionError(
            f"cannot read the type of {where}: {text!r}",
            hint="report this type to the dibs maintainers",
        ) from exc


def _enum(row: Row) -> model.EnumType:
    return model.EnumType(
        name=row["typname"],
        values=tuple(row["labels"]),
        schema=row["nspname"],
        comment=row["description"],
    )


def _collation(name: str | None, schema: str) -> str | None:
    """A non-default collation's name, schema-qualified outside pg_catalog/public."""
    if name is None:
        return None
    if schema in ("pg_catalog", model.DEFAULT_SCHEMA):
        return str(name)
    return f"{schema}.{name}"


def _domain(row: Row) -> model.Domain:
    where = f"domain {row['nspname']}.{row['typname']}"
    collation = _collation(row["collname"], row["collation_schema"])
    return model.Domain(
        name=row["typname"],
        type=_type(row["type"], where),
        schema=row["nspname"],
        nullable=not row["typnotnull"],
        default=None if row["typdefault"] is None else _expression(row["typdefault"], where),
        checks=tuple(
            model.Check(name, _expression(expr, where))
            for name, expr in zip(row["check_names"], row["check_exprs"], strict=True)
        ),
        collation=collation,
        comment=row["description"],
    )


def _sequence(row: Row) -> model.Sequence:
    """Build a sequence; bounds equal to the type's defaults are stored as ``None``."""
    seq_type = _type(row["type"], f"sequence {row['nspname']}.{row['relname']}")
    low, high = _TYPE_RANGE.get(seq_type, (None, None))
    ascending = row["seqincrement"] > 0
    default_min, default_max = (1, high) if ascending else (low, -1)
    owned = None
    if row["owner_table"] is not None:
        owned = (row["owner_schema"], row["owner_table"], row["owner_column"])
    return model.Sequence(
        name=row["relname"],
        schema=row["nspname"],
        type=seq_type,
        start=row["seqstart"],
        increment=row["seqincrement"],
        min_value=None if row["seqmin"] == default_min else row["seqmin"],
        max_value=None if row["seqmax"] == default_max else row["seqmax"],
        cache=row["seqcache"],
        cycle=row["seqcycle"],
        owned_by=owned,
    )


def _unmanaged(row: Row) -> model.Unmanaged:
    kind, schema, name, deps = row["kind"], row["schema"], row["name"], row["depends_on"]
    return model.Unmanaged(
        kind=kind,
        schema=schema,
        name=name,
        depends_on=tuple(sorted(f"{quote_ident(s)}.{quote_ident(n)}" for s, n in deps)),
    )


# Rows of the table-sized queries, unpacked by position (see catalog.py).
_ColumnRow = tuple[
    int, int, str, str, bool, str | None, str, str, str | None, int | None, str | None, int
]
_ColumnKey = tuple[str, str, bool, str | None, str, str, str | None, int | None, str | None]


def _column(key: _ColumnKey, where: str, collations: dict[int, tuple[str, str]]) -> model.Column:
    name, type_text, notnull, expr, identity, generated_kind, comment, collation_oid, seq = key
    generated = generated_kind == "s"
    collation = None
    if collation_oid is not None and collation_oid in collations:
        collation = _collation(*collations[collation_oid])
    return model.Column(
        name=name,
        type=_type(type_text, where),
        nullable=not notnull,
        default=_expression(expr, where) if expr is not None and not generated else None,
        identity=_IDENTITY.get(identity),
        generated=_expression(expr, where) if expr is not None and generated else None,
        comment=comment,
        collation=collation,
        identity_options=None if seq is None else _identity_options(seq),
    )


def _identity_options(text: str) -> model.IdentityOptions:
    """Read ``start,increment,min,max,cache,cycle``; ``Column`` drops the defaults."""
    start, increment, low, high, cache, cycle = text.split(",")
    return model.IdentityOptions(
        start=int(start),
        increment=int(increment),
        min_value=int(low),
        max_value=int(high),
        cache=int(cache),
        cycle=cycle == "t",
    )


class _Index:
    """An index row of catalog.INDEXES, its key columns named."""

    __slots__ = (
        "amname",
        "collations",
        "columns",
        "comment",
        "constraint_type",
        "defs",
        "indexrelid",
        "indisunique",
        "indnkeyatts",
        "keys",
        "name",
        "nulls_not_distinct",
        "opclasses",
        "options",
        "predicate",
        "storage",
    )

    def __init__(
        self,
        row: tuple[Any, ...],
        names: dict[int, str],
        att_collations: dict[int, int],
        opclasses: dict[int, str],
        collations: dict[int, tuple[str, str]],
    ) -> None:
        (
            _,
            self.indexrelid,
            self.name,
            self.amname,
            self.indisunique,
            self.indnkeyatts,
            keys_text,
            options_text,
            defs,
            opclass_oids,
            collation_oids,
            self.predicate,
            self.nulls_not_distinct,
            self.comment,
            self.constraint_type,
            reloptions,
        ) = row
        self.storage: tuple[tuple[str, str], ...] = (
            tuple(tuple(o.split("=", 1)) for o in reloptions) if reloptions else ()
        )
        self.keys = keys = _vector(keys_text)
        self.options = _vector(options_text)
        self.defs: list[str | None] = defs if defs is not None else [None] * len(keys)
        self.columns: list[str | None] = [names.get(k) for k in keys]
        self.opclasses: list[str | None] = [opclasses.get(oid) for oid in _vector(opclass_oids)]
        # A key's collation is named only when it is not the one its column
        # (or, for an expression, the database default 100) already has.
        self.collations: list[str | None] = [
            None
            if coll == 0 or coll == (att_collations.get(keys[pos], 100) if keys[pos] > 0 else 100)
            else _collation_name(collations, coll)
            for pos, coll in enumerate(_vector(collation_oids))
        ]


@lru_cache(maxsize=4096)
def _vector(text: str) -> tuple[int, ...]:
    """Read an ``int2vector``/``oidvector`` in its text form (``'1 0 3'``)."""
    return tuple(map(int, text.split()))


def _collation_name(collations: dict[int, tuple[str, str]], oid: int) -> str | None:
    found = collations.get(oid)
    return None if found is None else found[0]


class _Columns:
    """The tables' head rows and columns, by table oid, with their column names.

    Columns are immutable values, so identical column rows share one
    ``Column`` (most schemas repeat ``id bigint NOT NULL`` and the like).
    """

    def __init__(
        self,
        table_rows: list[tuple[Any, ...]],
        column_rows: list[_ColumnRow],
        collations: dict[int, tuple[str, str]],
    ) -> None:
        self.heads = heads = {row[0]: row for row in table_rows}
        self.columns: dict[int, list[model.Column]] = {oid: [] for oid in heads}
        self.names: dict[int, dict[int, str]] = {oid: {} for oid in heads}
        self.collations: dict[int, dict[int, int]] = {oid: {} for oid in heads}
        columns, names, att_collations = self.columns, self.names, self.collations
        built: dict[_ColumnKey, model.Column] = {}
        for row in column_rows:
            relid, attnum = row[0], row[1]
            key: _ColumnKey = row[2:11]
            column = built.get(key)
            if column is None:
                head = heads[relid]
                where = f"column {head[1]}.{head[2]}.{row[2]}"
                column = built[key] = _column(key, where, collations)
            columns[relid].append(column)
            names[relid][attnum] = row[2]
            att_collations[relid][attnum] = row[11]


# A table's indexes (sorted by name) and, by index oid, the rows of the
# indexes that back its constraints (they complete unique and exclusion constraints).
_TableIndexes = tuple[tuple[model.Index, ...], dict[int, _Index]]


def _indexes(
    index_rows: list[tuple[Any, ...]],
    columns: _Columns,
    opclasses: dict[int, str],
    collations: dict[int, tuple[str, str]],
) -> dict[int, _TableIndexes]:
    """Build every table's indexes, by table oid.

    Indexes of tables TABLES leaves out (those of an extension) are skipped.
    """
    rows: dict[int, list[_Index]] = {oid: [] for oid in columns.heads}
    names, att_collations = columns.names, columns.collations
    for row in index_rows:
        relid = row[0]
        if relid in rows:
            rows[relid].append(
                _Index(row, names[relid], att_collations[relid], opclasses, collations)
            )
    elements: dict[_ElementKey, model.IndexElement] = {}
    result: dict[int, _TableIndexes] = {}
    for oid, idxs in rows.items():
        if not idxs:
            result[oid] = ((), {})
            continue
        head = columns.heads[oid]

        def where(head: tuple[Any, ...] = head) -> str:
            return _qualified(head[1], head[2])

        result[oid] = (
            _by_name([_index(i, where, elements) for i in idxs if i.constraint_type is None]),
            {i.indexrelid: i for i in idxs if i.constraint_type is not None},
        )
    return result


def _tables(
    columns: _Columns,
    constraint_rows: list[tuple[Any, ...]],
    indexes: dict[int, _TableIndexes],
    attached_rows: Sequence[Row] = (),
) -> tuple[model.Table, ...]:
    """Attach constraints and indexes to the tables, in ``Schema.normalized`` order.

    Tables are sorted by key and every collection of a table by name, as
    ``Schema.normalized`` and ``Table.normalized`` do, so the result needs
    no second normalizing pass.
    """
    by_table_con: dict[int, list[tuple[Any, ...]]] = {oid: [] for oid in columns.heads}
    for row in constraint_rows:
        if row[0] in by_table_con:  # not a table of an extension (TABLES leaves those out)
            by_table_con[row[0]].append(row)
    tables = [
        _table(head, columns.columns[oid], by_table_con[oid], indexes[oid], columns.names)
        for oid, head in columns.heads.items()
    ]
    if attached_rows:
        attached: dict[int, list[tuple[str, str]]] = {}
        for link in attached_rows:
            attached.setdefault(link["indrelid"], []).append(
                (link["parent_index"], link["own_index"])
            )
        oids = list(columns.heads)
        tables = [
            dataclasses.replace(t, attached_indexes=tuple(sorted(attached[oid])))
            if oid in attached
            else t
            for oid, t in zip(oids, tables, strict=True)
        ]
    tables.sort(key=lambda t: t.key)
    return tuple(tables)


def _by_name(items: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda c: c.name))


def _table(
    head: tuple[Any, ...],
    columns: list[model.Column],
    cons: list[tuple[Any, ...]],
    indexes: _TableIndexes,
    names: dict[int, dict[int, str]],
) -> model.Table:
    """Build one table from its head row, columns, constraint rows and indexes.

    Every collection is sorted by name, as ``Table.normalized`` does.
    """
    _, nspname, relname, comment, partition_by, bound, parent_schema, parent = head

    def where() -> str:
        return _qualified(nspname, relname)

    table_indexes, backing = indexes
    primary_key = None
    uniques: list[model.Unique] = []
    foreign_keys: list[model.ForeignKey] = []
    checks: list[model.Check] = []
    exclusions: list[model.Exclusion] = []
    for row in cons:
        (
            conrelid,
            name,
            kind,
            deferrable,
            deferred,
            keys,
            ref_schema,
            ref_table,
            ref_keys,
            outside_ref_columns,
            confrelid,
            confupdtype,
            confdeltype,
            confmatchtype,
            check_expr,
            operators,
            conindid,
            no_inherit,
            not_valid,
            con_comment,
        ) = row
        table_names = names[conrelid]
        cols = tuple(table_names.get(k, "") for k in keys or ())
        if kind == "p":
            primary_key = model.PrimaryKey(
                name, cols, deferrable=deferrable, initially_deferred=deferred, comment=con_comment
            )
        elif kind == "u":
            index = backing.get(conindid)
            uniques.append(
                model.Unique(
                    name=name,
                    columns=cols,
                    nulls_not_distinct=bool(index and index.nulls_not_distinct),
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    comment=con_comment,
                )
            )
        elif kind == "f":
            if outside_ref_columns is not None:
                ref_columns = tuple(outside_ref_columns)
            elif confrelid in names:
                ref_names = names[confrelid]
                ref_columns = tuple(ref_names[k] for k in ref_keys)
            else:
                raise IntrospectionError(
                    f"foreign key {name} references {ref_schema}.{ref_table},"
                    " which is not a table dibs can read",
                    hint="foreign keys to tables owned by an extension are not supported yet",
                )
            foreign_keys.append(
                model.ForeignKey(
                    name=name,
                    columns=cols,
                    ref_schema=ref_schema,
                    ref_table=ref_table,
                    ref_columns=ref_columns,
                    on_delete=_FK_ACTIONS[confdeltype],
                    on_update=_FK_ACTIONS[confupdtype],
                    match=_FK_MATCH.get(confmatchtype, "SIMPLE"),
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    not_valid=bool(not_valid),
                    comment=con_comment,
                )
            )
        elif kind == "c":
            checks.append(
                model.Check(
                    name,
                    _expression(check_expr, f"check {name}"),
                    no_inherit=bool(no_inherit),
                    not_valid=bool(not_valid),
                    comment=con_comment,
                )
            )
        elif kind == "x":
            exclusion = _exclusion(name, operators, deferrable, deferred, backing[conindid], where)
            exclusions.append(dataclasses.replace(exclusion, comment=con_comment))
    return model.Table(
        name=relname,
        schema=nspname,
        columns=tuple(columns),
        primary_key=primary_key,
        uniques=_by_name(uniques),
        foreign_keys=_by_name(foreign_keys),
        checks=_by_name(checks),
        exclusions=_by_name(exclusions),
        indexes=table_indexes,
        comment=comment,
        partition_by=partition_by,
        partition_of=_qualified(parent_schema, parent) if parent else None,
        partition_bound=bound,
    )


def _exclusion(
    name: str,
    operators: list[str],
    deferrable: bool,
    deferred: bool,
    index: _Index,
    where: Callable[[], str],
) -> model.Exclusion:
    """Build an exclusion constraint from its row and its backing index."""
    elements = tuple(
        model.ExclusionElement(
            expression=_expression(
                index.defs[pos] or quote_ident(index.columns[pos] or ""),
                lambda: f"exclusion {name} on {where()}",
            ),
            operator=operator,
            opclass=index.opclasses[pos],
        )
        for pos, operator in enumerate(operators)
    )
    predicate = index.predicate
    return model.Exclusion(
        name=name,
        method=index.amname,
        elements=elements,
        where=_expression(predicate, f"exclusion {name}") if predicate else None,
        deferrable=deferrable,
        initially_deferred=deferred,
    )


_ElementKey = tuple[str | None, str | None, int, str | None, str | None]


def _index(
    index: _Index, where: Callable[[], str], built: dict[_ElementKey, model.IndexElement]
) -> model.Index:
    """Build an index: key elements, then INCLUDE columns, from its catalog row.

    ``indoption``, ``indclass`` and ``indcollation`` cover the key columns
    only; ``indkey`` also lists the INCLUDE columns after them. Elements are
    immutable values: identical ones are built once and shared (``built``).
    """
    name, nkeys = index.name, index.indnkeyatts
    elements = []
    for pos in range(nkeys):
        is_column = index.keys[pos] != 0
        key = (
            index.columns[pos] if is_column else None,
            None if is_column else index.defs[pos],
            index.options[pos],
            index.opclasses[pos],
            index.collations[pos],
        )
        element = built.get(key)
        if element is None:
            column, text, option, opclass, collation = key
            element = built[key] = model.IndexElement(
                column=column,
                expression=None
                if text is None
                else _expression(text, lambda: f"index {name} on {where()}"),
                descending=bool(option & _INDOPTION_DESC),
                nulls_first=bool(option & _INDOPTION_NULLS_FIRST),
                opclass=opclass,
                collation=collation,
            )
        elements.append(element)
    predicate = index.predicate
    return model.Index(
        name=name,
        elements=tuple(elements),
        unique=index.indisunique,
        method=index.amname,
        where=_expression(predicate, f"index {name}") if predicate else None,
        include=tuple(cast(list[str], index.columns[nkeys:])),
        nulls_not_distinct=bool(index.nulls_not_distinct),
        comment=index.comment,
        storage=index.storage,
    )
