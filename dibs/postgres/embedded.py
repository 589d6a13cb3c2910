"""The project-local Postgres under ``.dibs/``: used when no database URL is configured.

pgserver (an embedded Postgres from PyPI, ``pip install 'dibs[embedded]'``)
runs it; without pgserver the local PostgreSQL binaries (``initdb``,
``pg_ctl``) are used, as user ``postgres`` when dibs runs as root (Postgres
refuses to run as root). The server listens on a Unix socket only, is started
on demand, and keeps running between commands so each command does not pay
for a start-up; ``dibs db stop`` stops it. User data lives in the database
``dibs``, not in the maintenance database.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dibs.errors import ConfigError

__all__ = ["EmbeddedStatus", "start", "start_local_cluster", "status", "stop", "url"]

DATABASE = "dibs"


@dataclass(frozen=True, slots=True)
class EmbeddedStatus:
    running: bool
    data_dir: Path
    url: str | None
    engine: str

    def __str__(self) -> str:
        state = "running" if self.running else "stopped"
        text = f"embedded Postgres ({self.engine}) {state}, data in {self.data_dir}"
        return text + (f"\nurl: {self.url}" if self.url else "")


def _dibs_dir(root: Path) -> Path:
    from dibs.config import private_dir

    return private_dir(root)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Serialise start/stop between processes (two commands started at once)."""
    with open(_dibs_dir(root) / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pgserver() -> Any:
    """Import pgserver quietly (platformdirs warns when XDG_RUNTIME_DIR is unset)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


def _has_pgserver() -> bool:
    try:
        _pgserver()
    except ImportError:
        return False
    return True


def _ensure_database(admin_url: str, target: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone()
        if not found:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))


def with_database(url: str, database: str) -> str:
    """Return ``url`` pointing at ``database`` on the same server."""
    from psycopg import conninfo

    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = database
    return conninfo.make_conninfo("", **params)


def _start_pgserver(data_dir: Path) -> str:
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        server = _pgserver().get_server(data_dir, cleanup_mode=None)
    return str(server.get_uri())


def _run_as_postgres(args: list[str]) -> None:
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, text=True)


def start_local_cluster(data_dir: Path, socket_dir: Path) -> str:
    """Start (initialising if needed) a cluster with the local binaries; return its URL.

    Raises:
        ConfigError: neither pgserver nor the PostgreSQL binaries are available.
    """
    if shutil.which("pg_ctl") is None or shutil.which("initdb") is None:
        raise ConfigError(
            "no embedded Postgres: pgserver is not installed and initdb/pg_ctl are not on PATH",
            hint="pip install 'dibs[embedded]', or set DATABASE_URL / -d to a server",
        )
    for folder in (data_dir.parent, socket_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(socket_dir, "postgres")
        if not data_dir.exists():
            data_dir.mkdir()
            shutil.chown(data_dir, "postgres")
    if not (data_dir / "PG_VERSION").exists():
        _run_as_postgres(
            [
                "initdb",
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ]
        )
    if not _running(data_dir):
        # A postmaster.pid left by a machine restart names a dead process;
        # pg_ctl removes it itself once it sees the process is gone.
        _run_as_postgres(
            [
                "pg_ctl",
                "-D",
                str(data_dir),
                "-w",
                "-l",
                str(data_dir / "log"),
                "-o",
                f"-h '' -k {socket_dir} -c fsync=off",
                "start",
            ]
        )
    return f"postgresql://postgres@/postgres?host={socket_dir}"


def _socket_dir(root: Path) -> Path:
    import hashlib

    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path("/tmp") / f"dibs-{digest}"


def _engine() -> str:
    return "pgserver" if _has_pgserver() else "local binaries"


def start(root: Path) -> str:
    """Start the project's embedded server if needed; return the URL of database ``dibs``."""
    data_dir = _dibs_dir(root) / "pgdata"
    with _locked(root):
        if _has_pgserver():
            admin = _start_pgserver(data_dir)
        else:
            admin = start_local_cluster(data_dir, _socket_dir(root))
        _ensure_database(admin, DATABASE)
    return with_database(admin, DATABASE)


def url(root: Path) -> str:
    """Return the embedded server's URL (starting it if needed)."""
    return start(root)


def _running(data_dir: Path) -> bool:
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return False
    return True


def status(root: Path) -> EmbeddedStatus:
    """Report whether the embedded server runs, without starting it."""
    data_dir = root / ".dibs" / "pgdata"
    running = _running(data_dir)
    link = None
    if running:
        link = start(root)
    return EmbeddedStatus(running=running, data_dir=data_dir, url=link, engine=_engine())


def stop(root: Path) -> bool:
    """Stop the embedded server (fast shutdown); return whether it was running.

    The postmaster is signalled directly (SIGINT = "fast" shutdown, as
    ``pg_ctl stop -m fast`` does), which works whichever engine started it.
    """
    import signal
    import time

    data_dir = root / ".dibs" / "pgdata"
    if not _running(data_dir):
        return False
    with _locked(root):
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while _running(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
    return True
