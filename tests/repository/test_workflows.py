"""The repository's acceptance workflows, in real git repositories with the shop schema.

Each test drives the real CLI and real git (the hook installed by
``hooks/install.sh`` runs on ``git commit``) and replays migrations on the
test server with ``dibs verify --dev-url``.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import psycopg

from tests.repository.conftest import REPO_ROOT, Project

WAREHOUSE_NAME = '    name: str\n\n\n@dibs.table(\n    schema="shop",\n    name="stock"'


def _install_hook(project: Project) -> None:
    result = subprocess.run(
        ["sh", str(REPO_ROOT / "hooks" / "install.sh")],
        cwd=project.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (project.root / ".git" / "hooks" / "pre-commit").exists()


def test_drift_blocks_the_commit_until_a_migration_is_generated(project: Project) -> None:
    _install_hook(project)
    project.edit_schema(
        WAREHOUSE_NAME, WAREHOUSE_NAME.replace("name: str", "name: str\n    city: str | None", 1)
    )
    blocked = project.commit("add city")
    assert blocked.returncode != 0
    assert "schema code drifted from migrations" in blocked.stderr
    assert "add column warehouses.city text" in blocked.stderr
    generated = project.dibs("generate", "add city")
    assert generated.code == 0, generated.stderr
    assert (project.migrations / "0002_add_city.sql").exists()
    assert "ALTER TABLE shop.warehouses ADD COLUMN city text;" in generated.stdout
    passed = project.commit("add city")
    assert passed.returncode == 0, passed.stderr
    assert project.git("status", "--porcelain").stdout == ""


def test_the_hook_checks_staged_files_not_the_working_tree(project: Project) -> None:
    _install_hook(project)
    project.edit_schema(
        WAREHOUSE_NAME, WAREHOUSE_NAME.replace("name: str", "name: str\n    city: str | None", 1)
    )
    assert project.dibs("generate", "add city").code == 0
    project.git("add", "migrations")  # the migration is staged, the schema change is not
    blocked = project.git("commit", "-q", "-m", "migration only", check=False)
    assert blocked.returncode != 0
    assert "schema code drifted" in blocked.stderr


def test_editing_an_old_migration_is_blocked_naming_the_file(project: Project) -> None:
    _install_hook(project)
    project.edit_schema(
        WAREHOUSE_NAME, WAREHOUSE_NAME.replace("name: str", "name: str\n    city: str | None", 1)
    )
    assert project.dibs("generate", "add city").code == 0
    assert project.commit("add city").returncode == 0
    first = project.migrations / "0001_initial.sql"
    first.write_text(first.read_text().replace("CREATE SCHEMA audit;", "CREATE SCHEMA audit2;"))
    blocked = project.commit("sneaky edit")
    assert blocked.returncode != 0
    assert "0001_initial.sql was edited after it was generated" in blocked.stderr
    assert "alters what it does" in blocked.stderr
    check = project.dibs("check")
    assert check.code == 2
    assert "0002_add_city.sql" not in check.stderr  # only the edited file is named


def test_a_cosmetic_edit_is_reported_as_cosmetic(project: Project) -> None:
    first = project.migrations / "0001_initial.sql"
    first.write_text(first.read_text().replace("CREATE SCHEMA audit;", "CREATE   SCHEMA audit ;"))
    check = project.dibs("check")
    assert check.code == 2
    assert "0001_initial.sql was edited" in check.stderr
    assert "cosmetic" in check.stderr


def test_branches_conflict_in_the_lock_and_rebase_makes_a_verified_chain(
    project: Project,
) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.edit_schema(
        WAREHOUSE_NAME, WAREHOUSE_NAME.replace("name: str", "name: str\n    region: str | None", 1)
    )
    assert project.dibs("generate", "add region").code == 0
    assert project.commit("region").returncode == 0
    project.git("checkout", "-q", "main")
    project.edit_schema(
        "    slug: Annotated[str, dibs.varchar(64), dibs.unique]\n",
        "    slug: Annotated[str, dibs.varchar(64), dibs.unique]\n    position: int | None\n",
    )
    assert project.dibs("generate", "add position").code == 0
    assert project.commit("position").returncode == 0
    project.git("checkout", "-q", "feature")
    merge = project.git("merge", "main", check=False)
    assert merge.returncode != 0
    assert "CONFLICT (content): Merge conflict in migrations/dibs.lock" in merge.stdout
    refused = project.dibs("generate", "more")
    assert refused.code == 2 and "conflict markers" in refused.stderr
    rebased = project.dibs("rebase")
    assert rebased.code == 0, rebased.stderr
    names = sorted(p.name for p in project.migrations.glob("*.sql"))
    assert names == [
        "0001_initial.sql",
        "0002_add_position.sql",
        "0003_add_region.sql",
    ]
    main_position = project.git("show", "main:migrations/0002_add_position.sql").stdout
    assert (project.migrations / "0002_add_position.sql").read_text() == main_position
    region = (project.migrations / "0003_add_region.sql").read_text()
    assert "ADD COLUMN region text" in region and "position" not in region
    assert project.dibs("check").code == 0
    verify = project.dibs("verify", "--dev-url", project.server_url)
    assert verify.code == 0, verify.stdout + verify.stderr
    assert project.commit("merge main").returncode == 0


def test_a_crlf_checkout_verifies(project: Project) -> None:
    project.git("config", "core.autocrlf", "true")
    for path in project.migrations.glob("*.sql"):
        path.unlink()
    (project.migrations / "dibs.lock").unlink()
    project.git("checkout", "--", ".")
    text = (project.migrations / "0001_initial.sql").read_bytes()
    assert b"\r\n" in text
    assert project.dibs("check").code == 0
    verify = project.dibs("verify", "--dev-url", project.server_url)
    assert verify.code == 0, verify.stdout + verify.stderr


def test_log_answers_which_migration_introduced_a_column(project: Project) -> None:
    project.edit_schema(
        WAREHOUSE_NAME, WAREHOUSE_NAME.replace("name: str", "name: str\n    city: str | None", 1)
    )
    assert project.dibs("generate", "add city").code == 0
    log = project.dibs("log", "warehouses.city")
    assert log.code == 0
    assert "add city" in log.stdout and "add column warehouses.city text" in log.stdout
    assert "initial" not in log.stdout
    whole = project.dibs("log", "--format", "json", "shop.warehouses")
    assert [e["file"] for e in json.loads(whole.stdout)] == [
        "0002_add_city.sql",
        "0001_initial.sql",
    ]


def test_generate_with_nothing_to_do_writes_nothing(project: Project) -> None:
    before = sorted(p.name for p in project.migrations.iterdir())
    result = project.dibs("generate", "again")
    assert result.code == 0
    assert "nothing to do" in result.stderr
    assert sorted(p.name for p in project.migrations.iterdir()) == before


def test_dropping_a_column_needs_explicit_consent(project: Project) -> None:
    project.edit_schema(WAREHOUSE_NAME, WAREHOUSE_NAME.replace("    name: str\n", "", 1))
    refused = project.dibs("generate", "drop name")
    assert refused.code == 2
    assert "would lose data" in refused.stderr and "drop column warehouses.name" in refused.stderr
    assert not (project.migrations / "0002_drop_name.sql").exists()
    allowed = project.dibs("generate", "drop name", "--allow-data-loss")
    assert allowed.code == 0, allowed.stderr
    text = (project.migrations / "0002_drop_name.sql").read_text()
    assert "--    hazard: data loss" in text


def test_hand_written_migration_seal_and_verify(project: Project) -> None:
    created = project.dibs("generate", "--empty", "backfill")
    assert created.code == 0, created.stderr
    path = project.migrations / "0002_backfill.sql"
    path.write_text(
        path.read_text() + "CREATE INDEX warehouses_name_idx ON shop.warehouses (name);\n"
    )
    edited = project.dibs("check")
    assert edited.code == 2 and "0002_backfill.sql was edited" in edited.stderr
    sealed = project.dibs("seal", "--replay", "--dev-url", project.server_url)
    assert sealed.code == 0, sealed.stderr
    # The index is now part of the head schema, so the code (without it) drifted.
    drift = project.dibs("check")
    assert drift.code == 1 and "drop index warehouses_name_idx" in drift.stderr
    verify = project.dibs("verify", "--dev-url", project.server_url)
    assert verify.code == 1  # the chain replays fine; only the code differs
    assert "FAIL" not in verify.stdout


def test_a_rename_says_why_in_the_migration(project: Project) -> None:
    unrelated = WAREHOUSE_NAME.replace("name: str", "title: str", 1)
    project.edit_schema(WAREHOUSE_NAME, unrelated)
    guarded = project.dibs("generate", "retitle")
    assert guarded.code == 2  # not similar enough to propose: drop + add, which loses data
    assert "would lose data" in guarded.stderr and "drop column warehouses.name" in guarded.stderr
    project.edit_schema(unrelated, WAREHOUSE_NAME.replace("name: str", "display_name: str", 1))
    undecided = project.dibs("generate", "rename")
    assert undecided.code == 2
    assert "--rename shop.warehouses.name=display_name" in undecided.stderr
    decided = project.dibs("generate", "rename", "--rename", "shop.warehouses.name=display_name")
    assert decided.code == 0, decided.stderr
    text = (project.migrations / "0002_rename.sql").read_text()
    assert (
        "-- 1. rename column warehouses.name to display_name\n--    why: decided with --rename"
        in text
    )
    assert "RENAME COLUMN name TO display_name" in text
    assert "DROP COLUMN" not in text
    project.edit_schema(
        "    display_name: str\n", '    label: Annotated[str, dibs.renamed_from("display_name")]\n'
    )
    hinted = project.dibs("generate", "relabel")
    assert hinted.code == 0, hinted.stderr
    text = (project.migrations / "0003_relabel.sql").read_text()
    assert "--    why: renamed_from hint in the schema code" in text


def test_check_reports_hazards_of_migrations_added_since_the_merge_base(
    project: Project,
) -> None:
    project.git("checkout", "-q", "-b", "feature")
    project.edit_schema(WAREHOUSE_NAME, WAREHOUSE_NAME.replace("    name: str\n", "", 1))
    assert project.dibs("generate", "drop name", "--allow-data-loss").code == 0
    report = project.dibs("check", "--format", "json")
    assert report.code == 0
    hazards = json.loads(report.stdout)["hazards"]
    assert hazards == [{"file": "0002_drop_name.sql", "hazards": ["data loss"]}]
    text = project.dibs("check")
    assert "hazard 0002_drop_name.sql: data loss" in text.stderr
    assert project.commit("drop").returncode == 0
    # Against the branch itself nothing is new.
    assert (
        json.loads(project.dibs("check", "--format", "json", "--base", "feature").stdout)["hazards"]
        == []
    )


def test_check_with_a_database_and_generate_from_it(project: Project, dibs_server: Any) -> None:
    url = dibs_server.create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute((project.migrations / "0001_initial.sql").read_text().encode())
    assert project.dibs("check", "-d", url).code == 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE shop.warehouses ADD COLUMN manual_note text")
    drifted = project.dibs("check", "-d", url)
    assert drifted.code == 1
    assert "the live database differs from the head migration" in drifted.stderr
    assert "add column warehouses.manual_note text" in drifted.stderr
    # --from-db diffs that database against the code: it proposes dropping the column.
    from_db = project.dibs("generate", "cleanup", "--from-db", "-d", url, "--allow-data-loss")
    assert from_db.code == 0, from_db.stderr
    text = (project.migrations / "0002_cleanup.sql").read_text()
    assert "ALTER TABLE shop.warehouses DROP COLUMN manual_note;" in text
