"""The same checks through the real pre-commit framework and this repository's hook definitions.

pre-commit installs dibs from this repository (at its committed HEAD, the
way users pin a ``rev``) into its own environment and runs the ``dibs-check``
hook from ``.pre-commit-hooks.yaml`` on ``git commit``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.repository.conftest import REPO_ROOT, make_project
from tests.repository.test_workflows import WAREHOUSE_NAME


def _head_of_dibs() -> str | None:
    proc = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_framework_runs_dibs_check(tmp_path: Path, dibs_server: Any) -> None:
    rev = _head_of_dibs()
    if rev is None:
        pytest.skip("the dibs checkout is not a git repository (pre-commit needs a rev)")
    pre_commit = Path(sys.executable).with_name("pre-commit")
    project = make_project(tmp_path / "shop", dibs_server.url)
    (project.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {REPO_ROOT}\n  rev: {rev}\n  hooks:\n  - id: dibs-check\n"
    )
    env = {**project.env(), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    env.pop("PYTHONPATH")  # the hook must use the dibs pre-commit installed, not ours
    installed = subprocess.run(
        [str(pre_commit), "install", "--install-hooks"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "add", "-A"], cwd=project.root, env=env, check=True)
        return subprocess.run(
            ["git", "commit", "-q", "-m", message],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    blocked = commit("schema without migrations")
    assert blocked.returncode != 0
    assert "schema code drifted from migrations" in blocked.stdout + blocked.stderr
    assert project.dibs("generate", "initial").code == 0
    first = commit("initial")
    assert first.returncode == 0, first.stdout + first.stderr

    project.edit_schema(
        WAREHOUSE_NAME,
        WAREHOUSE_NAME.replace("name: str", "name: str\n    city: str | None", 1),
    )
    assert project.dibs("generate", "add city").code == 0
    assert commit("add city").returncode == 0

    path = project.migrations / "0001_initial.sql"
    path.write_text(path.read_text().replace("CREATE SCHEMA audit;", "CREATE SCHEMA audit2;"))
    edited = commit("edit an old migration")
    assert edited.returncode != 0
    assert "0001_initial.sql was edited after it was generated" in edited.stdout + edited.stderr
