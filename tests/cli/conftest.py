"""Helpers to run the real ``dibs`` CLI in a throwaway project directory."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


Runner = Callable[..., Result]


def write_project(root: Path, schema_source: str, *, extra: str = "") -> Path:
    """Create a project with ``[tool.dibs] schema = "app_schema"`` and that module."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "app"\nversion = "0"\n\n[tool.dibs]\nschema = "app_schema"\n{extra}'
    )
    (root / "app_schema.py").write_text(textwrap.dedent(schema_source))
    return root


@pytest.fixture
def run_dibs() -> Runner:
    """Run ``python -m dibs.cli.main`` as a user would, capturing output."""

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
        full_env.pop("DATABASE_URL", None)
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "dibs.cli.main", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run
