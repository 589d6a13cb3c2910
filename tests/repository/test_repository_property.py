"""Property: a random history of schema edits, generated one migration at a time, verifies.

After each edit the next migration is drafted offline (``schema.json`` at
head → the edited schema) and written to the repository; then the whole chain
is replayed on a fresh database: every migration must leave the fingerprint
its header records, the chain must be intact, and the final database must
equal the last declared schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dibs.autogenerate import CannedQuestioner
from dibs.repository.chain import load_chain
from dibs.repository.generate import draft_migration, head_schema
from dibs.repository.replay import live_schema, replay
from dibs.repository.store import next_file_name, write_migration
from dibs.schema.canonical import fingerprint
from dibs.schema.model import Schema
from tests.edit_strategies import edited, start_schemas


@st.composite
def histories(draw: st.DrawFn, max_edits: int = 3) -> list[Schema]:
    schema = draw(start_schemas())
    history = [schema]
    for _ in range(draw(st.integers(1, max_edits))):
        schema = draw(edited(schema))
        history.append(schema)
    return history


def _generate_all(directory: Path, history: list[Schema]) -> int:
    written = 0
    for step, target in enumerate(history):
        chain = load_chain(directory)
        draft = draft_migration(
            chain,
            head_schema(chain),
            target,
            f"step {step}",
            questioner=CannedQuestioner(default=False),
        )
        if draft is None:
            assert fingerprint(target) == (chain.fingerprint or fingerprint(Schema.build()))
            continue
        write_migration(chain, next_file_name(chain, f"step {step}"), draft.text, draft.schema_json)
        written += 1
    return written


def _check(tmp_path: Path, dibs_server: Any, history: list[Schema]) -> None:
    directory = tmp_path / f"migrations_{len(list(tmp_path.iterdir()))}"
    written = _generate_all(directory, history)
    chain = load_chain(directory)
    assert len(chain.migrations) == written
    steps = replay(dibs_server.url, list(chain.migrations))
    assert [s.ok for s in steps] == [True] * written, [(s.migration.name, s.ok) for s in steps]
    assert chain.fingerprint == fingerprint(history[-1])
    url = dibs_server.create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        for migration in chain.migrations:
            conn.execute(migration.body.encode())
        assert live_schema(conn) == history[-1].managed()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
def test_generated_histories_verify(
    tmp_path: Path, dibs_server: Any, history: list[Schema]
) -> None:
    _check(tmp_path, dibs_server, history)


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories(max_edits=6))
def test_generated_histories_verify_slow(
    tmp_path: Path, dibs_server: Any, history: list[Schema]
) -> None:
    _check(tmp_path, dibs_server, history)
