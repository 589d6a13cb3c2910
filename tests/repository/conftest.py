"""A throwaway git project with the ``examples/shop`` schema, driven through the real CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result

REPO_ROOT = Path(__file__).resolve().parents[2]
SHOP = REPO_ROOT / "examples" / "shop"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=check, timeout=60
    )


@dataclass
class Project:
    """A git repository holding a copy of the shop example, and how to run dibs in it."""

    root: Path
    server_url: str

    @property
    def schema(self) -> Path:
        return self.root / "shop_schema.py"

    @property
    def migrations(self) -> Path:
        return self.root / "migrations"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        env.pop("DATABASE_URL", None)
        env["DIBS"] = f"{sys.executable} -m dibs.cli.main"
        env["PYTHONPATH"] = str(REPO_ROOT)
        return env

    def dibs(self, *args: str) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "dibs.cli.main", *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        self.git("add", "-A")
        return self.git("commit", "-q", "-m", message, check=False)

    def edit_schema(self, old: str, new: str) -> None:
        text = self.schema.read_text()
        assert old in text, old
        self.schema.write_text(text.replace(old, new, 1))


def make_project(root: Path, server_url: str) -> Project:
    # The example ships its migrations; the workflows start from the schema alone.
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns(".dibs", "__pycache__", "migrations"))
    (root / ".gitignore").write_text("__pycache__/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "core.autocrlf", "false")
    project = Project(root, server_url)
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "schema")
    return project


@pytest.fixture
def project(tmp_path: Path, dibs_server: Any) -> Iterator[Project]:
    """The shop example in a fresh git repository, with its first migration generated."""
    proj = make_project(tmp_path / "shop", dibs_server.url)
    result = proj.dibs("generate", "initial")
    assert result.code == 0, result.stderr
    assert proj.commit("initial migration").returncode == 0
    yield proj
