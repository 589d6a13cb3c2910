"""The pytest plugin gives each test a fresh, empty database on a real server."""

from __future__ import annotations

import time
from typing import Any

import psycopg

_SEEN: dict[str, str] = {}


def test_first_database_gets_a_table(dibs_conn: psycopg.Connection[Any], dibs_db_url: str) -> None:
    dibs_conn.execute("CREATE TABLE leftover (id int)")
    _SEEN["first"] = dibs_db_url


def test_next_database_is_fresh_and_empty(
    dibs_conn: psycopg.Connection[Any], dibs_db_url: str
) -> None:
    count = dibs_conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public'"
    ).fetchone()
    assert count == (0,)
    assert _SEEN.get("first") != dibs_db_url


def test_server_is_real_postgres(dibs_conn: psycopg.Connection[Any]) -> None:
    row = dibs_conn.execute("SHOW server_version_num").fetchone()
    assert row is not None and int(row[0]) >= 150000


def test_database_creation_is_fast(dibs_server: Any) -> None:
    dibs_server.template()
    started = time.perf_counter()
    url = dibs_server.create_database()
    elapsed = time.perf_counter() - started
    dibs_server.drop_database(url)
    assert elapsed < 1.0, f"creating a test database took {elapsed:.2f}s"


def test_close_drops_databases_tests_left_behind(dibs_server: Any) -> None:
    from dibs.testing import TestServer

    server = TestServer(dibs_server.url, "test")
    kept = server.create_database()
    dropped = server.create_database()
    server.drop_database(dropped)
    names = {str(psycopg.conninfo.conninfo_to_dict(u)["dbname"]) for u in (kept, dropped)}
    template = server.template()
    server.close()
    with psycopg.connect(dibs_server.url, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)",
            (sorted(names | {template}),),
        ).fetchall()
    assert left == []
