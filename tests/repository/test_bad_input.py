"""Every broken repository ``dibs check`` must name: message, file (and line), exit code 2."""

from __future__ import annotations

import json

from dibs.repository.migration import render_migration
from tests.repository.conftest import Project


def _second_migration(project: Project) -> None:
    result = project.dibs("generate", "--empty", "backfill")
    assert result.code == 0, result.stderr


def _check(project: Project) -> tuple[int, str, dict[str, object]]:
    text = project.dibs("check")
    as_json = project.dibs("check", "--format", "json")
    assert as_json.code == text.code
    return text.code, text.stderr, json.loads(as_json.stdout)


def test_invalid_sql_names_file_line_and_column(project: Project) -> None:
    _second_migration(project)
    path = project.migrations / "0002_backfill.sql"
    lines = path.read_text().splitlines()
    lines.append("UPDATE shop.products SET price = price * 2 WHERE;")
    path.write_text("\n".join(lines) + "\n")
    project.dibs("seal")
    code, err, data = _check(project)
    assert code == 2
    line = len(lines)
    column = lines[-1].index(";") + 1
    assert f"migrations/0002_backfill.sql:{line}:{column}" in err
    assert "syntax error" in err
    assert data["syntax_errors"] == [
        {
            "file": str(path),
            "line": line,
            "column": column,
            "message": 'syntax error at or near ";"',
        }
    ]


def test_truncated_header(project: Project) -> None:
    path = project.migrations / "0001_initial.sql"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3]) + "\n")
    code, err, data = _check(project)
    assert code == 2
    assert (
        "migrations/0001_initial.sql:4: migration header is truncated: no message, transaction"
        in err
    )
    assert [p["kind"] for p in data["problems"]] == ["header"]  # type: ignore[union-attr]


def test_conflict_markers_in_the_lock(project: Project) -> None:
    lock = project.migrations / "dibs.lock"
    lines = lock.read_text().splitlines()
    lock.write_text(
        "\n".join([*lines[:2], "<<<<<<< HEAD", *lines[2:], "=======", ">>>>>>> main"]) + "\n"
    )
    code, err, _ = _check(project)
    assert code == 2
    assert "migrations/dibs.lock:3: dibs.lock has git conflict markers" in err
    assert "dibs rebase" in err


def test_a_file_named_in_the_lock_is_missing(project: Project) -> None:
    _second_migration(project)
    (project.migrations / "0002_backfill.sql").unlink()
    code, err, _ = _check(project)
    assert code == 2
    assert "0002_backfill.sql is named in dibs.lock but the file is missing" in err


def test_a_migration_file_not_in_the_lock(project: Project) -> None:
    stray = project.migrations / "0002_stray.sql"
    first = (project.migrations / "0001_initial.sql").read_text()
    fingerprint = first.splitlines()[2].split(": ")[1]
    stray.write_text(
        render_migration(
            parent="0" * 64, fingerprint=fingerprint, message="stray", body="SELECT 1;"
        )
    )
    code, err, _ = _check(project)
    assert code == 2
    assert "0002_stray.sql is not in dibs.lock" in err


def test_two_heads(project: Project) -> None:
    _second_migration(project)
    second = project.migrations / "0002_backfill.sql"
    twin = project.migrations / "0002_other.sql"
    twin.write_text(second.read_text().replace("message: backfill", "message: other"))
    code, err, data = _check(project)
    assert code == 2
    assert "two heads: 0002_backfill.sql and 0002_other.sql both follow" in err
    kinds = {p["kind"] for p in data["problems"]}  # type: ignore[union-attr]
    assert kinds == {"untracked", "heads"}


def test_schema_json_that_does_not_match_the_head(project: Project) -> None:
    schema = project.migrations / "schema.json"
    data = json.loads(schema.read_text())
    data["tables"] = data["tables"][1:]
    schema.write_text(json.dumps(data, indent=2) + "\n")
    code, err, _ = _check(project)
    assert code == 2
    assert "schema.json has fingerprint" in err and "but the head migration records" in err


def test_a_broken_parent_link(project: Project) -> None:
    _second_migration(project)
    path = project.migrations / "0002_backfill.sql"
    lines = path.read_text().splitlines()
    lines[1] = "-- parent: " + "a" * 64
    path.write_text("\n".join(lines) + "\n")
    code, err, _ = _check(project)
    assert code == 2
    assert "0002_backfill.sql was edited after it was generated" in err
    assert "0002_backfill.sql names parent aaaaaaaaaaaa" in err


def test_generate_refuses_on_a_broken_chain_and_writes_nothing(project: Project) -> None:
    (project.migrations / "0001_initial.sql").write_text("-- not a migration\n")
    before = (project.migrations / "dibs.lock").read_text()
    result = project.dibs("generate", "more")
    assert result.code == 2
    assert "migration header is missing" in result.stderr
    assert "Traceback" not in result.stderr
    assert (project.migrations / "dibs.lock").read_text() == before
    assert sorted(p.name for p in project.migrations.glob("*.sql")) == ["0001_initial.sql"]
