"""Concurrent and interrupted ``dibs migrate`` runs: each migration applies exactly once."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dibs.migrate import migrate
from tests.migrate.conftest import MakeRepo, cli_env, dibs_cmd, ledger_names

LOG = ("create_log", "CREATE TABLE log (n int NOT NULL);")


def _specs(count: int) -> list[tuple[str, str]]:
    specs = [LOG]
    for n in range(1, count):
        specs.append((f"step_{n}", f"CREATE TABLE t{n} (id int);\nINSERT INTO log VALUES ({n});"))
    return specs


def test_eight_concurrent_processes_apply_each_migration_once(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo(_specs(6))
    procs = [
        subprocess.Popen(
            dibs_cmd("migrate", "-d", dibs_db_url),
            cwd=repo.root,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, outputs
    assert len(ledger_names(db)) == 6
    rows = db.execute("SELECT n, count(*) FROM log GROUP BY n ORDER BY n").fetchall()
    assert rows == [(n, 1) for n in range(1, 6)]
    assert sum("up to date" in out for out, _ in outputs) == 7


def _kill_during(repo_root: Path, url: str, delay: float) -> None:
    proc = subprocess.Popen(
        dibs_cmd("migrate", "-d", url, "--format", "json"),
        cwd=repo_root,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _wait_idle(conn: psycopg.Connection[Any]) -> None:
    """Wait until the killed process's backend has gone (its lock and transaction with it)."""
    for _ in range(200):
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchone()
        if row == (0,):
            return
        time.sleep(0.02)
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


SLOW_TX = (
    "slow",
    "CREATE TABLE slow (id int);\nSELECT pg_sleep(0.4);\nINSERT INTO log VALUES (100);",
)


def _kill_transactional(make_repo: MakeRepo, url: str, db: Any, seed: int) -> None:
    repo = make_repo([LOG, SLOW_TX])
    migrate(url, repo.migrations, to="0001")
    _kill_during(repo.root, url, random.Random(seed).uniform(0.2, 1.2))
    _wait_idle(db)
    applied = ledger_names(db)
    has_table = db.execute("SELECT to_regclass('slow') IS NOT NULL").fetchone() == (True,)
    assert has_table == ("0002_slow.sql" in applied)
    migrate(url, repo.migrations)
    assert db.execute("SELECT count(*) FROM log").fetchone() == (1,)
    assert len(ledger_names(db)) == 2


@pytest.mark.parametrize("seed", range(2))
def test_kill_during_a_transactional_migration_leaves_before_or_after(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any], seed: int
) -> None:
    _kill_transactional(make_repo, dibs_db_url, db, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_kill_during_a_transactional_migration_many_times(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any], seed: int
) -> None:
    _kill_transactional(make_repo, dibs_db_url, db, 100 + seed)


NON_TX_BODY = (
    "\n".join(f"INSERT INTO log VALUES ({n});\nSELECT pg_sleep(0.1);" for n in range(1, 6))
    + "\nCREATE INDEX CONCURRENTLY log_n ON log (n);"
)


def _kill_non_transactional(make_repo: MakeRepo, url: str, db: Any, seed: int) -> None:
    repo = make_repo([LOG, ("batches", NON_TX_BODY, False)])
    migrate(url, repo.migrations, to="0001")
    _kill_during(repo.root, url, random.Random(seed).uniform(0.3, 1.3))
    _wait_idle(db)
    done = db.execute("SELECT count(*) FROM log").fetchone()
    progress = db.execute("SELECT count(*) FROM dibs.migration_progress").fetchone()
    finished = "0002_batches.sql" in ledger_names(db)
    if not finished and done is not None and progress is not None:
        # every INSERT that committed committed together with its progress row
        assert done[0] == min(5, (progress[0] + 1) // 2)
    result = migrate(url, repo.migrations)
    rows = db.execute("SELECT n, count(*) FROM log GROUP BY n ORDER BY n").fetchall()
    assert rows == [(n, 1) for n in range(1, 6)]
    assert len(ledger_names(db)) == 2
    assert db.execute("SELECT count(*) FROM dibs.migration_progress").fetchone() == (0,)
    if result.applied and result.applied[0].resumed_at:
        assert not finished


@pytest.mark.parametrize("seed", range(2))
def test_kill_during_a_non_transactional_migration_resumes(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any], seed: int
) -> None:
    _kill_non_transactional(make_repo, dibs_db_url, db, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(20))
def test_kill_during_a_non_transactional_migration_many_times(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any], seed: int
) -> None:
    _kill_non_transactional(make_repo, dibs_db_url, db, 100 + seed)


def test_a_non_transactional_migration_resumes_after_the_last_completed_statement(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    body = "INSERT INTO log VALUES (1);\nINSERT INTO log VALUES (2);\nINSERT INTO log VALUES (3);"
    repo = make_repo([LOG, ("three", body, False)])
    migrate(dibs_db_url, repo.migrations, to="0001")
    migration_id = repo.file(2).read_text()
    from dibs.repository.migration import content_id

    mid = content_id(migration_id)
    db.execute("INSERT INTO log VALUES (1), (2)")
    db.execute(
        "INSERT INTO dibs.migration_progress (migration_id, statement_index)"
        " VALUES (%s, 0), (%s, 1)",
        (mid, mid),
    )
    result = migrate(dibs_db_url, repo.migrations)
    assert result.applied[0].resumed_at == 2
    rows = db.execute("SELECT n FROM log ORDER BY n").fetchall()
    assert rows == [(1,), (2,), (3,)]
