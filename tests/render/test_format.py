"""Formatting never changes what a statement means, and leaves DDL in dibs's own layout."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pglast.parser import fingerprint

from dibs.render import format as fmt
from dibs.render.ddl import render_schema
from dibs.render.format import format_statement, same_meaning
from tests.render.test_ddl import full_schema

QUERIES = [
    'select a, b, count(*) from shop."Order" o join c on c.id = o.cid where x = 1 group by a, b',
    "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC NULLS LAST",
    "SELECT x FROM t WHERE id = 1 FOR UPDATE SKIP LOCKED",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
    "SELECT payload ->> 'name', payload #> '{a,b}' FROM events WHERE payload @> '{\"k\": 1}'",
    "SELECT ARRAY[1, 2] && ARRAY[2], 'a' COLLATE \"C\" < 'b', $$dollar 'quoted'$$",
    "SELECT sum(x) OVER (PARTITION BY g ORDER BY t ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)"
    " FROM t",
    "SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.t_id = t.id LIMIT 1) AS l",
    "SELECT E'tab\\there', U&'\\0041', B'101', X'ff', 1.5e3, -0.0",
    "SELECT x::int4range, CAST(y AS numeric(10,2)), z::text[] FROM t",
    "SELECT a FROM t UNION SELECT b FROM u EXCEPT SELECT c FROM v",
    "SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS g(v, i)",
    "SELECT count(*) FILTER (WHERE x > 0), string_agg(s, ',' ORDER BY s) FROM t",
    "SELECT CASE WHEN a IS DISTINCT FROM b THEN 1 ELSE 2 END, a BETWEEN 1 AND 2, s ILIKE 'x%'",
    "INSERT INTO t (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name"
    " RETURNING *",
    "UPDATE t SET n = u.n FROM u WHERE u.id = t.id AND t.flag",
    "DELETE FROM t USING u WHERE u.id = t.id RETURNING t.id",
    "SELECT now() AT TIME ZONE 'UTC', interval '1 day', date '2024-01-01', current_date",
]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    format_statement.cache_clear()
    yield
    format_statement.cache_clear()


@pytest.mark.parametrize("sql", QUERIES)
def test_formatting_a_query_keeps_its_meaning(sql: str) -> None:
    formatted = format_statement(sql)
    assert fingerprint(formatted) == fingerprint(sql)
    assert same_meaning(sql, formatted)


def test_most_queries_are_actually_laid_out() -> None:
    """The guard must not make the formatter a no-op: most queries get sqlglot's layout."""
    changed = [sql for sql in QUERIES if format_statement(sql) != sql]
    assert len(changed) >= len(QUERIES) // 2, changed
    assert "\nFROM" in format_statement(QUERIES[0])


def test_rendered_ddl_keeps_dibs_layout() -> None:
    for stmt in render_schema(full_schema()):
        assert format_statement(stmt) == stmt


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE EXTENSION IF NOT EXISTS citext SCHEMA public",
        "ALTER SEQUENCE s OWNED BY t.id",
        "CREATE INDEX i ON t USING btree (a) INCLUDE (b) NULLS NOT DISTINCT",
        "SELECT 1; SELECT 2",
        "SELEC nonsense",
    ],
)
def test_what_sqlglot_cannot_format_is_kept_and_not_logged(
    sql: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert format_statement(sql) == sql
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")]


def test_a_layout_that_changes_meaning_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt, "_sqlglot_pretty", lambda sql: sql.replace("1", "2"))
    assert format_statement("SELECT a FROM t WHERE b = 1") == "SELECT a FROM t WHERE b = 1"


def test_constants_count_although_fingerprints_ignore_them() -> None:
    """Why ``same_meaning`` compares trees too: a fingerprint alone would pass these."""
    a, b = "CREATE TABLE t (a int DEFAULT 0)", "CREATE TABLE t (a int DEFAULT 1)"
    assert fingerprint(a) == fingerprint(b)
    assert not same_meaning(a, b)
    assert not same_meaning("SELECT 'x'", "SELECT 'y'")
    assert same_meaning("select  a from t", "SELECT\n  a\nFROM t")


def test_same_meaning_is_false_for_unparsable_text() -> None:
    assert not same_meaning("SELECT 1", "SELEC 1")


def test_rendering_ddl_never_imports_sqlglot() -> None:
    """``dibs sql`` stays light: DDL is laid out by dibs, so sqlglot is not even imported."""
    code = (
        "import sys\n"
        "from dibs.render.ddl import render_script\n"
        "from tests.render.test_ddl import full_schema\n"
        "render_script(full_schema())\n"
        "print('sqlglot' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "False"


def test_a_real_sqlglot_rewrite_is_refused() -> None:
    """sqlglot spells ``now()`` as CURRENT_TIMESTAMP and upper-cases '1 day': other trees."""
    sql = "SELECT now(), interval '1 day'"
    pretty = fmt._sqlglot_pretty(sql)
    if pretty is None or same_meaning(sql, pretty):
        pytest.skip(f"this sqlglot version keeps the meaning: {pretty!r}")
    assert format_statement(sql) == sql
