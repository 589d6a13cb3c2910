"""Real schemas survive dibs: introspect → render SQL → fresh database → introspect is equal,
and ``--format python`` output declares the same schema again."""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dibs.postgres.introspect import introspect
from dibs.render.ddl import render_schema
from dibs.schema.canonical import fingerprint
from dibs.schema.codegen import generate_python
from tests.corpora import CORPORA, load_corpus, missing_extensions


def _first_difference(a: Any, b: Any) -> str:
    for ta, tb in zip(a.tables, b.tables, strict=False):
        if ta != tb:
            for field in (
                "_column_key",
                "primary_key",
                "uniques",
                "foreign_keys",
                "checks",
                "exclusions",
                "indexes",
                "comment",
                "partition_by",
                "partition_of",
            ):
                if getattr(ta, field) != getattr(tb, field):
                    mine, theirs = getattr(ta, field), getattr(tb, field)
                    return f"{ta.qualified_name}.{field}: {mine!r} != {theirs!r}"
    for field in ("tables", "enums", "sequences", "extensions", "schemas"):
        if getattr(a, field) != getattr(b, field):
            return f"{field} differ"
    return "no difference found"


def _load_or_skip(name: str, conn: psycopg.Connection[Any]) -> None:
    missing = missing_extensions(name, conn)
    if missing:
        pytest.skip(f"{name} needs extensions this Postgres build lacks: {', '.join(missing)}")
    load_corpus(name, conn)


@pytest.mark.parametrize("name", CORPORA)
def test_render_reload_introspect_is_equal(name: str, dibs_server: Any) -> None:
    source_url = dibs_server.create_database()
    target_url = dibs_server.create_database()
    with psycopg.connect(source_url, autocommit=True) as conn:
        _load_or_skip(name, conn)
        original = introspect(conn)
    managed = original.managed()
    with psycopg.connect(target_url, autocommit=True) as conn:
        with conn.transaction():
            for stmt in render_schema(managed):
                conn.execute(stmt.encode())
        again = introspect(conn).managed()
    assert again == managed, _first_difference(again, managed)
    assert fingerprint(again) == fingerprint(managed)


@pytest.mark.parametrize("name", CORPORA)
def test_python_codegen_declares_the_same_schema(
    name: str, dibs_server: Any, tmp_path: Path
) -> None:
    url = dibs_server.create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        _load_or_skip(name, conn)
        original = introspect(conn).managed()
    from dibs.schema.declare import load_schema

    module = f"adopted_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(generate_python(original))
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        declared = load_schema([module])
    finally:
        sys.path.remove(str(tmp_path))
    assert declared == original, _first_difference(declared, original)
    assert fingerprint(declared) == fingerprint(original)
