"""Property: for random A and B derived from A by random edits, database at A + plan → B.

A and B come from ``tests.edit_strategies``: B is A with random edits
(add/drop/rename-with-hint columns and tables, widening type changes, check
and FK changes, enum values).
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
