"""Identity sequence options (START, INCREMENT, MIN/MAXVALUE, CACHE, CYCLE): model to SQL.

The model keeps only non-default options (``IdentityOptions``, normalised against
the column's type), so schemas that never mention them keep their JSON and
fingerprint; the diff changes them in place with ``ALTER COLUMN … SET …``,
never with ``RESTART``, so a column's current value survives.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.ops import AddIdentity, AlterIdentityOptions
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.render.ddl import render_schema
from dibs.schema.canonical import _encode, fingerprint, from_json, to_json
from dibs.schema.model import Column, IdentityOptions
from tests.autogenerate.helpers import changes, col, migrate_for_real, op_types, schema, table


def _ident(type_: str = "bigint", **options: Any) -> Column:
    opts = IdentityOptions(**options) if options else None
    return col("id", type_, null=False, identity="always", identity_options=opts)


def test_default_options_are_no_options() -> None:
    explicit = _ident("integer", start=1, increment=1, min_value=1, max_value=2**31 - 1, cache=1)
    assert explicit.identity_options is None
    assert explicit == _ident("integer")
    descending = _ident("smallint", increment=-1, min_value=-(2**15), max_value=-1, start=-1)
    assert descending.identity_options == IdentityOptions(increment=-1)
    # A start equal to an explicit minimum is the default start.
    assert _ident(min_value=5, start=5).identity_options == IdentityOptions(min_value=5)


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="START"):
        _ident(min_value=5, start=2)
    with pytest.raises(ValueError, match="zero"):
        _ident(increment=0)
    with pytest.raises(ValueError, match="non-identity"):
        Column("n", "integer", identity_options=IdentityOptions(cache=5))


def test_fingerprint_of_schemas_without_options_is_unchanged() -> None:
    # The value recorded before identity options existed (a column without options
    # must not gain an ``identity_options`` entry in the fingerprint).
    plain = schema(table("t", _ident()))
    assert "identity_options" not in json.dumps(_encode(plain, for_fingerprint=True))
    assert "identity_options" not in to_json(plain)
    assert fingerprint(plain) == fingerprint(schema(table("t", _ident(start=1))))
    with_options = schema(table("t", _ident(cache=5)))
    assert fingerprint(with_options) != fingerprint(plain)
    assert from_json(to_json(with_options)) == with_options


def test_changed_options_alter_in_place_without_restart() -> None:
    a = schema(table("t", _ident(start=3, increment=4, min_value=2, max_value=9, cache=5)))
    b = schema(table("t", _ident(start=6, increment=4, min_value=2, max_value=90, cycle=True)))
    ops = changes(a, b)
    assert op_types(ops) == ["AlterIdentityOptions"]
    [sql] = render_plan(ops)
    assert "RESTART" not in sql
    assert "SET START WITH 6" in sql and "SET MAXVALUE 90" in sql and "SET CYCLE" in sql
    assert "SET CACHE 1" in sql  # back to the default, spelled out


def test_new_identity_carries_its_options() -> None:
    a = schema(table("t", col("id", "bigint", null=False)))
    b = schema(table("t", _ident(start=100, increment=10)))
    [op] = changes(a, b)
    assert isinstance(op, AddIdentity) and op.options == IdentityOptions(start=100, increment=10)
    assert render_plan([op])[0].endswith("AS IDENTITY (INCREMENT BY 10 START WITH 100)")


def test_bounds_that_exclude_the_current_value_are_refused() -> None:
    a = schema(table("t", _ident(start=500)))
    b = schema(table("t", _ident(start=5, max_value=100)))
    with pytest.raises(UnsupportedChange, match="exclude its current value"):
        changes(a, b)


def test_type_change_keeps_default_bounds_default() -> None:
    a = schema(table("t", _ident("integer", cache=5)))
    b = schema(table("t", _ident("bigint", cache=5)))
    assert op_types(changes(a, b)) == ["AlterColumnType"]


def test_options_round_trip_through_postgres(dibs_conn: Any) -> None:
    a = schema(
        table(
            "t",
            _ident(start=3, increment=4, min_value=2, max_value=9, cache=5),
            col(
                "down",
                "smallint",
                null=False,
                identity="by default",
                identity_options=IdentityOptions(increment=-1),
            ),
        )
    )
    b = schema(
        table(
            "t",
            _ident(start=30, increment=40, min_value=1, max_value=90, cache=50, cycle=True),
            col(
                "down",
                "integer",
                null=False,
                identity="by default",
                identity_options=IdentityOptions(increment=-2, min_value=-1000),
            ),
        )
    )
    statements = migrate_for_real(dibs_conn, a, b)  # asserts introspect == b
    assert any("SET INCREMENT BY 40" in s for s in statements)
    row = dibs_conn.execute(
        "SELECT s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle"
        " FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence('t', 'id')::regclass"
    ).fetchone()
    assert row == (30, 40, 1, 90, 50, True)


def test_alter_keeps_the_current_value(dibs_conn: Any) -> None:
    a = schema(table("t", _ident(), col("v", "integer")))
    b = schema(table("t", _ident(start=1000, increment=2), col("v", "integer")))
    for stmt in render_schema(a):
        dibs_conn.execute(stmt.encode())
    dibs_conn.execute("INSERT INTO t (v) SELECT g FROM generate_series(1, 3) g")
    for stmt in render_plan(changes(a, b)):
        dibs_conn.execute(stmt.encode())
    assert introspect(dibs_conn).managed() == b.managed()
    assert dibs_conn.execute("INSERT INTO t (v) VALUES (4) RETURNING id").fetchone() == (5,)


def test_alter_identity_options_is_an_op_of_its_own() -> None:
    op = AlterIdentityOptions("public", "t", "id", "bigint", None, IdentityOptions(cache=3))
    [sql] = render_plan([op])
    assert sql.startswith("ALTER TABLE public.t ALTER COLUMN id SET INCREMENT BY 1")
    assert "SET NO MINVALUE" in sql and "SET START WITH 1" in sql and "SET NO CYCLE" in sql
