"""Property: for random A and B derived from A by random edits, database at A + plan → B.

A and B come from ``tests.edit_strategies``: B is A with random edits
(add/drop/rename-with-hint columns and tables, widening type changes, check
and FK changes, enum values). Every table at A holds a row; after the plan,
every column that survives (under its name or a hinted rename, in a table
kept or renamed) still holds its value, converted to its new type.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

from dibs.autogenerate import CannedQuestioner, diff
from dibs.planner import plan
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.render.ddl import render_schema
from dibs.schema.model import Schema
from tests.edit_strategies import pairs

# One literal per type the edit strategies use; ``id`` is 10 so random checks
# ``id > k`` (k in -5..5) hold.
_VALUES = {
    "integer": "7",
    "bigint": "7",
    "text": "'x y'",
    "varchar(20)": "'x y'",
    "numeric(8,2)": "7.25",
    "timestamp": "'2020-01-02 03:04:05'",
    "mood": "'ok'",
}


def _insert_rows(conn: psycopg.Connection[Any], a: Schema) -> dict[tuple[str, str], str]:
    """One row per table at A; return (table, column) → the literal stored."""
    stored: dict[tuple[str, str], str] = {}
    conn.execute("SET session_replication_role = replica")  # FK order does not matter here
    for table in a.tables:
        values = {c.name: "10" if c.name == "id" else _VALUES[c.type] for c in table.columns}
        names = ", ".join(f'"{n}"' for n in values)
        conn.execute(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join(values.values())})')
        stored |= {(table.name, n): v for n, v in values.items()}
    conn.execute("SET session_replication_role = DEFAULT")
    return stored


def _origin(name: str, renamed_from: tuple[str, ...], old_names: set[str]) -> str | None:
    if name in old_names:
        return name
    return next((n for n in renamed_from if n in old_names), None)


def _check_rows(
    conn: psycopg.Connection[Any], a: Schema, b: Schema, stored: dict[tuple[str, str], str]
) -> None:
    old_tables = {t.name: t for t in a.tables}
    for table in b.tables:
        origin = _origin(table.name, table.renamed_from, set(old_tables))
        if origin is None:
            continue
        old_columns = {c.name for c in old_tables[origin].columns}
        for col in table.columns:
            source = _origin(col.name, col.renamed_from, old_columns)
            if source is None:
                continue
            literal = stored[(origin, source)]
            same = conn.execute(
                f'SELECT "{col.name}" = CAST({literal} AS {col.type}) FROM "{table.name}"'
            ).fetchone()
            assert same == (True,), f"{table.name}.{col.name} lost its value {literal}"


def _run(conn: psycopg.Connection[Any], a: Schema, b: Schema) -> None:
    with conn.transaction():
        for statement in render_schema(a):
            conn.execute(statement.encode())
    stored = _insert_rows(conn, a)
    assert diff(b, b, questioner=CannedQuestioner(default=False)) == []
    ops = plan(diff(a, b, questioner=CannedQuestioner(default=False)), a, b)
    for statement in render_plan(ops):
        conn.execute(statement.encode())
    assert introspect(conn).managed() == b.managed()
    _check_rows(conn, a, b, stored)


def _check(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    a, b = pair
    with psycopg.connect(dibs_server.create_database(), autocommit=True) as conn:
        _run(conn, a, b)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=pairs())
def test_random_edits_reach_the_target(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)


@pytest.mark.slow
@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=pairs())
def test_random_edits_reach_the_target_slow(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)
