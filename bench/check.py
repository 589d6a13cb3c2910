"""Benchmark: the pre-commit check, ``dibs check`` against ``alembic check`` and Django's.

Builds three equivalent projects of ``--tables`` tables and ``--migrations``
migrations (the first ``--tables`` migrations each create a table with a
foreign key to the previous one; the rest each add a column to one table):

* dibs: a schema module and a ``migrations/`` directory written by the
  library's own ``draft_migration`` (the code ``dibs generate`` runs);
* Alembic: SQLAlchemy Core models and one revision file per migration;
  ``alembic check`` needs a database, so the revisions are applied to one
  first (not timed);
* Django: one app with the same models and one migration file per
  migration; ``manage.py makemigrations --check --dry-run`` needs none.

Each command is timed as a whole process (Python start-up included), the
median of ``--runs`` runs after one warm-up run. dibs is timed twice: warm
(its fingerprint and parse caches filled, the usual pre-commit case) and
cold (``--no-cache``: every migration parsed, the schema imported).

Usage::

    .venv/bin/python bench/check.py [--url ADMIN_URL] [--runs 7] [--tables 200] [--migrations 500]

Without ``--url`` an embedded server is started for Alembic's database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dibs.autogenerate import CannedQuestioner  # noqa: E402
from dibs.repository.chain import load_chain  # noqa: E402
from dibs.repository.generate import draft_migration, head_schema  # noqa: E402
from dibs.repository.store import next_file_name, write_migration  # noqa: E402
from dibs.schema.canonical import fingerprint  # noqa: E402
from dibs.schema.declare import load_schema  # noqa: E402
from dibs.schema.model import Schema  # noqa: E402

BIN = Path(sys.executable).parent


def _extra(step: int, tables: int) -> tuple[int, str]:
    """The table (index) and column name the ``step``-th add-column migration adds."""
    return step % tables, f"extra_{step}"


# -- dibs -----------------------------------------------------------------------


def dibs_module(tables: int, extras: int) -> str:
    lines = ["from typing import Annotated", "", "import dibs", ""]
    added: dict[int, list[str]] = {}
    for step in range(extras):
        t, name = _extra(step, tables)
        added.setdefault(t, []).append(name)
    for i in range(tables):
        lines += [
            "",
            f'@dibs.table(name="t{i:04d}")',
            f"class T{i:04d}:",
            "    id: Annotated[int, dibs.pk, dibs.identity()]",
        ]
        if i:
            lines.append(f'    parent_id: Annotated[int | None, dibs.fk("t{i - 1:04d}.id")]')
        lines += ["    title: str", "    amount: float | None", "    created: str | None"]
        lines += [f"    {name}: int | None" for name in added.get(i, [])]
    return "\n".join(lines) + "\n"


def _step_schema(final: Schema, tables: int, step: int) -> Schema:
    """The declared schema after migration ``step`` (1-based), cut out of the final one."""
    created = min(step, tables)
    extras = max(step - tables, 0)
    allowed = {f"extra_{s}" for s in range(extras)}
    kept = []
    for table in final.tables:
        if int(table.name[1:]) >= created:
            continue
        cols = tuple(
            c for c in table.columns if not c.name.startswith("extra_") or c.name in allowed
        )
        kept.append(replace(table, columns=cols))
    return Schema.build(tables=kept)


def build_dibs(root: Path, tables: int, migrations: int) -> None:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\n\n[tool.dibs]\nschema = "bench_schema"\n'
    )
    (root / "bench_schema.py").write_text(dibs_module(tables, migrations - tables))
    sys.path.insert(0, str(root))
    final = load_schema(["bench_schema"])
    directory = root / "migrations"
    questioner = CannedQuestioner(default=False)
    for step in range(1, migrations + 1):
        chain = load_chain(directory, check_schema=False)
        target = _step_schema(final, tables, step)
        message = f"create t{step - 1:04d}" if step <= tables else f"add extra {step - tables - 1}"
        draft = draft_migration(chain, head_schema(chain), target, message, questioner=questioner)
        assert draft is not None, step
        write_migration(chain, next_file_name(chain, message), draft.text, draft.schema_json)
    assert load_chain(directory).fingerprint == fingerprint(final)


# -- Alembic --------------------------------------------------------------------


def sqlalchemy_models(tables: int, extras: int) -> str:
    lines = [
        "import sqlalchemy as sa",
        "",
        "metadata = sa.MetaData()",
        "",
    ]
    added: dict[int, list[str]] = {}
    for step in range(extras):
        t, name = _extra(step, tables)
        added.setdefault(t, []).append(name)
    for i in range(tables):
        cols = ['sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)']
        if i:
            cols.append(f'sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("t{i - 1:04d}.id"))')
        cols += [
            'sa.Column("title", sa.Text, nullable=False)',
            'sa.Column("amount", sa.Float)',
            'sa.Column("created", sa.Text)',
        ]
        cols += [f'sa.Column("{n}", sa.BigInteger)' for n in added.get(i, [])]
        lines.append(f'sa.Table("t{i:04d}", metadata, {", ".join(cols)})')
    return "\n".join(lines) + "\n"


_ALEMBIC_ENV = """
from alembic import context
from sqlalchemy import create_engine
from models import metadata

def run_migrations_online():
    engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()

run_migrations_online()
"""


def build_alembic(root: Path, tables: int, migrations: int, url: str) -> None:
    versions = root / "alembic" / "versions"
    versions.mkdir(parents=True)
    (root / "models.py").write_text(sqlalchemy_models(tables, migrations - tables))
    (root / "alembic" / "env.py").write_text(_ALEMBIC_ENV)
    (root / "alembic" / "script.py.mako").write_text("")
    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1).replace("%", "%%")
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = alembic\nprepend_sys_path = .\nsqlalchemy.url = {sa_url}\n"
    )
    parent = "None"
    for step in range(1, migrations + 1):
        rev = f"r{step:04d}"
        if step <= tables:
            i = step - 1
            cols = ['sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True)']
            if i:
                cols.append(
                    f'sa.Column("parent_id", sa.BigInteger, sa.ForeignKey("t{i - 1:04d}.id"))'
                )
            cols += [
                'sa.Column("title", sa.Text, nullable=False)',
                'sa.Column("amount", sa.Float)',
                'sa.Column("created", sa.Text)',
            ]
            body = f'op.create_table("t{i:04d}", {", ".join(cols)})'
        else:
            t, name = _extra(step - tables - 1, tables)
            body = f'op.add_column("t{t:04d}", sa.Column("{name}", sa.BigInteger))'
        (versions / f"{rev}.py").write_text(
            "import sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {rev!r}\ndown_revision = {parent}\n"
            "branch_labels = None\ndepends_on = None\n\n"
            f"def upgrade():\n    {body}\n"
        )
        parent = repr(rev)
    subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"], cwd=root, check=True, capture_output=True
    )


# -- Django ---------------------------------------------------------------------


def django_models(tables: int, extras: int) -> str:
    lines = ["from django.db import models", ""]
    added: dict[int, list[str]] = {}
    for step in range(extras):
        t, name = _extra(step, tables)
        added.setdefault(t, []).append(name)
    for i in range(tables):
        lines += [
            "",
            f"class T{i:04d}(models.Model):",
            "    id = models.BigAutoField(primary_key=True)",
        ]
        if i:
            lines.append(
                f'    parent = models.ForeignKey("T{i - 1:04d}", null=True,'
                " on_delete=models.DO_NOTHING)"
            )
        lines += [
            "    title = models.TextField()",
            "    amount = models.FloatField(null=True)",
            "    created = models.TextField(null=True)",
        ]
        lines += [f"    {n} = models.BigIntegerField(null=True)" for n in added.get(i, [])]
        lines += ["", "    class Meta:", f'        db_table = "t{i:04d}"']
    return "\n".join(lines) + "\n"


def build_django(root: Path, tables: int, migrations: int) -> None:
    app = root / "app"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "models.py").write_text(django_models(tables, migrations - tables))
    (root / "settings.py").write_text(
        'SECRET_KEY = "bench"\nINSTALLED_APPS = ["app"]\n'
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}\n'
        'DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"\nUSE_TZ = True\n'
    )
    (root / "manage.py").write_text(
        "import os, sys\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'settings')\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    parent = None
    for step in range(1, migrations + 1):
        name = f"{step:04d}_m"
        if step <= tables:
            i = step - 1
            fields = ['("id", models.BigAutoField(primary_key=True, serialize=False))']
            fields += [
                '("title", models.TextField())',
                '("amount", models.FloatField(null=True))',
                '("created", models.TextField(null=True))',
            ]
            if i:
                fields.append(
                    '("parent", models.ForeignKey(null=True,'
                    " on_delete=django.db.models.deletion.DO_NOTHING,"
                    f' to="app.t{i - 1:04d}"))'
                )
            op = (
                f'migrations.CreateModel(name="T{i:04d}", fields=[{", ".join(fields)}],'
                f' options={{"db_table": "t{i:04d}"}})'
            )
        else:
            t, col = _extra(step - tables - 1, tables)
            op = (
                f'migrations.AddField(model_name="t{t:04d}", name="{col}",'
                " field=models.BigIntegerField(null=True))"
            )
        deps = f'[("app", "{parent}")]' if parent else "[]"
        (app / "migrations" / f"{name}.py").write_text(
            "import django.db.models.deletion\nfrom django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    initial = {step == 1}\n    dependencies = {deps}\n    operations = [{op}]\n"
        )
        parent = name


# -- timing -----------------------------------------------------------------------


def median_process(args: list[str], cwd: Path, runs: int, expect: int = 0) -> float:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "0"}
    env.pop("DATABASE_URL", None)

    def once() -> float:
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != expect:
            raise SystemExit(
                f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return elapsed

    once()
    return statistics.median(once() for _ in range(runs))


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from dibs.testing import temporary_server

    with temporary_server() as srv:
        yield str(srv.url)


def database(admin_url: str) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    from introspect import database as scratch  # type: ignore[import-not-found]

    return str(scratch(admin_url, "check"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="admin URL of a server (for alembic check's database)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--migrations", type=int, default=500)
    args = parser.parse_args()
    assert args.migrations >= args.tables
    work = Path(tempfile.mkdtemp(prefix="dibs-bench-check-"))
    try:
        with server(args.url) as admin:
            t0 = time.perf_counter()
            build_dibs(work / "dibs", args.tables, args.migrations)
            build_alembic(work / "alembic", args.tables, args.migrations, database(admin))
            build_django(work / "django", args.tables, args.migrations)
            print(
                f"built {args.tables} tables / {args.migrations} migrations per tool "
                f"in {time.perf_counter() - t0:.0f} s; median of {args.runs} runs (whole process)"
            )
            py = sys.executable
            dibs_warm = median_process(
                [py, "-m", "dibs.cli.main", "check"], work / "dibs", args.runs
            )
            dibs_cold = median_process(
                [py, "-m", "dibs.cli.main", "check", "--no-cache"], work / "dibs", args.runs
            )
            alembic = median_process([str(BIN / "alembic"), "check"], work / "alembic", args.runs)
            django = median_process(
                [py, "manage.py", "makemigrations", "--check", "--dry-run"],
                work / "django",
                args.runs,
            )
            python = median_process([py, "-c", "pass"], work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        ("dibs check (warm cache)", dibs_warm),
        ("dibs check --no-cache", dibs_cold),
        ("alembic check", alembic),
        ("django makemigrations --check", django),
        ("python -c pass (start-up)", python),
    ]
    print(f"{'command':<34}{'median':>10}{'vs dibs warm':>14}{'vs dibs cold':>14}")
    for label, seconds in rows:
        print(
            f"{label:<34}{seconds * 1000:>8.0f}ms{seconds / dibs_warm:>13.1f}x"
            f"{seconds / dibs_cold:>13.1f}x"
        )


if __name__ == "__main__":
    main()
