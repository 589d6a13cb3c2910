"""Build migration repositories for tests by applying their SQL to a scratch database.

``make_repo([("create_users", "CREATE TABLE users (id int)"), …])`` writes a
project (pyproject.toml, migrations/NNNN_name.sql, dibs.lock, schema.json)
whose recorded fingerprints are those of a real database after each step,
exactly as ``dibs generate`` would record them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dibs.migrate.ledger import live_fingerprint, live_schema
from dibs.render.validate import validate
from dibs.repository.lock import LOCK_NAME, render_lock
from dibs.repository.migration import ROOT, content_id, render_migration
from dibs.schema.canonical import to_json
from dibs.testing import TestServer

Spec = tuple[str, str] | tuple[str, str, bool]


@dataclass(frozen=True)
class Repo:
    """A project directory with a migrations repository."""

    root: Path

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    def file(self, number: int) -> Path:
        return next(self.migrations.glob(f"{number:04d}_*.sql"))


MakeRepo = Callable[..., Repo]


def build_repo(
    server: TestServer, root: Path, specs: Sequence[Spec], *, pyproject_extra: str = ""
) -> Repo:
    """Write a repository for ``specs`` (name, sql[, transactional]) under ``root``."""
    migrations = root / "migrations"
    migrations.mkdir(parents=True, exist_ok=True)
    for old in migrations.glob("*.sql"):
        old.unlink()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0"\n\n[tool.dibs]\n{pyproject_extra}'
    )
    scratch = server.create_database()
    entries: list[tuple[str, str]] = []
    parent = ROOT
    fp = ""
    try:
        with psycopg.connect(scratch, autocommit=True) as conn:
            for number, spec in enumerate(specs, start=1):
                name, body = spec[0], spec[1]
                transactional = spec[2] if len(spec) == 3 else True
                if transactional:
                    conn.execute(body.encode())
                else:
                    for stmt in validate(body):
                        conn.execute(stmt.sql.encode())
                fp = live_fingerprint(conn)
                text = render_migration(
                    parent=parent,
                    fingerprint=fp,
                    message=name.replace("_", " "),
                    body=body,
                    transactional=transactional,
                )
                file_name = f"{number:04d}_{name}.sql"
                (migrations / file_name).write_text(text)
                parent = content_id(text)
                entries.append((file_name, parent))
            schema = to_json(live_schema(conn))
    finally:
        server.drop_database(scratch)
    (migrations / LOCK_NAME).write_text(render_lock(entries, fp or None))
    if entries:
        (migrations / "schema.json").write_text(schema)
    return Repo(root)


@pytest.fixture
def make_repo(dibs_server: TestServer, tmp_path: Path) -> MakeRepo:
    """Return a builder of repositories under this test's tmp_path."""
    counter = iter(range(1000))

    def make(specs: Sequence[Spec], *, root: Path | None = None, extra: str = "") -> Repo:
        target = root or tmp_path / f"project{next(counter)}"
        return build_repo(dibs_server, target, specs, pyproject_extra=extra)

    return make


@pytest.fixture
def db(dibs_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the test's fresh database."""
    with psycopg.connect(dibs_db_url, autocommit=True) as conn:
        yield conn


def dibs_cmd(*args: str) -> list[str]:
    """The argv of the real CLI."""
    return [sys.executable, "-m", "dibs.cli.main", *args]


def cli_env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    return env


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_dibs() -> Callable[..., Result]:
    """Run the CLI in a project directory and capture its output."""

    def run(*args: str, cwd: Path) -> Result:
        proc = subprocess.run(
            dibs_cmd(*args), cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=120
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


def ledger_names(conn: psycopg.Connection[Any]) -> list[str]:
    """The applied migrations' file names, in order."""
    return [str(r[0]) for r in conn.execute("SELECT name FROM dibs.migrations ORDER BY position")]
