"""``status`` and ``baseline``: reporting the ledger against the repository, adopting databases."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dibs.migrate import DriftDetected, LedgerMismatch, baseline, migrate, status
from tests.migrate.conftest import MakeRepo, ledger_names

USERS = ("create_users", "CREATE TABLE users (id int PRIMARY KEY, email text);")
POSTS = ("create_posts", "CREATE TABLE posts (id int PRIMARY KEY);")
INDEX = ("index_email", "CREATE INDEX users_email ON users (email);")


def _states(result: Any) -> list[tuple[str, str]]:
    return [(m.name, m.state) for m in result.migrations]


def test_status_of_a_fresh_database_is_all_pending_and_creates_nothing(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS])
    result = status(dibs_db_url, repo.migrations)
    assert _states(result) == [
        ("0001_create_users.sql", "pending"),
        ("0002_create_posts.sql", "pending"),
    ]
    assert result.drift is not None and result.drift.in_sync
    assert db.execute("SELECT to_regnamespace('dibs')").fetchone() == (None,)


def test_status_reports_applied_pending_and_drift(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS, INDEX])
    migrate(dibs_db_url, repo.migrations, to="0002")
    result = status(dibs_db_url, repo.migrations)
    assert [s for _, s in _states(result)] == ["applied", "applied", "pending"]
    assert len(result.pending) == 1
    migrate(dibs_db_url, repo.migrations)
    db.execute("ALTER TABLE posts ADD COLUMN title text")
    drifted = status(dibs_db_url, repo.migrations)
    assert drifted.drift is not None and not drifted.drift.in_sync
    assert any("title" in d for d in drifted.drift.differences)


def test_status_names_edited_and_unknown_migrations(make_repo: MakeRepo, dibs_db_url: str) -> None:
    migrate(dibs_db_url, make_repo([USERS, POSTS]).migrations)
    other = make_repo([(USERS[0], USERS[1] + "\nCREATE TABLE extra (id int);"), INDEX])
    result = status(dibs_db_url, other.migrations)
    assert _states(result) == [
        ("0001_create_users.sql", "edited"),
        ("0002_create_posts.sql", "unknown"),
        ("0002_index_email.sql", "pending"),
    ]
    assert result.drift is None


def test_baseline_adopts_a_database_with_the_same_schema(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS, INDEX])
    db.execute(USERS[1])
    db.execute(POSTS[1])
    result = baseline(dibs_db_url, repo.migrations, to="0002_create_posts.sql")
    assert result.recorded == ("0001_create_users.sql", "0002_create_posts.sql")
    assert db.execute("SELECT bool_and(baseline) FROM dibs.migrations").fetchone() == (True,)
    applied = migrate(dibs_db_url, repo.migrations)
    assert [a.name for a in applied.applied] == ["0003_index_email.sql"]
    assert len(ledger_names(db)) == 3


def test_baseline_refuses_a_different_schema_and_an_existing_ledger(
    make_repo: MakeRepo, dibs_db_url: str, db: psycopg.Connection[Any]
) -> None:
    repo = make_repo([USERS, POSTS])
    db.execute(USERS[1])
    with pytest.raises(DriftDetected, match=r"not the schema at 0002_create_posts.sql"):
        baseline(dibs_db_url, repo.migrations, to="0002")
    assert db.execute("SELECT to_regnamespace('dibs')").fetchone() == (None,)
    baseline(dibs_db_url, repo.migrations, to="0001")
    with pytest.raises(LedgerMismatch, match="already has 1 applied"):
        baseline(dibs_db_url, repo.migrations, to="0001")
