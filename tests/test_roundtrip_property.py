"""The foundation's core invariant, on random schemas over every concept of the model.

declared (Python code generated for the schema, imported through dibs's declaration API)
→ `render_schema` → an empty Postgres database → `introspect` gives back a model equal to
the original, with the same fingerprint; and the canonical JSON round-trips.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

from dibs.postgres.introspect import introspect
from dibs.render.ddl import render_schema
from dibs.schema.canonical import fingerprint, from_json, to_json
from dibs.schema.codegen import generate_python
from dibs.schema.declare import load_schema
from dibs.schema.model import Schema
from tests.schema_strategies import schemas

_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def first_difference(a: Schema, b: Schema) -> str:
    """Name the first differing table field, for a readable failure."""
    for ta, tb in zip(a.tables, b.tables, strict=False):
        if ta.key != tb.key:
            return f"tables differ: {ta.key} vs {tb.key}"
        for col_a, col_b in zip(ta._column_key, tb._column_key, strict=False):
            if col_a != col_b:
                return f"{ta.qualified_name}: column {col_a!r} != {col_b!r}"
        for name in (
            "primary_key",
            "uniques",
            "foreign_keys",
            "checks",
            "exclusions",
            "indexes",
            "comment",
        ):
            if getattr(ta, name) != getattr(tb, name):
                return f"{ta.qualified_name}.{name}: {getattr(ta, name)!r} != {getattr(tb, name)!r}"
    for name in ("tables", "enums", "domains", "sequences", "extensions", "schemas"):
        if getattr(a, name) != getattr(b, name):
            return f"{name}: {getattr(a, name)!r} != {getattr(b, name)!r}"
    return "no difference found"


def declare_via_python(schema: Schema, folder: Path) -> Schema:
    module = f"generated_{uuid.uuid4().hex}"
    (folder / f"{module}.py").write_text(generate_python(schema))
    sys.path.insert(0, str(folder))
    try:
        importlib.invalidate_caches()
        return load_schema([module])
    finally:
        sys.path.remove(str(folder))


def roundtrip(server: Any, schema: Schema, folder: Path) -> None:
    declared = declare_via_python(schema, folder)
    assert declared == schema, first_difference(declared, schema)
    assert from_json(to_json(declared)) == declared
    url = server.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            with conn.transaction():
                for stmt in render_schema(declared):
                    conn.execute(stmt.encode())
            back = introspect(conn)
    finally:
        server.drop_database(url)
    assert back == declared, first_difference(back, declared)
    assert fingerprint(back) == fingerprint(declared)


@settings(max_examples=200, **_SETTINGS)  # type: ignore[arg-type]
@given(schema=schemas())
def test_declared_sql_postgres_introspection_roundtrip(
    dibs_server: Any, tmp_path_factory: pytest.TempPathFactory, schema: Schema
) -> None:
    roundtrip(dibs_server, schema, tmp_path_factory.mktemp("decl"))


@pytest.mark.slow
@settings(max_examples=2000, **_SETTINGS)  # type: ignore[arg-type]
@given(schema=schemas())
def test_roundtrip_slow(
    dibs_server: Any, tmp_path_factory: pytest.TempPathFactory, schema: Schema
) -> None:
    roundtrip(dibs_server, schema, tmp_path_factory.mktemp("decl"))


def test_example_shop_roundtrip(dibs_server: Any, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1] / "examples" / "shop"
    sys.path.insert(0, str(root))
    try:
        shop = load_schema(["shop_schema"])
    finally:
        sys.path.remove(str(root))
    assert len(shop.tables) >= 10
    roundtrip(dibs_server, shop, tmp_path)
