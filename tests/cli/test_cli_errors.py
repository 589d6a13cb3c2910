"""User mistakes reach the user as one clear message and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Runner, write_project

GOOD = """
from typing import Annotated
import dibs

@dibs.table(name="users")
class User:
    id: Annotated[int, dibs.pk, dibs.identity()]
    email: str
"""


def assert_user_error(result: object, *fragments: str) -> None:
    code, stderr = result.code, result.stderr  # type: ignore[attr-defined]
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr, stderr
    assert stderr.startswith("error:"), stderr
    for fragment in fragments:
        assert fragment in stderr, (fragment, stderr)


def test_malformed_url_is_reported_masked(tmp_path: Path, run_dibs: Runner) -> None:
    project = write_project(tmp_path / "p", GOOD)
    result = run_dibs("inspect", "-d", "postgresql://bob:s3cret@", cwd=project)
    assert_user_error(result)
    assert "s3cret" not in result.stderr


def test_unreachable_server_is_reported_masked(tmp_path: Path, run_dibs: Runner) -> None:
    project = write_project(tmp_path / "p", GOOD)
    url = "postgresql://bob:s3cret@127.0.0.1:1/db"
    result = run_dibs("inspect", "-d", url, cwd=project)
    assert_user_error(result, "127.0.0.1")
    assert "s3cret" not in result.stderr and "***" in result.stderr


def test_schema_module_that_fails_to_import(tmp_path: Path, run_dibs: Runner) -> None:
    project = write_project(tmp_path / "p", "import dibs\n\nx = 1 / 0\n")
    result = run_dibs("schema", cwd=project)
    assert_user_error(result, "app_schema.py:3", "ZeroDivisionError")


def test_unsupported_annotation_names_file_and_line(tmp_path: Path, run_dibs: Runner) -> None:
    source = GOOD + "    weird: complex\n"
    project = write_project(tmp_path / "p", source)
    result = run_dibs("sql", cwd=project)
    assert_user_error(result, "app_schema.py:9", "complex")


def test_no_project_configured(tmp_path: Path, run_dibs: Runner) -> None:
    result = run_dibs("schema", cwd=tmp_path)
    assert_user_error(result, "[tool.dibs]")


def test_schema_json_is_canonical_and_sql_prints(tmp_path: Path, run_dibs: Runner) -> None:
    project = write_project(tmp_path / "p", GOOD)
    result = run_dibs("schema", "--format", "json", cwd=project)
    assert result.code == 0, result.stderr
    assert '"format": "dibs-schema/1"' in result.stdout
    sql = run_dibs("sql", cwd=project)
    assert sql.code == 0, sql.stderr
    assert "CREATE TABLE public.users" in sql.stdout


def test_sql_apply_then_inspect_round_trip(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    project = write_project(tmp_path / "p", GOOD)
    applied = run_dibs("sql", "--apply", "-d", dibs_db_url, cwd=project)
    assert applied.code == 0, applied.stderr
    again = run_dibs("sql", "--apply", "-d", dibs_db_url, cwd=project)
    assert again.code == 0 and "already matches" in again.stderr
    inspected = run_dibs("inspect", "-d", dibs_db_url, "--format", "json", cwd=project)
    declared = run_dibs("schema", "--format", "json", cwd=project)
    assert inspected.code == 0, inspected.stderr
    from dibs.schema.canonical import fingerprint, from_json

    assert fingerprint(from_json(inspected.stdout)) == fingerprint(from_json(declared.stdout))


def test_sql_apply_refuses_a_database_that_differs(
    tmp_path: Path, run_dibs: Runner, dibs_db_url: str
) -> None:
    import psycopg

    with psycopg.connect(dibs_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE other_table (id int)")
    project = write_project(tmp_path / "p", GOOD)
    result = run_dibs("sql", "--apply", "-d", dibs_db_url, cwd=project)
    assert_user_error(result, "1 tables")
    with psycopg.connect(dibs_db_url, autocommit=True) as conn:
        found = conn.execute("SELECT to_regclass('users') IS NULL").fetchone()
    assert found == (True,), "nothing may be created when --apply refuses"


def test_deleted_working_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A shell left in a removed checkout gets a message, not a pathlib traceback."""
    import subprocess
    import sys

    gone = tmp_path / "gone"
    gone.mkdir()
    proc = subprocess.run(
        [
            "sh",
            "-c",
            f'cd "{gone}" && rmdir "{gone}" && exec "$0" -m dibs.cli.main check',
            sys.executable,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "current directory no longer exists" in proc.stderr
