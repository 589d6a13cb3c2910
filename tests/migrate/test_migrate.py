"""``dibs.migrate.migrate``: applying, refusing, failing cleanly (real Postgres)."""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from dibs.migrate import (
    DriftDetected,
    LedgerMismatch,
    LockTimeoutExceeded,
    MigrationFailed,
    migrate,
)
from dibs.migrate.ledger import live_fingerprint
from dibs.repository.chain import ChainError
from tests.migrate.conftest import MakeRepo, ledger_names

USERS = ("create_users", "CREATE TABLE users (id int PRIMARY KEY, email text);")
POSTS = ("create_posts", "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users);")
INDEX = ("index_email", "CREATE INDEX users_email ON users (email);")


def test_applies_every_migration_in_order_and_records_the_ledger(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS, INDEX])
    result = migrate(dibs_db_url, repo.migrations)
    assert [a.name for a in result.applied] == [
        "0001_create_users.sql",
        "0002_create_posts.sql",
        "0003_index_email.sql",
    ]
    assert ledger_names(db) == [a.name for a in result.applied]
    head_fp = repo.file(3).read_text().split("fingerprint: ")[1].split("\n")[0]
    assert live_fingerprint(db) == head_fp
    again = migrate(dibs_db_url, repo.migrations)
    assert again.applied == () and again.already_applied == 3


def test_to_stops_after_the_named_migration(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS, INDEX])
    migrate(dibs_db_url, repo.migrations, to="0002")
    assert ledger_names(db) == ["0001_create_users.sql", "0002_create_posts.sql"]
    migrate(dibs_db_url, repo.migrations)
    assert len(ledger_names(db)) == 3


def test_dry_run_plans_and_writes_nothing(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS])
    result = migrate(dibs_db_url, repo.migrations, dry_run=True)
    assert [p.name for p in result.planned] == ["0001_create_users.sql", "0002_create_posts.sql"]
    assert result.planned[0].statements[0].startswith("CREATE TABLE users")
    exists = db.execute("SELECT to_regnamespace('dibs') IS NOT NULL").fetchone()
    assert exists == (False,)


def test_a_failing_migration_leaves_nothing_and_stops_the_run(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    bad_body = "CREATE TABLE audit (id int);\nINSERT INTO audit\n  VALUES (1), (nosuch);\n"
    repo = make_repo([USERS, ("audit", "CREATE TABLE audit (id int);"), INDEX])
    # Replace the middle migration's body by a failing one, rebuilt as a valid chain.
    repo = make_repo([USERS, ("audit", bad_body.replace("(nosuch)", "(2)")), INDEX])
    text = repo.file(2).read_text().replace("(2)", "(nosuch)")
    _rewrite_chain(repo, 2, text)
    with pytest.raises(MigrationFailed) as info:
        migrate(dibs_db_url, repo.migrations)
    error = info.value
    assert error.location is not None and error.location.file.endswith("0002_audit.sql")
    assert error.source_line == "  VALUES (1), (nosuch);"
    assert error.column == 16 and error.sqlstate == "42703"
    shown = str(error)
    assert "0002_audit.sql:" in shown and "\n                   ^" in shown
    assert ledger_names(db) == ["0001_create_users.sql"]
    assert db.execute("SELECT to_regclass('audit')").fetchone() == (None,)
    assert db.execute("SELECT to_regclass('users_email')").fetchone() == (None,)


def _rewrite_chain(repo: Any, number: int, text: str) -> None:
    """Swap one migration's text and re-link the lock (its fingerprint stays)."""
    from dibs.repository.lock import LOCK_NAME, read_lock, render_lock
    from dibs.repository.migration import content_id

    path = repo.file(number)
    path.write_text(text)
    lock = read_lock(repo.migrations / LOCK_NAME)
    entries = list(lock.entries)
    new_id = content_id(text)
    entries[number - 1] = (path.name, new_id)
    for later in range(number, len(entries)):
        follower = repo.migrations / entries[later][0]
        body = follower.read_text()
        old_parent = body.split("-- parent: ")[1].split("\n")[0]
        body = body.replace(f"-- parent: {old_parent}", f"-- parent: {new_id}")
        follower.write_text(body)
        new_id = content_id(body)
        entries[later] = (follower.name, new_id)
    (repo.migrations / LOCK_NAME).write_text(render_lock(entries, lock.fingerprint))


def test_a_syntax_error_is_refused_before_anything_runs(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, ("broken", "CREATE TABLE t (id int);")])
    _rewrite_chain(repo, 2, repo.file(2).read_text().replace("TABLE t", "TABEL t"))
    from dibs.errors import SqlSyntaxError

    with pytest.raises(SqlSyntaxError) as info:
        migrate(dibs_db_url, repo.migrations)
    assert info.value.file is not None and info.value.file.endswith("0002_broken.sql")
    assert info.value.line == 7
    assert ledger_names(db) == ["0001_create_users.sql"]


def test_an_edited_applied_migration_is_refused(
    make_repo: MakeRepo, dibs_db_url: str, tmp_path: Any
) -> None:
    repo = make_repo([USERS, POSTS])
    migrate(dibs_db_url, repo.migrations)
    edited = make_repo([USERS, (POSTS[0], POSTS[1] + "\nCREATE TABLE x (id int);")])
    with pytest.raises(LedgerMismatch, match=r"0002_create_posts.sql was edited after it was"):
        migrate(dibs_db_url, edited.migrations)


def test_a_migration_the_repository_does_not_know_is_refused(
    make_repo: MakeRepo, dibs_db_url: str
) -> None:
    migrate(dibs_db_url, make_repo([USERS, POSTS]).migrations)
    other = make_repo([USERS, INDEX])
    with pytest.raises(LedgerMismatch, match=r"0002_create_posts.sql that the repository does"):
        migrate(dibs_db_url, other.migrations)


def test_a_broken_chain_is_refused_before_connecting(make_repo: MakeRepo) -> None:
    repo = make_repo([USERS, POSTS])
    repo.file(1).write_text(repo.file(1).read_text() + "-- sneaky\n")
    with pytest.raises(ChainError, match=r"0001_create_users.sql was edited"):
        migrate("postgresql://nobody@/nowhere?host=/nonexistent", repo.migrations)


def test_manual_ddl_is_drift_and_allow_drift_applies_anyway(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS])
    migrate(dibs_db_url, repo.migrations, to="0001")
    db.execute("ALTER TABLE users ADD COLUMN nickname text")
    with pytest.raises(DriftDetected, match=r"after 0001_create_users.sql") as info:
        migrate(dibs_db_url, repo.migrations)
    assert info.value.exit_code == 1
    result = migrate(dibs_db_url, repo.migrations, allow_drift=True)
    assert [a.name for a in result.applied] == ["0002_create_posts.sql"]
    assert result.drift is not None and not result.drift.in_sync


def test_a_non_empty_database_without_a_ledger_names_the_objects(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS])
    db.execute("CREATE TABLE legacy (id int)")
    with pytest.raises(DriftDetected) as info:
        migrate(dibs_db_url, repo.migrations)
    assert any("legacy" in d for d in info.value.differences)


def test_the_ledger_schema_is_not_part_of_the_fingerprint(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS])
    migrate(dibs_db_url, repo.migrations)
    assert "dibs" not in __import__("dibs.migrate").migrate.user_schemas(db)


def test_lock_timeout_retries_then_fails_clearly(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, ("add_col", "ALTER TABLE users ADD COLUMN age int;")])
    migrate(dibs_db_url, repo.migrations, to="0001")
    with psycopg.connect(dibs_db_url) as holder:
        holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(LockTimeoutExceeded, match="within lock_timeout 100ms, 3 times"):
            migrate(dibs_db_url, repo.migrations, lock_timeout=0.1, retries=2)
        elapsed = time.monotonic() - started
        holder.rollback()
    assert 0.5 < elapsed < 3
    assert ledger_names(db) == ["0001_create_users.sql"]


def test_lock_timeout_retry_succeeds_once_the_lock_is_released(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, ("add_col", "ALTER TABLE users ADD COLUMN age int;")])
    migrate(dibs_db_url, repo.migrations, to="0001")
    holder = psycopg.connect(dibs_db_url)
    holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    timer = threading.Timer(0.3, holder.close)
    timer.start()
    try:
        result = migrate(dibs_db_url, repo.migrations, lock_timeout="100ms", retries=5)
    finally:
        timer.join()
    assert result.applied[0].retries >= 1
    assert len(ledger_names(db)) == 2


def test_a_failure_without_a_position_names_its_statement(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    body = (
        "CREATE TABLE k (id int PRIMARY KEY);\nINSERT INTO k VALUES (1);\nINSERT INTO k VALUES (2);"
    )
    repo = make_repo([("dupes", body)])
    _rewrite_chain(repo, 1, repo.file(1).read_text().replace("VALUES (2)", "VALUES (1)"))
    with pytest.raises(MigrationFailed) as info:
        migrate(dibs_db_url, repo.migrations)
    assert info.value.sqlstate == "23505"
    assert info.value.location is not None and info.value.location.line == 9
    assert info.value.source_line == "INSERT INTO k VALUES (1);"
    assert info.value.detail == "Key (id)=(1) already exists."
    assert db.execute("SELECT to_regclass('k')").fetchone() == (None,)


def test_a_migration_that_does_not_produce_its_recorded_schema_is_flagged(
    make_repo: MakeRepo, dibs_db_url: str
) -> None:
    repo = make_repo([USERS])
    _rewrite_chain(repo, 1, repo.file(1).read_text().replace(", email text", ""))
    warnings: list[str] = []

    class Collect:
        def waiting_for_lock(self) -> None: ...
        def starting(self, migration: Any, index: int, total: int) -> None: ...
        def applied(self, applied: Any) -> None: ...
        def retrying(self, migration: Any, attempt: int, delay: float, reason: str) -> None: ...
        def warning(self, message: str) -> None:
            warnings.append(message)

    result = migrate(dibs_db_url, repo.migrations, reporter=Collect())
    assert result.verified is False
    assert "does not produce the schema" in warnings[0]


def test_transaction_control_in_a_transactional_migration_is_refused(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([("split", "CREATE TABLE a (id int);\nCREATE TABLE b (id int);")])
    text = repo.file(1).read_text().replace("(id int);\nCREATE", "(id int);\nCOMMIT;\nCREATE")
    _rewrite_chain(repo, 1, text)
    with pytest.raises(MigrationFailed, match="controls transactions itself"):
        migrate(dibs_db_url, repo.migrations)
    assert db.execute("SELECT to_regclass('a')").fetchone() == (None,)


def test_the_ledger_records_server_side_durations(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([("nap", "SELECT pg_sleep(0.2);")])
    migrate(dibs_db_url, repo.migrations)
    row = db.execute("SELECT duration_ms, applied_by, baseline FROM dibs.migrations").fetchone()
    assert row is not None and 150 < row[0] < 5000 and row[1] == "postgres" and row[2] is False
