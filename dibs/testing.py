"""pytest plugin: a real Postgres for the session and a fresh, empty database per test.

The server is chosen in this order:

1. ``DIBS_TEST_DATABASE_URL`` — a server you run (tests create and drop databases on it);
2. testcontainers' ``PostgresContainer``, when a Docker engine answers;
3. pgserver, the embedded Postgres from PyPI, in a temporary directory;
4. the local PostgreSQL binaries (``initdb``/``pg_ctl`` on PATH; as user ``postgres`` when root).

Each test's database is cloned from a template database made once per
session (``CREATE DATABASE … TEMPLATE``), which takes a few milliseconds.
Works with pytest-xdist: each worker uses its own database names.

Fixtures: ``dibs_server`` (session; ``.url``, ``.kind``, ``.create_database()``,
``.drop_database()``), ``dibs_db_url`` (URL of a fresh database) and
``dibs_conn`` (an autocommit psycopg connection to it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo, sql

__all__ = ["TestServer", "temporary_server"]

TEMPLATE_PREFIX = "dibs_template"


@dataclass
class TestServer:
    """A Postgres server tests may create databases on."""

    url: str
    kind: str
    _template: str | None = field(default=None, repr=False)
    _created: set[str] = field(default_factory=set, repr=False)

    __test__ = False  # not a test class, despite the name

    def url_for(self, database: str) -> str:
        params = conninfo.conninfo_to_dict(self.url)
        params["dbname"] = database
        return conninfo.make_conninfo("", **params)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    def template(self) -> str:
        """Return the name of this process's empty template database (made once)."""
        if self._template is None:
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            name = f"{TEMPLATE_PREFIX}_{worker}_{uuid.uuid4().hex[:8]}"
            with self._admin() as conn:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                        sql.Identifier(name)
                    )
                )
            self._template = name
        return self._template

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create an empty database (from the template) and return its URL."""
        name = name or f"dibs_test_{uuid.uuid4().hex[:12]}"
        source = template or self.template()
        with self._admin() as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(source)
                )
            )
        self._created.add(name)
        return self.url_for(name)

    def drop_database(self, name_or_url: str) -> None:
        """Drop a database created for a test, closing its connections."""
        name = name_or_url
        if "=" in name_or_url or "://" in name_or_url:
            name = str(conninfo.conninfo_to_dict(name_or_url).get("dbname"))
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self._created.discard(name)

    def close(self) -> None:
        """Drop what this process created: databases tests did not drop, then the template.

        On a server named by ``DIBS_TEST_DATABASE_URL`` nothing may be left behind.
        """
        for name in sorted(self._created):
            with suppress(psycopg.Error):
                self.drop_database(name)
        if self._template is not None:
            with suppress(psycopg.Error):
                self.drop_database(self._template)
            self._template = None


def _docker_answers() -> bool:
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=2)
        client.ping()
    except Exception:  # any failure means: no engine here
        return False
    return True


@contextmanager
def _from_testcontainers() -> Iterator[TestServer]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16", driver=None) as container:
        yield TestServer(container.get_connection_url(), "testcontainers")


@contextmanager
def _from_pgserver(folder: Path) -> Iterator[TestServer]:
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield TestServer(str(server.get_uri()), "pgserver")
    finally:
        server.cleanup()


@contextmanager
def _from_local_binaries(folder: Path) -> Iterator[TestServer]:
    from dibs.postgres.embedded import _run_as_postgres, start_local_cluster

    data = folder / "pgdata"
    url = start_local_cluster(data, folder / "sock")
    try:
        yield TestServer(url, "local binaries")
    finally:
        with suppress(_subprocess_error()):
            _run_as_postgres(["pg_ctl", "-D", str(data), "-w", "stop", "-m", "immediate"])


def _subprocess_error() -> type[Exception]:
    import subprocess

    return subprocess.CalledProcessError


@contextmanager
def temporary_server() -> Iterator[TestServer]:
    """Yield a Postgres server chosen as the module docstring says; clean up after."""
    env_url = os.environ.get("DIBS_TEST_DATABASE_URL")
    if env_url:
        server = TestServer(env_url, "DIBS_TEST_DATABASE_URL")
        try:
            yield server
        finally:
            server.close()
        return
    if _docker_answers():
        with _from_testcontainers() as server:
            yield server
            server.close()
        return
    folder = Path(tempfile.mkdtemp(prefix="dibs-test-"))
    os.chmod(folder, 0o755)
    try:
        try:
            import pgserver  # noqa: F401

            factory = _from_pgserver
        except ImportError:
            factory = _from_local_binaries
        with factory(folder) as server:
            yield server
            server.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- pytest hooks and fixtures -------------------------------------------------

_SESSION: dict[str, Any] = {}


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get("DIBS_TEST_DATABASE_URL"):
        return "dibs: Postgres from DIBS_TEST_DATABASE_URL"
    return "dibs: Postgres from testcontainers, pgserver or local binaries (first that works)"


@pytest.fixture(scope="session")
def dibs_server() -> Iterator[TestServer]:
    """A real Postgres server for the whole test session."""
    with temporary_server() as server:
        yield server


@pytest.fixture
def dibs_db_url(dibs_server: TestServer) -> Iterator[str]:
    """URL of a fresh, empty database, dropped after the test."""
    url = dibs_server.create_database()
    try:
        yield url
    finally:
        dibs_server.drop_database(url)


@pytest.fixture
def dibs_conn(dibs_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a fresh, empty database."""
    with psycopg.connect(dibs_db_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def dibs_migrations_dir() -> Path:
    """The project's migrations directory; override it in your conftest.py.

    The default is ``migrations/`` under the working directory.
    """
    return Path.cwd() / "migrations"


@pytest.fixture
def dibs_migrated_db_url(dibs_server: TestServer, dibs_migrations_dir: Path) -> Iterator[str]:
    """URL of a fresh database migrated to the head of ``dibs_migrations_dir``, dropped after."""
    from dibs.migrate import migrate

    url = dibs_server.create_database()
    try:
        migrate(url, dibs_migrations_dir)
        yield url
    finally:
        dibs_server.drop_database(url)
