"""Introspecting real schemas finds every table, column, index, foreign key and check.

Each corpus is loaded into a fresh database and the model's counts are
compared with counts taken straight from pg_catalog by deliberately simple
queries written apart from ``dibs/postgres/catalog.py``.

How indexes are counted: the model lists an index either as an ``Index`` or,
when it backs a primary key, unique or exclusion constraint, as that
constraint. So ``indexes + primary keys + uniques + exclusions`` must equal
the number of ``pg_index`` rows of the user tables, less the indexes a
partition inherits from its partitioned parent (``pg_inherits``).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dibs.postgres.introspect import introspect
from dibs.schema.model import Schema
from tests.corpora import CORPORA, load_corpus, missing_extensions

USER_TABLES = """
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg_temp%'
"""
NOT_IN_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
)
USER_NAMESPACES = """
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg_temp%' AND nspname NOT LIKE 'pg_toast_temp%'
"""

CATALOG_COUNTS = {
    "tables": f"SELECT count(*) FROM ({USER_TABLES}) t",
    "columns": f"""SELECT count(*) FROM pg_attribute
                   WHERE attrelid IN ({USER_TABLES}) AND attnum > 0 AND NOT attisdropped""",
    "indexes": f"""SELECT count(*) FROM pg_index WHERE indrelid IN ({USER_TABLES})
                   AND indexrelid NOT IN (SELECT inhrelid FROM pg_inherits)""",
    "foreign_keys": f"""SELECT count(*) FROM pg_constraint WHERE contype = 'f'
                        AND conrelid IN ({USER_TABLES}) AND conparentid = 0""",
    "checks": f"""SELECT count(*) FROM pg_constraint WHERE contype = 'c'
                  AND conrelid IN ({USER_TABLES}) AND conislocal""",
    "views": f"""SELECT count(*) FROM pg_class c WHERE relkind IN ('v', 'm')
                 AND relnamespace IN ({USER_NAMESPACES})
                 AND {NOT_IN_EXTENSION.format(oid="c.oid")}""",
    "functions": f"""SELECT count(*) FROM pg_proc p WHERE pronamespace IN ({USER_NAMESPACES})
                     AND {NOT_IN_EXTENSION.format(oid="p.oid")}""",
    "triggers": f"""SELECT count(*) FROM pg_trigger
                    WHERE NOT tgisinternal AND tgrelid IN ({USER_TABLES})""",
}

# Published sizes of the corpora (tables, columns), from /work/shared/corpora/README.md.
PUBLISHED = {
    "pagila": (22, 129),
    "chinook": (11, 64),
    "chinook-serial": (11, 64),
    "chinook-identity": (11, 64),
    "sakila": (21, 123),
    "northwind": (14, 92),
    "adventureworks": (68, 456),
    "synapse": (138, 638),
    "django-contrib": (14, 61),
}


def model_counts(schema: Schema) -> dict[str, int]:
    """Count the same things in the introspected model."""
    tables = schema.tables
    kinds = [u.kind for u in schema.unmanaged]
    return {
        "tables": len(tables),
        "columns": sum(len(t.columns) for t in tables),
        "indexes": sum(
            len(t.indexes) + len(t.uniques) + len(t.exclusions) + (t.primary_key is not None)
            for t in tables
        ),
        "foreign_keys": sum(len(t.foreign_keys) for t in tables),
        "checks": sum(len(t.checks) for t in tables),
        "views": kinds.count("view") + kinds.count("materialized view"),
        "functions": sum(
            kinds.count(k) for k in ("function", "procedure", "aggregate", "window function")
        ),
        "triggers": kinds.count("trigger"),
    }


@pytest.fixture(scope="module")
def loaded(dibs_server: Any) -> dict[str, tuple[Schema, dict[str, int]]]:
    """Load every corpus once: (introspected schema, catalog counts) by name."""
    result: dict[str, tuple[Schema, dict[str, int]]] = {}
    for name in CORPORA:
        with psycopg.connect(dibs_server.create_database(), autocommit=True) as conn:
            if missing_extensions(name, conn):
                continue
            load_corpus(name, conn)
            counts = {}
            for key, query in CATALOG_COUNTS.items():
                row = conn.execute(query.encode()).fetchone()
                assert row is not None
                counts[key] = int(row[0])
            result[name] = (introspect(conn), counts)
    return result


def _get(
    loaded: dict[str, tuple[Schema, dict[str, int]]], name: str
) -> tuple[Schema, dict[str, int]]:
    if name not in loaded:
        pytest.skip(f"{name} needs extensions this Postgres build does not have")
    return loaded[name]


@pytest.mark.parametrize("name", CORPORA)
def test_counts_match_the_catalog(
    name: str, loaded: dict[str, tuple[Schema, dict[str, int]]]
) -> None:
    schema, catalog_counts = _get(loaded, name)
    assert model_counts(schema) == catalog_counts
    assert (catalog_counts["tables"], catalog_counts["columns"]) == PUBLISHED[name]


@pytest.mark.parametrize("name", CORPORA)
def test_every_column_has_a_canonical_type_and_fks_point_at_known_tables(
    name: str, loaded: dict[str, tuple[Schema, dict[str, int]]]
) -> None:
    schema, _ = _get(loaded, name)
    keys = {t.key: t for t in schema.tables}
    for table in schema.tables:
        assert table.columns, f"{table.qualified_name} has no columns"
        names = {c.name for c in table.columns}
        for fk in table.foreign_keys:
            target = keys[(fk.ref_schema, fk.ref_table)]
            assert set(fk.columns) <= names
            assert {c.name for c in target.columns} >= set(fk.ref_columns)
        for index in table.indexes:
            assert {e.column for e in index.elements if e.column} <= names


def test_unmanaged_objects_are_listed() -> None:
    """Covered per corpus below; this guards the expectation table itself."""
    assert set(UNMANAGED_EXPECTED) <= set(CORPORA)


# Unmanaged objects each corpus is known to hold (kind, schema, name, depends_on).
UNMANAGED_EXPECTED = {
    "pagila": [
        ("view", "public", "actor_info"),
        ("materialized view", "public", "rental_by_category"),
        ("trigger", "public", "last_updated"),
        ("function", "public", "last_day(timestamp with time zone)"),
    ],
    "sakila": [("view", "public", "film_list"), ("trigger", "public", "last_updated")],
    "adventureworks": [("view", "sales", "vstorewithcontacts")],
    "synapse": [("function", "public", "check_partial_state_events()")],
}


@pytest.mark.parametrize("name", sorted(UNMANAGED_EXPECTED))
def test_known_unmanaged_objects(
    name: str, loaded: dict[str, tuple[Schema, dict[str, int]]]
) -> None:
    schema, _ = _get(loaded, name)
    found = {(u.kind, u.schema, u.name) for u in schema.unmanaged}
    for expected in UNMANAGED_EXPECTED[name]:
        assert expected in found


def test_view_dependencies_name_the_tables_they_read(
    loaded: dict[str, tuple[Schema, dict[str, int]]],
) -> None:
    schema, _ = _get(loaded, "pagila")
    views = {u.name: u for u in schema.unmanaged if u.kind == "view"}
    # pagila's actor_info joins actor, film_actor, film_category and category.
    assert set(views["actor_info"].depends_on) >= {
        "public.actor",
        "public.film_actor",
        "public.film_category",
        "public.category",
    }
