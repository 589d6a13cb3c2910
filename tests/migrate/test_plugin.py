"""The ``dibs_migrated_db_url`` fixture of the pytest plugin."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dibs.testing import TestServer
from tests.migrate.conftest import build_repo


@pytest.fixture
def dibs_migrations_dir(dibs_server: TestServer, tmp_path: Path) -> Path:
    specs = [("create_users", "CREATE TABLE users (id int PRIMARY KEY);")]
    return build_repo(dibs_server, tmp_path / "project", specs).migrations


def test_the_database_is_migrated_to_head(dibs_migrated_db_url: str) -> None:
    with psycopg.connect(dibs_migrated_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM dibs.migrations").fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('users') IS NOT NULL").fetchone() == (True,)
