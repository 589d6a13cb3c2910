"""The foundation's core invariant on random schemas: model → SQL → Postgres → the same model.

For every schema ``tests/strategies.py`` can generate, ``render_schema`` must
create it in an empty database and ``introspect`` must read back a model that
is ``==`` to it and has the same fingerprint. The Python code ``codegen``
writes for a schema must declare that same schema again.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from dibs.postgres.introspect import introspect
from dibs.render.ddl import render_schema
from dibs.schema.canonical import fingerprint
from dibs.schema.codegen import generate_python
from dibs.schema.declare import load_schema
from dibs.schema.model import Schema
from dibs.schema.types import quote_ident
from dibs.testing import TestServer
from tests.strategies import schemas

SHOP = Path(__file__).resolve().parents[1] / "examples" / "shop"
_QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- a readable difference ------------------------------------------------------


def _item_key(item: object) -> object:
    key = getattr(item, "key", None)
    return key if key is not None else getattr(item, "name", None)


def _diff_tuples(path: str, expected: tuple[Any, ...], actual: tuple[Any, ...]) -> str | None:
    """Match items by key (tables, enums) or name (columns, constraints) when they have one."""
    keys_e = [_item_key(i) for i in expected]
    keys_a = [_item_key(i) for i in actual]
    if None in keys_e or None in keys_a or len(set(keys_e)) != len(keys_e):
        return None
    missing = [k for k in keys_e if k not in keys_a]
    extra = [k for k in keys_a if k not in keys_e]
    if missing or extra:
        return f"{path}: missing from the database {missing}, unexpected {extra}"
    by_key = dict(zip(keys_a, actual, strict=True))
    for key, item in zip(keys_e, expected, strict=True):
        found = first_difference(item, by_key[key], f"{path}[{key!r}]")
        if found:
            return found
    return None


def first_difference(expected: object, actual: object, path: str = "schema") -> str | None:
    """Name the first field that differs (``None`` when equal), e.g.
    ``schema.tables[('public', 'users')].columns['email'].nullable: expected False, got True``.

    Only fields that take part in equality are compared; hidden comparison keys
    of expressions (``_key``) are reported with the expression text next to them.
    """
    if expected == actual:
        return None
    if dataclasses.is_dataclass(expected) and type(expected) is type(actual):
        for f in dataclasses.fields(expected):
            if not f.compare:
                continue
            name = "columns" if f.name == "_column_key" else f.name
            found = first_difference(
                getattr(expected, f.name), getattr(actual, f.name), f"{path}.{name}"
            )
            if found:
                return found
    if isinstance(expected, tuple) and isinstance(actual, tuple):
        found = _diff_tuples(path, expected, actual)
        if found:
            return found
    return f"{path}: expected {expected!r}, got {actual!r}"


def _explain(expected: Schema, actual: Schema) -> str:
    statements = ";\n".join(render_schema(expected))
    return f"first difference: {first_difference(expected, actual)}\n\nSQL:\n{statements};"


# -- the round trip -------------------------------------------------------------


def create_and_introspect(server: TestServer, schema: Schema) -> Schema:
    """Create ``schema`` in a new database with ``render_schema``; return what Postgres holds."""
    url = server.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            with conn.transaction():
                for stmt in render_schema(schema):
                    try:
                        conn.execute(stmt.encode())
                    except psycopg.Error as exc:
                        raise AssertionError(f"Postgres rejected:\n{stmt}\n{exc}") from exc
            return introspect(conn)
    finally:
        server.drop_database(url)


def assert_roundtrips(server: TestServer, schema: Schema) -> None:
    back = create_and_introspect(server, schema).managed()
    assert back == schema, _explain(schema, back)
    assert fingerprint(back) == fingerprint(schema)


@pytest.fixture(scope="module")
def btree_gist(dibs_server: TestServer) -> bool:
    """Whether this server ships the btree_gist extension (the embedded one does not)."""
    with psycopg.connect(dibs_server.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'btree_gist'"
        ).fetchone()
    return bool(row and row[0])


@_QUICK
@given(data=st.data())
def test_declared_schema_survives_postgres(
    dibs_server: TestServer, btree_gist: bool, data: st.DataObject
) -> None:
    schema = data.draw(schemas(btree_gist=btree_gist), label="schema")
    assert_roundtrips(dibs_server, schema)


@pytest.mark.slow
@_SLOW
@given(data=st.data())
def test_declared_schema_survives_postgres_slow(
    dibs_server: TestServer, btree_gist: bool, data: st.DataObject
) -> None:
    schema = data.draw(schemas(btree_gist=btree_gist), label="schema")
    assert_roundtrips(dibs_server, schema)


@pytest.fixture
def shop_on_path() -> Iterator[None]:
    sys.path.insert(0, str(SHOP))
    try:
        yield
    finally:
        sys.path.remove(str(SHOP))


def test_example_shop_survives_postgres(dibs_server: TestServer, shop_on_path: None) -> None:
    shop = load_schema(["shop_schema"])
    assert len(shop.tables) >= 5 and shop.schemas
    assert_roundtrips(dibs_server, shop)


# -- declaration code written by codegen ----------------------------------------


def _declare_generated(schema: Schema, folder: Path) -> Schema:
    """Write ``generate_python(schema)`` as a fresh module under ``folder`` and load it."""
    module = f"dibs_generated_{uuid.uuid4().hex}"
    (folder / f"{module}.py").write_text(generate_python(schema), encoding="utf-8")
    sys.path.insert(0, str(folder))
    try:
        importlib.invalidate_caches()
        return load_schema([module])
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module, None)


def _codegen_known_bugs(schema: Schema) -> bool:
    """Schemas that hit codegen bugs reported to its owner; re-enable each when fixed."""
    return (
        # An enum in public whose name needs quotes ("order", "Status"):
        # generate_python calls canonical_type on the bare name.
        any(quote_ident(e.name) != e.name for e in schema.enums if e.schema == "public")
        # An index key with COLLATE "C" is written `COLLATE C` and read back as "c".
        or any(el.collation for t in schema.tables for ix in t.indexes for el in ix.elements)
        # A foreign key from another schema to a public table is written unqualified,
        # so the declaration resolves it to a same-named table of the referencing schema.
        or any(
            fk.ref_schema == "public"
            and t.schema != "public"
            and schema.table(fk.ref_table, t.schema) is not None
            for t in schema.tables
            for fk in t.foreign_keys
        )
    )


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(schema=schemas())
def test_generated_python_declares_the_same_schema(
    tmp_path_factory: pytest.TempPathFactory, schema: Schema
) -> None:
    assume(not _codegen_known_bugs(schema))
    declared = _declare_generated(schema, tmp_path_factory.mktemp("codegen"))
    assert declared == schema, first_difference(schema, declared)
    assert fingerprint(declared) == fingerprint(schema)


def test_generated_python_for_the_shop_declares_it_again(
    tmp_path: Path, shop_on_path: None
) -> None:
    shop = load_schema(["shop_schema"])
    declared = _declare_generated(shop, tmp_path)
    assert declared == shop, first_difference(shop, declared)


# -- the strategy reaches every concept -----------------------------------------


def _tables(s: Schema) -> list[Any]:
    return list(s.tables)


CONCEPTS: dict[str, Callable[[Schema], bool]] = {
    "namespace": lambda s: bool(s.schemas),
    "enum outside public": lambda s: any(e.schema != "public" for e in s.enums),
    "domain": lambda s: bool(s.domains),
    "sequence": lambda s: bool(s.sequences),
    "identity": lambda s: any(c.identity for t in _tables(s) for c in t.columns),
    "generated": lambda s: any(c.generated for t in _tables(s) for c in t.columns),
    "collation": lambda s: any(c.collation for t in _tables(s) for c in t.columns),
    "composite pk": lambda s: any(
        t.primary_key and len(t.primary_key.columns) > 1 for t in _tables(s)
    ),
    "deferrable unique nnd": lambda s: any(
        u.deferrable and u.nulls_not_distinct for t in _tables(s) for u in t.uniques
    ),
    "composite fk": lambda s: any(len(fk.columns) > 1 for t in _tables(s) for fk in t.foreign_keys),
    "self fk": lambda s: any(
        (fk.ref_schema, fk.ref_table) == t.key for t in _tables(s) for fk in t.foreign_keys
    ),
    "fk cycle": lambda s: any(
        (fk.ref_schema, fk.ref_table) == u.key and (gk.ref_schema, gk.ref_table) == t.key
        for t in _tables(s)
        for u in _tables(s)
        if t.key != u.key
        for fk in t.foreign_keys
        for gk in u.foreign_keys
    ),
    "check": lambda s: any(t.checks for t in _tables(s)),
    "gist exclusion with =": lambda s: any(
        len(x.elements) == 2 for t in _tables(s) for x in t.exclusions
    ),
    "partial expression index": lambda s: any(
        ix.where and any(e.expression for e in ix.elements) for t in _tables(s) for ix in t.indexes
    ),
    "gin": lambda s: any(ix.method == "gin" for t in _tables(s) for ix in t.indexes),
    "brin": lambda s: any(ix.method == "brin" for t in _tables(s) for ix in t.indexes),
    "hash": lambda s: any(ix.method == "hash" for t in _tables(s) for ix in t.indexes),
    "include": lambda s: any(ix.include for t in _tables(s) for ix in t.indexes),
    "quoted table": lambda s: any(quote_ident(t.name) != t.name for t in _tables(s)),
    "constraint comment": lambda s: any(
        c.comment is not None for t in _tables(s) for c in (*t.uniques, *t.checks, *t.foreign_keys)
    ),
    "deferrable primary key": lambda s: any(
        t.primary_key is not None and t.primary_key.initially_deferred for t in _tables(s)
    ),
}


def test_strategy_reaches_every_concept() -> None:
    """300 generated schemas (a fixed seed) show every concept at least once."""
    seen: set[str] = set()

    @settings(
        max_examples=300,
        phases=[Phase.generate],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(schema=schemas())
    def collect(schema: Schema) -> None:
        seen.update(name for name, present in CONCEPTS.items() if present(schema))

    collect()
    assert sorted(set(CONCEPTS) - seen) == []
