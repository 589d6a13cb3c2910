"""Benchmark: applying N small migrations with dibs, psql and Alembic, in one run.

The same SQL (N migrations of one CREATE TABLE, one ALTER TABLE and one
CREATE INDEX each) is applied to three fresh databases on one server:

* ``dibs migrate`` (the CLI, one process): advisory lock, ledger, drift
  check, one transaction per migration with its ledger row;
* ``psql -1 -f all.sql``: the concatenated SQL in a single transaction, no
  bookkeeping at all (the floor);
* ``psql -f each.sql``: the same with ``BEGIN``/``COMMIT`` around each
  migration, the atomicity dibs gives (for context);
* ``alembic upgrade head`` over N revisions that each ``op.execute`` the
  same SQL (``transaction_per_migration`` off, Alembic's default).

Every tool runs as a process, so each pays its interpreter start-up; the
dibs API time (no start-up) is printed too. The recorded fingerprints come
from a scratch database where each migration was applied and introspected,
as ``dibs generate`` would record them (that setup is not timed).

Usage::

    .venv/bin/python bench/migrate.py [--url ADMIN_URL] [--count 200] [--runs 3]

``--url`` defaults to $DIBS_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import conninfo

from dibs.testing import TestServer

HERE = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def migration_sql(n: int) -> str:
    return (
        f"CREATE TABLE t{n} (id bigint PRIMARY KEY, name text NOT NULL);\n"
        f"ALTER TABLE t{n} ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();\n"
        f"CREATE INDEX t{n}_name ON t{n} (name);\n"
    )


def build_dibs_repo(server: TestServer, root: Path, count: int) -> None:
    from dibs.migrate.ledger import live_fingerprint, live_schema
    from dibs.repository.lock import render_lock
    from dibs.repository.migration import ROOT, content_id, render_migration
    from dibs.schema.canonical import to_json

    migrations = root / "migrations"
    migrations.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "b"\nversion = "0"\n[tool.dibs]\n')
    scratch = server.create_database()
    entries: list[tuple[str, str]] = []
    parent, fp = ROOT, ""
    try:
        with psycopg.connect(scratch, autocommit=True) as conn:
            for n in range(1, count + 1):
                body = migration_sql(n)
                conn.execute(body.encode())
                fp = live_fingerprint(conn)
                text = render_migration(parent=parent, fingerprint=fp, message=f"t{n}", body=body)
                name = f"{n:04d}_t{n}.sql"
                (migrations / name).write_text(text)
                parent = content_id(text)
                entries.append((name, parent))
            (migrations / "schema.json").write_text(to_json(live_schema(conn)))
    finally:
        server.drop_database(scratch)
    (migrations / "dibs.lock").write_text(render_lock(entries, fp))


_ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
with create_engine(url).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def build_alembic(root: Path, count: int) -> None:
    versions = root / "versions"
    versions.mkdir(parents=True)
    (root / "env.py").write_text(_ENV_PY)
    (root / "script.py.mako").write_text("")
    previous = None
    for n in range(1, count + 1):
        rev = f"r{n:04d}"
        (versions / f"{rev}.py").write_text(
            f"from alembic import op\n\nrevision = {rev!r}\ndown_revision = {previous!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n    op.execute({migration_sql(n)!r})\n"
        )
        previous = rev


def alembic_ini(root: Path, url: str) -> Path:
    params = conninfo.conninfo_to_dict(url)
    host = params.get("host", "")
    user = params.get("user", "postgres")
    port = params.get("port", "5432")
    db = params["dbname"]
    if str(host).startswith("/"):
        sa_url = f"postgresql+psycopg://{user}@/{db}?host={host}&port={port}"
    else:
        sa_url = f"postgresql+psycopg://{user}@{host}:{port}/{db}"
    ini = root / f"alembic-{db}.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {root}\nsqlalchemy.url = {sa_url.replace('%', '%%')}\n"
    )
    return ini


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def check(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env={**os.environ})


def _discard(_: object) -> None:
    """Drop a result: the tools are timed, their results are not needed."""


def one_run(server: TestServer, work: Path, count: int, turn: int) -> dict[str, float]:
    """Time every tool once, each on its own fresh database.

    Before each timing the server is checkpointed (creating databases and the
    previous tool's work leave dirty buffers that would otherwise be flushed
    during the next tool's run), and the order rotates between runs so no tool
    always goes first or last.
    """
    from dibs.migrate import migrate

    def psql(script: str, *, single: bool) -> Callable[[str], None]:
        flags = ["-1"] if single else []
        return lambda url: check(
            [
                "psql",
                "-q",
                "-X",
                *flags,
                "-v",
                "ON_ERROR_STOP=1",
                "-f",
                str(work / script),
                "-d",
                url,
            ]
        )

    tools: dict[str, Callable[[str], None]] = {
        "psql -1 -f": psql("all.sql", single=True),
        "psql -f (BEGIN/COMMIT each)": psql("each.sql", single=False),
        "dibs migrate (CLI)": lambda url: check(
            [sys.executable, "-m", "dibs.cli.main", "migrate", "-d", url, "--format", "json"],
            cwd=work / "dibs",
        ),
        "alembic upgrade head": lambda url: check(
            [
                str(VENV_BIN / "alembic"),
                "-c",
                str(alembic_ini(work / "alembic", url)),
                "upgrade",
                "head",
            ]
        ),
        "dibs.migrate.migrate (API)": lambda url: _discard(
            migrate(url, work / "dibs" / "migrations")
        ),
    }
    names = list(tools)
    shift = turn % len(names)
    order = names[shift:] + names[:shift]
    times: dict[str, float] = {}
    for name in order:
        url = server.create_database()
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CHECKPOINT")
            times[name] = timed(lambda: tools[name](url))  # noqa: B023 - called at once
        finally:
            server.drop_database(url)
    return {name: times[name] for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DIBS_TEST_DATABASE_URL"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.url:
        parser.error("pass --url or set DIBS_TEST_DATABASE_URL")
    server = TestServer(args.url, "bench")
    work = Path(tempfile.mkdtemp(prefix="dibs-bench-migrate-"))
    try:
        build_dibs_repo(server, work / "dibs", args.count)
        build_alembic(work / "alembic", args.count)
        (work / "all.sql").write_text("".join(migration_sql(n) for n in range(1, args.count + 1)))
        (work / "each.sql").write_text(
            "".join(f"BEGIN;\n{migration_sql(n)}COMMIT;\n" for n in range(1, args.count + 1))
        )
        runs = [one_run(server, work, args.count, turn) for turn in range(args.runs)]
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(r["psql -1 -f"] for r in runs)
    print(f"{args.count} migrations, median of {args.runs} runs (wall time, one process each)")
    for name in runs[0]:
        median = statistics.median(r[name] for r in runs)
        print(f"  {name:<28} {median * 1000:8.0f} ms   {median / floor:5.2f}x psql")


if __name__ == "__main__":
    main()
