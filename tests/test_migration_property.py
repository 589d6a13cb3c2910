"""Property: for random A and B derived from A by random edits, database at A + plan → B.

Uses ``tests.strategies.schemas()`` for A when that module exists, else a
small local generator; B is A with random edits (add/drop/rename-with-hint
columns and tables, widening type changes, check and FK changes, enum values).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dibs.autogenerate import CannedQuestioner, diff
from dibs.planner import plan
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.render.ddl import render_schema
from dibs.schema.expressions import canonical_expression
from dibs.schema.model import (
    Check,
    Column,
    EnumType,
    FkAction,
    ForeignKey,
    PrimaryKey,
    Schema,
    Table,
)

_NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma"])
_TYPES = st.sampled_from(["integer", "bigint", "text", "varchar(20)", "numeric(8,2)", "timestamp"])
_ACTIONS: list[FkAction] = ["NO ACTION", "CASCADE", "RESTRICT"]
_WIDER = {
    "integer": "bigint",
    "varchar(20)": "text",
    "numeric(8,2)": "numeric(12,2)",
    "timestamp": "timestamptz",
    "bigint": "numeric",
    "text": "text",
}


@st.composite
def _tables(draw: st.DrawFn, name: str) -> Table:
    names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
    cols = [Column("id", "integer", nullable=False)]
    cols += [Column(n, draw(_TYPES), nullable=draw(st.booleans())) for n in names]
    return Table(name, columns=tuple(cols), primary_key=PrimaryKey(f"{name}_pkey", ("id",)))


@st.composite
def _schemas(draw: st.DrawFn) -> Schema:
    names = draw(st.lists(st.sampled_from(["t1", "t2", "t3"]), min_size=1, max_size=3, unique=True))
    tables = [draw(_tables(n)) for n in names]
    mood = EnumType("mood", ("sad", "ok", "happy"))
    if draw(st.booleans()):
        tables[0] = replace(tables[0], columns=(*tables[0].columns, Column("mood", "mood")))
    return Schema.build(tables=tables, enums=[mood])


def _edit_table(draw: st.DrawFn, table: Table, others: list[str]) -> Table:
    cols = list(table.columns)
    for i, c in enumerate(cols):
        if c.name == "id":
            continue
        action = draw(st.sampled_from(["keep", "keep", "widen", "rename", "drop", "null"]))
        if action == "widen":
            cols[i] = replace(c, type=_WIDER.get(c.type, c.type))
        elif action == "rename":
            cols[i] = replace(c, name=f"{c.name}_new", renamed_from=(c.name,))
        elif action == "null":
            cols[i] = replace(c, nullable=not c.nullable)
        elif action == "drop":
            cols[i] = replace(c, name="")
    cols = [c for c in cols if c.name]
    if draw(st.booleans()):
        cols.append(Column("added", draw(_TYPES)))
    checks: tuple[Check, ...] = ()
    if draw(st.booleans()):
        checks = (
            Check(
                f"{table.name}_id_check", canonical_expression(f"id > {draw(st.integers(-5, 5))}")
            ),
        )
    fks: tuple[ForeignKey, ...] = ()
    if draw(st.booleans()) and others:
        ref = draw(st.sampled_from(others))
        on_delete: FkAction = draw(st.sampled_from(_ACTIONS))
        cols.append(Column("ref_id", "integer"))
        fks = (
            ForeignKey(
                f"{table.name}_ref_id_fkey",
                ("ref_id",),
                "public",
                ref,
                ("id",),
                on_delete=on_delete,
            ),
        )
    return replace(table, columns=tuple(cols), checks=checks, foreign_keys=fks)


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[Schema, Schema]:
    a = draw(_schemas())
    tables = []
    for table in a.tables:
        fate = draw(st.sampled_from(["edit", "edit", "rename", "drop"]))
        if fate == "drop":
            continue
        if fate == "rename":
            table = replace(table, name=f"{table.name}_r", renamed_from=(table.name,))
        tables.append(table)
    if draw(st.booleans()):
        tables.append(draw(_tables("t9")))
    names = [t.name for t in tables]
    tables = [_edit_table(draw, t, [n for n in names if n != t.name]) for t in tables]
    mood = a.enums[0]
    values = draw(st.sampled_from([mood.values, (*mood.values, "great"), ("meh", *mood.values)]))
    return a, Schema.build(tables=tables, enums=[replace(mood, values=values)])


def _run(conn: psycopg.Connection[Any], a: Schema, b: Schema) -> None:
    with conn.transaction():
        for statement in render_schema(a):
            conn.execute(statement.encode())
    ops = plan(diff(a, b, questioner=CannedQuestioner(default=False)), a, b)
    for statement in render_plan(ops):
        conn.execute(statement.encode())
    assert introspect(conn).managed() == b.managed()


def _check(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    a, b = pair
    with psycopg.connect(dibs_server.create_database(), autocommit=True) as conn:
        _run(conn, a, b)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=_pairs())
def test_random_edits_reach_the_target(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)


@pytest.mark.slow
@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=_pairs())
def test_random_edits_reach_the_target_slow(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)
