"""Defaults the restricted ``DEFAULT`` grammar refuses bare are parenthesised (and only those).

In ``CREATE TABLE``/``CREATE DOMAIN`` Postgres parses a default as
``b_expr``: ``now() AT TIME ZONE 'utc'`` is a syntax error there unless
parenthesised, while ``ALTER … SET DEFAULT`` takes it as is. sqldef's
``CreateTableWithAtTimeZoneDefault`` case found it.
"""

from __future__ import annotations

from typing import Any

import pytest

from dibs.postgres.introspect import introspect
from dibs.render.ddl import render_schema
from dibs.render.parts import default_expression
from dibs.schema.expressions import canonical_expression
from dibs.schema.model import Domain
from tests.autogenerate.helpers import col, migrate_for_real, schema, table

DEFAULTS = [
    ("timestamp", "now() AT TIME ZONE 'utc'"),
    ("boolean", "1 > 0 AND true"),
    ("boolean", "NULL IS NULL"),
    ("boolean", "'x' LIKE 'x%'"),
    ("integer", "-1"),
]


@pytest.mark.parametrize(("type_", "default"), DEFAULTS)
def test_create_table_and_add_column_accept_the_default(
    dibs_conn: Any, type_: str, default: str
) -> None:
    expression = canonical_expression(default)
    with_default = schema(table("t", col("a", type_, default=expression)))
    migrate_for_real(dibs_conn, schema(), with_default)  # CREATE TABLE … DEFAULT
    dibs_conn.execute("DROP TABLE t")
    migrate_for_real(dibs_conn, schema(table("t")), with_default)  # ADD COLUMN … DEFAULT


@pytest.mark.parametrize(("type_", "default"), DEFAULTS)
def test_create_domain_accepts_the_default(dibs_conn: Any, type_: str, default: str) -> None:
    domain = schema(domains=(Domain("d", type_, default=canonical_expression(default)),))
    for stmt in render_schema(domain):
        dibs_conn.execute(stmt.encode())
    assert introspect(dibs_conn).managed() == domain.managed()


def test_plain_defaults_stay_bare() -> None:
    for plain in ("now()", "1", "'a'::text", "nextval('s'::regclass)", "ARRAY[1, 2]", "-1"):
        assert default_expression(plain) == plain
    assert default_expression("now() AT TIME ZONE 'utc'") == "(now() AT TIME ZONE 'utc')"
