"""[tool.dibs] discovery, defaults and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from dibs.config import load_config
from dibs.errors import ConfigError


def write(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(body)
    return root


def test_found_by_walking_up_with_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    root = write(tmp_path / "proj", '[tool.dibs]\nschema = "app.schema"\n')
    deep = root / "src" / "pkg"
    deep.mkdir(parents=True)
    config = load_config(deep)
    assert config.root == root.resolve()
    assert config.schema_modules == ("app.schema",)
    assert config.migrations_dir == root.resolve() / "migrations"
    assert config.database_url is None
    assert config.python_path == (root.resolve() / ".",)


def test_a_pyproject_without_tool_dibs_is_skipped(tmp_path: Path) -> None:
    root = write(tmp_path / "outer", '[tool.dibs]\nschema = ["a", "b"]\nmigrations = "db/m"\n')
    write(root / "inner", '[project]\nname = "x"\n')
    config = load_config(root / "inner")
    assert config.schema_modules == ("a", "b")
    assert config.migrations_dir == root.resolve() / "db" / "m"


def test_url_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path, '[tool.dibs]\nschema = "s"\ndatabase_url = "postgresql://file/db"\n')
    monkeypatch.setenv("DATABASE_URL", "postgresql://env/db")
    assert load_config(root).database_url == "postgresql://file/db"
    assert load_config(root, override_url="postgresql://cli/db").database_url == (
        "postgresql://cli/db"
    )
    write(root, '[tool.dibs]\nschema = "s"\n')
    assert load_config(root).database_url == "postgresql://env/db"


def test_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    root = write(tmp_path, '[tool.dibs]\nschema = "s"\nmigraitons = "m"\n')
    with pytest.raises(ConfigError) as info:
        load_config(root)
    assert "migraitons" in info.value.message
    assert info.value.location is not None
    assert info.value.location.file.endswith("pyproject.toml")


def test_missing_project_explains_the_block(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.hint is not None and "[tool.dibs]" in info.value.hint
    assert info.value.exit_code == 2
