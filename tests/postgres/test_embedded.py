"""The project-local embedded server: started on demand, reused, stopped."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from dibs.postgres import embedded


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


def test_start_reuse_status_stop(project: Path) -> None:
    try:
        url = embedded.start(project)
        assert (project / ".dibs" / ".gitignore").read_text() == "*\n"
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT current_database()").fetchone()
            assert row == ("dibs",)
            conn.execute("CREATE TABLE kept (id int)")
            conn.commit()
        assert embedded.start(project) == url  # reused, not re-created
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone() == (True,)
        status = embedded.status(project)
        assert status.running and status.url == url
    finally:
        stopped = embedded.stop(project)
    assert stopped
    assert not embedded.status(project).running
    assert embedded.stop(project) is False
