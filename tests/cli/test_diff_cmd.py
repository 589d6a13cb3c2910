"""``dibs diff`` through the real CLI against real Postgres: exit codes, output, renames."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.cli.conftest import Result, Runner, write_project

USERS = """
from typing import Annotated
import dibs

@dibs.table(name="users")
class User:
    id: Annotated[int, dibs.pk, dibs.identity()]
    email: str
"""

USERS_WITH_NICKNAME = USERS + "    nickname: str | None\n"

USERS_RENAMED = USERS.replace("email: str", "display_name: str")


def _execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for stmt in statements:
            conn.execute(stmt.encode())


def _apply_declared(run_dibs: Runner, project: Path, url: str) -> None:
    result = run_dibs("sql", "--apply", "-d", url, cwd=project)
    assert result.code == 0, result.stderr


def _expect(result: Result, code: int) -> Result:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def second_db_url(dibs_server: Any) -> Iterator[str]:
    """Another empty database on the same server, for ``--from/--to``."""
    url: str = dibs_server.create_database()
    try:
        yield url
    finally:
        dibs_server.drop_database(url)


def test_in_sync_exits_zero(tmp_path: Path, run_dibs: Runner, dibs_db_url: str) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    result = _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 0)
    assert "in sync" in result.stdout
    data = json.loads(
        _expect(run_dibs("diff", "-d", dibs_db_url, "--format", "json", cwd=project), 0).stdout
    )
    assert data == {"in_sync": True, "operations": [], "unmanaged_differences": []}


def test_missing_column_summary_then_sql_fixes_it(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    write_project(project, USERS_WITH_NICKNAME)

    summary = _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 1)
    lines = summary.stdout.splitlines()
    assert lines[0].strip() == "users", summary.stdout
    assert any("added" in line and "nickname" in line for line in lines), summary.stdout

    script = _expect(run_dibs("diff", "-d", dibs_db_url, "--sql", cwd=project), 1).stdout
    assert "ADD COLUMN" in script and "nickname" in script, script
    _execute(dibs_db_url, script)
    _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 0)


def test_json_lists_the_operation(tmp_path: Path, run_dibs: Runner, dibs_db_url: str) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    write_project(project, USERS_WITH_NICKNAME)
    result = _expect(run_dibs("diff", "-d", dibs_db_url, "--format", "json", cwd=project), 1)
    data = json.loads(result.stdout)
    assert data["in_sync"] is False
    [op] = data["operations"]
    assert op["op"] == "AddColumn"
    assert "nickname" in op["description"]
    assert len(op["sql"]) == 1 and "ADD COLUMN" in op["sql"][0]


def test_dropped_column_shows_data_loss_hazard(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS_WITH_NICKNAME)
    _apply_declared(run_dibs, project, dibs_db_url)
    write_project(project, USERS)
    summary = _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 1).stdout
    assert "dropped" in summary and "nickname" in summary and "data loss" in summary
    script = _expect(run_dibs("diff", "-d", dibs_db_url, "--sql", cwd=project), 1).stdout
    hazard_at = script.index("-- hazard: data loss")
    assert hazard_at < script.index("DROP COLUMN"), script


def test_rename_candidate_without_flags_fails_closed(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    _execute(dibs_db_url, 'ALTER TABLE users RENAME COLUMN email TO "name"')
    write_project(project, USERS_RENAMED)
    result = _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 2)
    assert "--rename users.name=display_name" in result.stderr, result.stderr
    assert "--no-rename users.name" in result.stderr


def test_rename_flag_renders_rename_column(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    _execute(dibs_db_url, 'ALTER TABLE users RENAME COLUMN email TO "name"')
    write_project(project, USERS_RENAMED)
    args = ("diff", "-d", dibs_db_url, "--sql", "--rename", "users.name=display_name")
    script = _expect(run_dibs(*args, cwd=project), 1).stdout
    assert "RENAME COLUMN" in script and "DROP COLUMN" not in script, script
    _execute(dibs_db_url, script)
    _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 0)

    # --no-rename: drop + add instead, with the data-loss hazard named
    _execute(dibs_db_url, 'ALTER TABLE users RENAME COLUMN display_name TO "name"')
    args = ("diff", "-d", dibs_db_url, "--sql", "--no-rename", "users.name")
    script = _expect(run_dibs(*args, cwd=project), 1).stdout
    assert "RENAME COLUMN" not in script and "DROP COLUMN" in script, script


def test_from_to_between_two_databases(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str, second_db_url: str
) -> None:
    _execute(dibs_db_url, "CREATE TABLE items (id bigint PRIMARY KEY)")
    _execute(second_db_url, "CREATE TABLE items (id bigint PRIMARY KEY, label text)")
    # no pyproject here: --from/--to needs no project
    args = ("diff", "--from", dibs_db_url, "--to", second_db_url)
    summary = _expect(run_dibs(*args, cwd=tmp_path), 1).stdout
    assert "items" in summary and "label" in summary
    script = _expect(run_dibs(*args, "--sql", cwd=tmp_path), 1).stdout
    _execute(dibs_db_url, script)
    _expect(run_dibs(*args, cwd=tmp_path), 0)


def test_unmanaged_difference_fails_unless_ignored(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str, second_db_url: str
) -> None:
    for url in (dibs_db_url, second_db_url):
        _execute(url, "CREATE TABLE items (id bigint PRIMARY KEY)")
    _execute(second_db_url, "CREATE VIEW item_ids AS SELECT id FROM items")
    args = ("diff", "--from", dibs_db_url, "--to", second_db_url)
    failed = _expect(run_dibs(*args, cwd=tmp_path), 2)
    assert "item_ids" in failed.stderr and "only in --to" in failed.stderr
    assert "--ignore-unmanaged" in failed.stderr
    ignored = run_dibs(*args, "--ignore-unmanaged", cwd=tmp_path)
    assert ignored.code in (0, 1), ignored.stderr
    assert "item_ids" in ignored.stdout


def test_table_inheritance_is_reported_and_its_tables_are_left_alone(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str, second_db_url: str
) -> None:
    """``INHERITS`` is not in the model: dibs names it, and stops a plan that would
    change an inherited shape (a column dropped on the parent goes from the child too,
    which a plan blind to inheritance would not expect), with exit 2."""
    for url in (dibs_db_url, second_db_url):
        _execute(
            url,
            "CREATE TABLE base (created_at timestamptz, e integer)",
            "CREATE TABLE child (a1 integer) INHERITS (base)",
        )
    _execute(second_db_url, "ALTER TABLE base DROP COLUMN e", "ALTER TABLE child ADD COLUMN e int")
    args = ("diff", "--from", dibs_db_url, "--to", second_db_url, "--sql")
    failed = _expect(run_dibs(*args, cwd=tmp_path), 2)
    assert "public.child inherits from public.base" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    # Changes that inheritance does not pass on are still planned.
    _execute(dibs_db_url, "ALTER TABLE base ADD COLUMN e2 int")  # reset: same shape both sides
    _execute(second_db_url, "ALTER TABLE base ADD COLUMN e2 int", "ALTER TABLE child DROP COLUMN e")
    _execute(dibs_db_url, "ALTER TABLE base DROP COLUMN e")
    _execute(second_db_url, "CREATE INDEX child_a1_idx ON child (a1)")
    planned = _expect(run_dibs(*args, cwd=tmp_path), 1)
    assert "CREATE INDEX child_a1_idx" in planned.stdout, planned.stdout
    _execute(dibs_db_url, planned.stdout)
    _expect(run_dibs("diff", "--from", dibs_db_url, "--to", second_db_url, cwd=tmp_path), 0)


def test_table_settings_outside_the_model_are_named_not_ignored(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str, second_db_url: str
) -> None:
    """Row level security and replica identity are not in the model; two databases that
    differ only in them are not called equal (they were, silently, before)."""
    for url in (dibs_db_url, second_db_url):
        _execute(url, "CREATE TABLE items (id bigint PRIMARY KEY)")
    args = ("diff", "--from", dibs_db_url, "--to", second_db_url)
    _expect(run_dibs(*args, cwd=tmp_path), 0)
    _execute(second_db_url, "ALTER TABLE items REPLICA IDENTITY FULL")
    failed = _expect(run_dibs(*args, cwd=tmp_path), 2)
    assert "replica identity" in failed.stderr and "items (full)" in failed.stderr
    _execute(dibs_db_url, "ALTER TABLE items REPLICA IDENTITY FULL")
    _execute(second_db_url, "ALTER TABLE items ENABLE ROW LEVEL SECURITY")
    failed = _expect(run_dibs(*args, cwd=tmp_path), 2)
    assert "row level security" in failed.stderr and "items" in failed.stderr
    assert run_dibs(*args, "--ignore-unmanaged", cwd=tmp_path).code == 0
    _execute(dibs_db_url, "ALTER TABLE items ENABLE ROW LEVEL SECURITY")
    _execute(
        second_db_url, "ALTER TABLE items SET UNLOGGED", "ALTER TABLE items SET (fillfactor = 70)"
    )
    failed = _expect(run_dibs(*args, cwd=tmp_path), 2)
    assert "unlogged table" in failed.stderr and "items (fillfactor=70)" in failed.stderr


def test_database_view_is_not_dropped_in_default_mode(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    _execute(dibs_db_url, "CREATE VIEW emails AS SELECT email FROM users")
    result = _expect(run_dibs("diff", "-d", dibs_db_url, "--sql", cwd=project), 0)
    assert "DROP" not in result.stdout
    assert "unmanaged" in result.stderr


def test_bad_url_is_an_error_with_masked_password(tmp_path: Path, run_dibs: Runner) -> None:
    url = "postgresql://bob:s3cret@127.0.0.1:1/db"
    result = _expect(run_dibs("diff", "--from", url, "--to", url, cwd=tmp_path), 2)
    assert result.stderr.startswith("error:"), result.stderr
    assert "s3cret" not in result.stderr and "127.0.0.1" in result.stderr
    project = write_project(tmp_path / "p", USERS)
    result = _expect(run_dibs("diff", "-d", url, cwd=project), 2)
    assert "s3cret" not in result.stderr


def test_bad_flags_are_usage_errors(tmp_path: Path, run_dibs: Runner) -> None:
    project = write_project(tmp_path / "p", USERS)
    result = _expect(run_dibs("diff", "--rename", "users.name", cwd=project), 2)
    assert "--rename" in result.stderr
    result = _expect(run_dibs("diff", "--from", "postgresql://x/y", cwd=project), 2)
    assert "--to" in result.stderr


def test_view_on_changed_table_warns_in_summary_and_refuses_sql(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", USERS_WITH_NICKNAME)
    _apply_declared(run_dibs, project, dibs_db_url)
    _execute(dibs_db_url, "CREATE VIEW nicknames AS SELECT nickname FROM users")
    write_project(project, USERS)
    summary = _expect(run_dibs("diff", "-d", dibs_db_url, cwd=project), 1)
    assert "nickname" in summary.stdout
    assert "warning:" in summary.stderr and "nicknames" in summary.stderr
    refused = _expect(run_dibs("diff", "-d", dibs_db_url, "--sql", cwd=project), 2)
    assert "nicknames" in refused.stderr and "DROP" not in refused.stdout


def _run_on_terminal(args: list[str], cwd: Path, answer: str) -> tuple[int, str, str]:
    """Run the CLI with stdin and stderr on a pseudo-terminal, typing ``answer``."""
    import os
    import pty
    import subprocess
    import sys

    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    os.write(master, answer.encode())
    proc = subprocess.Popen(
        [sys.executable, "-m", "dibs.cli.main", *args],
        cwd=cwd,
        env=env,
        stdin=slave,
        stderr=slave,
        stdout=subprocess.PIPE,
        text=True,
    )
    os.close(slave)
    stdout, _ = proc.communicate(timeout=120)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.returncode, stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize(("answer", "renamed"), [("y\n", True), ("n\n", False)])
def test_terminal_asks_about_the_rename(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str, answer: str, renamed: bool
) -> None:
    project = write_project(tmp_path / "p", USERS)
    _apply_declared(run_dibs, project, dibs_db_url)
    _execute(dibs_db_url, 'ALTER TABLE users RENAME COLUMN email TO "name"')
    write_project(project, USERS_RENAMED)
    code, stdout, terminal = _run_on_terminal(["diff", "-d", dibs_db_url, "--sql"], project, answer)
    assert code == 1, (stdout, terminal)
    assert "Was users.name renamed to users.display_name? [y/N]" in terminal
    assert ("RENAME COLUMN" in stdout) is renamed, stdout
    assert ("DROP COLUMN" in stdout) is not renamed, stdout
