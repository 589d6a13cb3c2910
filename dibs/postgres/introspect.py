"""Read a live Postgres database into the canonical ``Schema`` (pg_catalog → model).

The database is read with a fixed number of catalog queries (``catalog.py``),
whatever its size, inside one read-only REPEATABLE READ transaction so every
query sees the same snapshot. Rows are then turned into model objects by
pure functions; every type goes through ``canonical_type`` and every
expression through ``canonical_expression``, exactly as declarations do, so
a declared schema and the database it created compare equal.

Indexes that back a primary key, unique or exclusion constraint are not
listed as indexes: the constraint stands for them (their details complete
the constraint). Objects dibs does not manage (views, functions, triggers,
policies, rules, domains, composite types, foreign tables) are listed as
``Unmanaged``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dibs.errors import ExpressionError, IntrospectionError, UsageError
from dibs.postgres import catalog
from dibs.schema import model
from dibs.schema.expressions import canonical_expression
from dibs.schema.types import canonical_type, quote_ident

__all__ = ["introspect"]

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
    with _catalog_session(conn) as cur:
        cur.execute(catalog.NAMESPACES)
        existing = [str(r["nspname"]) for r in cur.fetchall()]
        wanted = existing if schemas is None else _check_schemas(schemas, existing)
        params = {"schemas": wanted}
        rows = {}
        for kind, query in (
            ("extensions", catalog.EXTENSIONS),
            ("enums", catalog.ENUMS),
            ("sequences", catalog.SEQUENCES),
            ("tables", catalog.TABLES),
            ("constraints", catalog.CONSTRAINTS),
            ("unmanaged", catalog.UNMANAGED),
            ("domains", catalog.DOMAINS),
        ):
            cur.execute(query, params)
            rows[kind] = cur.fetchall()
        cur.execute(catalog.indexes_query(conn.info.server_version), params)
        rows["indexes"] = cur.fetchall()
        cur.execute(catalog.OPCLASSES)
        opclasses = {r["oid"]: str(r["name"]) for r in cur.fetchall()}
    for row in rows["indexes"]:
        row["opclasses"] = [opclasses.get(oid) for oid in row["opclass_oids"]]
    return model.Schema.build(
        tables=_tables(rows["tables"], rows["constraints"], rows["indexes"]),
        enums=[_enum(r) for r in rows["enums"]],
        sequences=[_sequence(r) for r in rows["sequences"]],
        extensions=[model.Extension(r["extname"], r["nspname"]) for r in rows["extensions"]],
        schemas=[s for s in wanted if s != model.DEFAULT_SCHEMA],
        unmanaged=[_unmanaged(r) for r in rows["unmanaged"]],
        domains=[_domain(r) for r in rows["domains"]],
    )


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


def _expression(text: str, where: str) -> str:
    try:
        return canonical_expression(text)
    except ExpressionError as exc:
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


def _collation(row: Row) -> str | None:
    """A non-default collation's name, schema-qualified outside pg_catalog/public."""
    if row["collname"] is None:
        return None
    schema = row["collation_schema"]
    if schema in ("pg_catalog", model.DEFAULT_SCHEMA):
        return str(row["collname"])
    return f"{schema}.{row['collname']}"


def _domain(row: Row) -> model.Domain:
    where = f"domain {row['nspname']}.{row['typname']}"
    collation = _collation(row)
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


def _column(row: Row) -> model.Column:
    where = f"column {row['nspname']}.{row['relname']}.{row['attname']}"
    expr = row["expr"]
    generated = row["attgenerated"] == "s"
    collation = _collation(row)
    return model.Column(
        name=row["attname"],
        type=_type(row["type"], where),
        nullable=not row["attnotnull"],
        default=_expression(expr, where) if expr is not None and not generated else None,
        identity=_IDENTITY.get(row["attidentity"]),
        generated=_expression(expr, where) if expr is not None and generated else None,
        comment=row["column_comment"],
        collation=collation,
    )


def _tables(
    table_rows: list[Row], constraint_rows: list[Row], index_rows: list[Row]
) -> list[model.Table]:
    """Group the per-column rows into tables and attach constraints and indexes."""
    columns: dict[int, list[model.Column]] = defaultdict(list)
    names: dict[int, dict[int, str]] = defaultdict(dict)
    heads: dict[int, Row] = {}
    for row in table_rows:
        heads.setdefault(row["oid"], row)
        if row["attnum"] is not None:
            columns[row["oid"]].append(_column(row))
            names[row["oid"]][row["attnum"]] = row["attname"]
    by_table_con: dict[int, list[Row]] = defaultdict(list)
    for row in constraint_rows:
        by_table_con[row["conrelid"]].append(_name_constraint_columns(row, names))
    by_table_idx: dict[int, list[Row]] = defaultdict(list)
    for row in index_rows:
        table_names = names[row["indrelid"]]
        row["columns"] = [table_names.get(k) for k in row["keys"]]
        by_table_idx[row["indrelid"]].append(row)
    return [
        _table(head, columns[oid], by_table_con[oid], by_table_idx[oid])
        for oid, head in heads.items()
    ]


def _name_constraint_columns(row: Row, names: dict[int, dict[int, str]]) -> Row:
    """Turn the constraint's column numbers into names (they were read with the tables)."""
    row["columns"] = [names[row["conrelid"]].get(k, "") for k in row["keys"] or ()]
    if row["contype"] == "f":
        if row["outside_ref_columns"] is not None:
            row["ref_columns"] = row["outside_ref_columns"]
        elif row["confrelid"] in names:
            row["ref_columns"] = [names[row["confrelid"]][k] for k in row["ref_keys"]]
        else:
            raise IntrospectionError(
                f"foreign key {row['conname']} references {row['ref_schema']}."
                f"{row['ref_table']}, which is not a table dibs can read",
                hint="foreign keys to tables owned by an extension are not supported yet",
            )
    return row


def _table(head: Row, columns: list[model.Column], cons: list[Row], idxs: list[Row]) -> model.Table:
    """Build one table from its head row, columns, constraints and indexes."""
    where = _qualified(head["nspname"], head["relname"])
    backing = {r["indexrelid"]: r for r in idxs if r["constraint_type"] is not None}
    primary_key = None
    uniques: list[model.Unique] = []
    foreign_keys: list[model.ForeignKey] = []
    checks: list[model.Check] = []
    exclusions: list[model.Exclusion] = []
    for row in cons:
        kind, name = row["contype"], row["conname"]
        if kind == "p":
            primary_key = model.PrimaryKey(name, tuple(row["columns"]))
        elif kind == "u":
            uniques.append(_unique(row, backing.get(row["conindid"])))
        elif kind == "f":
            foreign_keys.append(_foreign_key(row))
        elif kind == "c":
            checks.append(model.Check(name, _expression(row["check_expr"], f"check {name}")))
        elif kind == "x":
            exclusions.append(_exclusion(row, backing[row["conindid"]], where))
    parent = head["parent_name"]
    return model.Table(
        name=head["relname"],
        schema=head["nspname"],
        columns=tuple(columns),
        primary_key=primary_key,
        uniques=tuple(uniques),
        foreign_keys=tuple(foreign_keys),
        checks=tuple(checks),
        exclusions=tuple(exclusions),
        indexes=tuple(_index(r, where) for r in idxs if r["constraint_type"] is None),
        comment=head["comment"],
        partition_by=head["partition_by"],
        partition_of=_qualified(head["parent_schema"], parent) if parent else None,
        partition_bound=head["bound"],
    )


def _unique(row: Row, index: Row | None) -> model.Unique:
    return model.Unique(
        name=row["conname"],
        columns=tuple(row["columns"]),
        nulls_not_distinct=bool(index and index["nulls_not_distinct"]),
        deferrable=row["condeferrable"],
        initially_deferred=row["condeferred"],
    )


def _foreign_key(row: Row) -> model.ForeignKey:
    return model.ForeignKey(
        name=row["conname"],
        columns=tuple(row["columns"]),
        ref_schema=row["ref_schema"],
        ref_table=row["ref_table"],
        ref_columns=tuple(row["ref_columns"]),
        on_delete=_FK_ACTIONS[row["confdeltype"]],
        on_update=_FK_ACTIONS[row["confupdtype"]],
        match=_FK_MATCH.get(row["confmatchtype"], "SIMPLE"),
        deferrable=row["condeferrable"],
        initially_deferred=row["condeferred"],
    )


def _exclusion(row: Row, index: Row, where: str) -> model.Exclusion:
    """Build an exclusion constraint from its row and its backing index's row."""
    name = row["conname"]
    elements = tuple(
        model.ExclusionElement(
            expression=_expression(
                index["defs"][pos] or quote_ident(index["columns"][pos]),
                f"exclusion {name} on {where}",
            ),
            operator=operator,
            opclass=index["opclasses"][pos],
        )
        for pos, operator in enumerate(row["operators"])
    )
    predicate = index["predicate"]
    return model.Exclusion(
        name=name,
        method=index["amname"],
        elements=elements,
        where=_expression(predicate, f"exclusion {name}") if predicate else None,
        deferrable=row["condeferrable"],
        initially_deferred=row["condeferred"],
    )


def _index(row: Row, where: str) -> model.Index:
    """Build an index: key elements, then INCLUDE columns, from its catalog row.

    ``indoption``, ``indclass`` and ``indcollation`` cover the key columns
    only; ``indkey`` also lists the INCLUDE columns after them.
    """
    name, nkeys = row["name"], row["indnkeyatts"]
    elements = []
    for pos in range(nkeys):
        option = row["options"][pos]
        is_column = row["keys"][pos] != 0
        elements.append(
            model.IndexElement(
                column=row["columns"][pos] if is_column else None,
                expression=None
                if is_column
                else _expression(row["defs"][pos], f"index {name} on {where}"),
                descending=bool(option & _INDOPTION_DESC),
                nulls_first=bool(option & _INDOPTION_NULLS_FIRST),
                opclass=row["opclasses"][pos],
                collation=row["collations"][pos],
            )
        )
    predicate = row["predicate"]
    return model.Index(
        name=name,
        elements=tuple(elements),
        unique=row["indisunique"],
        method=row["amname"],
        where=_expression(predicate, f"index {name}") if predicate else None,
        include=tuple(row["columns"][nkeys:]),
        nulls_not_distinct=bool(row["nulls_not_distinct"]),
        comment=row["comment"],
    )
