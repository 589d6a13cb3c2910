"""The ``dibs migrate``, ``dibs status`` and ``dibs baseline`` commands, run as a user would."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from tests.migrate.conftest import MakeRepo

USERS = ("create_users", "CREATE TABLE users (id int PRIMARY KEY, email text);")
POSTS = ("create_posts", "CREATE TABLE posts (id int PRIMARY KEY);")


def test_migrate_status_and_check(make_repo: MakeRepo, dibs_db_url: str, run_dibs: Any) -> None:
    repo = make_repo([USERS, POSTS])
    behind = run_dibs("status", "-d", dibs_db_url, "--check", cwd=repo.root)
    assert behind.code == 1 and "pending" in behind.stdout
    dry = run_dibs("migrate", "-d", dibs_db_url, "--dry-run", cwd=repo.root)
    assert dry.code == 0 and "CREATE TABLE posts" in dry.stdout
    done = run_dibs("migrate", "-d", dibs_db_url, "--to", "0001", cwd=repo.root)
    assert done.code == 0, done.stderr
    assert "applied 0001_create_users.sql" in done.stderr
    data = json.loads(
        run_dibs("migrate", "-d", dibs_db_url, "--format", "json", cwd=repo.root).stdout
    )
    assert [a["name"] for a in data["applied"]] == ["0002_create_posts.sql"]
    ok = run_dibs("status", "-d", dibs_db_url, "--check", cwd=repo.root)
    assert ok.code == 0 and "schema: in sync" in ok.stdout
    js = json.loads(run_dibs("status", "-d", dibs_db_url, "--format", "json", cwd=repo.root).stdout)
    assert [m["state"] for m in js["migrations"]] == ["applied", "applied"]


def test_migrate_failure_shows_file_line_caret_and_sqlstate(
    make_repo: MakeRepo, dibs_db_url: str, run_dibs: Any
) -> None:
    repo = make_repo([("bad", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);")])
    # fingerprints come from a scratch database where the SQL ran; break it only now
    text = repo.file(1).read_text()
    from tests.migrate.test_migrate import _rewrite_chain

    _rewrite_chain(repo, 1, text.replace("VALUES (1)", "VALUES (1::nosuchtype)"))
    result = run_dibs("migrate", "-d", dibs_db_url, cwd=repo.root)
    assert result.code == 2
    assert "migrations/0001_bad.sql:8:26: " in result.stderr
    assert "INSERT INTO t VALUES (1::nosuchtype);" in result.stderr
    assert "^" in result.stderr and "sqlstate: 42704" in result.stderr
    assert "Traceback" not in result.stderr


def test_drift_exits_1_and_baseline_adopts(
    make_repo: MakeRepo, dibs_db_url: str, run_dibs: Any, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS])
    db.execute(USERS[1])
    refused = run_dibs("migrate", "-d", dibs_db_url, cwd=repo.root)
    assert refused.code == 1 and "users" in refused.stderr
    adopted = run_dibs("baseline", "-d", dibs_db_url, "--to", "0001", cwd=repo.root)
    assert adopted.code == 0, adopted.stderr
    assert run_dibs("migrate", "-d", dibs_db_url, cwd=repo.root).code == 0


def test_lock_timeout_from_the_project_config(
    make_repo: MakeRepo, dibs_db_url: str, run_dibs: Any, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo(
        [USERS, ("add_age", "ALTER TABLE users ADD COLUMN age int;")],
        extra='lock_timeout = "100ms"\n',
    )
    assert run_dibs("migrate", "-d", dibs_db_url, "--to", "0001", cwd=repo.root).code == 0
    with psycopg.connect(dibs_db_url) as holder:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        result = run_dibs("migrate", "-d", dibs_db_url, "--retries", "1", cwd=repo.root)
        holder.rollback()
    assert result.code == 2
    assert "lock timeout in 0002_add_age.sql; retry 1" in result.stderr
    assert "within lock_timeout 100ms, 2 times" in result.stderr
