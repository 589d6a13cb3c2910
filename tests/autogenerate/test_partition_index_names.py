"""A partition's copy of a partitioned index keeps the name the target gives it.

Postgres names the copy itself (``foobar_1_foo_bar_idx``) unless the partition
already has an index of that definition when the parent's index is built,
which it then attaches under its own name. Introspection records the names
(``Table.attached_indexes``); a plan building the parent's index builds the
recorded copies first (pg-schema-diff's ``*_with_local_keys`` cases).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from dibs.errors import DibsError
from dibs.ops import AttachIndex, CreateIndex, DetachPartition, DropIndex
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.schema.canonical import fingerprint, from_json, to_json
from tests.autogenerate.helpers import changes

TREE = """
CREATE TABLE events (day date NOT NULL, kind text, n int) PARTITION BY RANGE (day);
CREATE TABLE events_2025 PARTITION OF events
  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (kind);
CREATE TABLE events_2025_a PARTITION OF events_2025 FOR VALUES IN ('a');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
"""
# The copies get names Postgres would not choose: built first, then attached.
NAMED = """
CREATE INDEX leaf_kind_n ON events_2025_a (kind, n);
CREATE INDEX mid_kind_n ON ONLY events_2025 (kind, n);
ALTER INDEX mid_kind_n ATTACH PARTITION leaf_kind_n;
CREATE INDEX events_2026_custom ON events_2026 (kind, n);
CREATE INDEX events_kind_n ON events (kind, n);
"""


@pytest.fixture
def target(dibs_server: Any) -> Iterator[psycopg.Connection[Any]]:
    """A second fresh database, for the target schema."""
    url = dibs_server.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            yield conn
    finally:
        dibs_server.drop_database(url)


def _attached(conn: Any) -> set[tuple[str, str]]:
    rows = conn.execute(
        "SELECT h.inhparent::regclass::text, h.inhrelid::regclass::text FROM pg_inherits h"
        " JOIN pg_class c ON c.oid = h.inhrelid WHERE c.relkind IN ('i', 'I')"
    ).fetchall()
    return {(str(p), str(c)) for p, c in rows}


def test_copies_are_built_under_the_target_names(dibs_conn: Any, target: Any) -> None:
    target.execute(TREE + NAMED)
    wanted = introspect(target)
    wanted_links = _attached(target)
    events_2026 = wanted.table("events_2026")
    assert events_2026 is not None
    assert events_2026.attached_indexes == (("events_kind_n", "events_2026_custom"),)
    assert not events_2026.indexes  # the copy stays the parent's index in the model
    # Recorded names are no change: equality and the fingerprint ignore them.
    dibs_conn.execute(TREE)
    dibs_conn.execute("CREATE INDEX events_kind_n ON events (kind, n)")
    auto = introspect(dibs_conn)
    assert auto.managed() == wanted.managed()
    assert fingerprint(auto) == fingerprint(wanted)
    assert from_json(to_json(wanted)).table("events_2026") == events_2026
    rebuilt = from_json(to_json(wanted)).table("events_2026")
    assert rebuilt is not None and rebuilt.attached_indexes == events_2026.attached_indexes
    dibs_conn.execute("DROP INDEX events_kind_n")
    # From the tree without the index: the plan builds the named copies first.
    source = introspect(dibs_conn)
    ops = changes(source, wanted)
    (create,) = [op for op in ops if isinstance(op, CreateIndex)]
    assert create.partition_indexes == (
        ("public", "events_2025_a", "leaf_kind_n"),
        ("public", "events_2025", "mid_kind_n"),
        ("public", "events_2026", "events_2026_custom"),
    )
    with dibs_conn.transaction():
        for stmt in render_plan(ops):
            dibs_conn.execute(stmt.encode())
    assert _attached(dibs_conn) == wanted_links
    assert introspect(dibs_conn).managed() == wanted.managed()


def test_declared_targets_leave_the_names_to_postgres(dibs_conn: Any) -> None:
    dibs_conn.execute(TREE)
    source = introspect(dibs_conn)
    dibs_conn.execute("CREATE INDEX events_kind_n ON events (kind, n)")
    auto = introspect(dibs_conn)
    # As code declares it: no recorded names.
    declared = replace(auto, tables=tuple(replace(t, attached_indexes=()) for t in auto.tables))
    ops = changes(source, declared)
    (create,) = [op for op in ops if isinstance(op, CreateIndex)]
    assert create.partition_indexes == ()


def _valid(conn: Any, index: str) -> bool:
    row = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass", (index,)
    ).fetchone()
    return bool(row[0])


ON_ONLY = """
CREATE TABLE orders (id int NOT NULL, region text NOT NULL) PARTITION BY LIST (region);
CREATE TABLE orders_eu PARTITION OF orders FOR VALUES IN ('eu');
CREATE TABLE orders_us PARTITION OF orders FOR VALUES IN ('us');
ALTER TABLE ONLY orders ADD CONSTRAINT orders_pkey PRIMARY KEY (region, id);
CREATE INDEX orders_id ON ONLY orders (id);
CREATE UNIQUE INDEX orders_eu_key ON orders_eu (region, id);
CREATE UNIQUE INDEX orders_us_key ON orders_us (region, id);
ALTER TABLE orders_eu ADD CONSTRAINT orders_eu_key PRIMARY KEY USING INDEX orders_eu_key;
ALTER INDEX orders_pkey ATTACH PARTITION orders_eu_key;
CREATE INDEX orders_eu_id ON orders_eu (id);
CREATE INDEX orders_us_id ON orders_us (id);
"""
FINISHED = """
ALTER INDEX orders_id ATTACH PARTITION orders_eu_id;
ALTER INDEX orders_id ATTACH PARTITION orders_us_id;
ALTER TABLE orders_us ADD CONSTRAINT orders_us_key PRIMARY KEY USING INDEX orders_us_key;
ALTER INDEX orders_pkey ATTACH PARTITION orders_us_key;
"""


def test_waiting_parent_indexes_get_the_partitions_own_indexes_attached(
    dibs_conn: Any, target: Any
) -> None:
    """Parent indexes built ``ON ONLY`` stay invalid until every partition's index is
    attached; a target that has them attached is reached by attaching (pg-schema-diff
    partitioned_index_cases 024, 033, 034), not by dropping the partitions' indexes."""
    target.execute(ON_ONLY + FINISHED)
    wanted = introspect(target)
    dibs_conn.execute(ON_ONLY)
    assert not _valid(dibs_conn, "orders_id") and not _valid(dibs_conn, "orders_pkey")
    source = introspect(dibs_conn)
    ops = changes(source, wanted)
    assert not any(isinstance(op, DropIndex) for op in ops), ops
    attached = {
        (op.index.name, op.parent_index, op.key) for op in ops if isinstance(op, AttachIndex)
    }
    assert attached == {
        ("orders_eu_id", "orders_id", None),
        ("orders_us_id", "orders_id", None),
        ("orders_us_key", "orders_pkey", "PRIMARY KEY"),
    }
    with dibs_conn.transaction():
        for stmt in render_plan(ops):
            dibs_conn.execute(stmt.encode())
    assert _valid(dibs_conn, "orders_id") and _valid(dibs_conn, "orders_pkey")
    assert introspect(dibs_conn).managed() == wanted.managed()
    assert _attached(dibs_conn) == _attached(target)


def test_an_index_of_another_definition_is_not_attached(dibs_conn: Any, target: Any) -> None:
    target.execute(ON_ONLY + FINISHED)
    wanted = introspect(target)
    # The source's orders_us_id has another definition: it cannot be attached.
    dibs_conn.execute(
        ON_ONLY.replace("orders_us_id ON orders_us (id)", "orders_us_id ON orders_us (region)")
    )
    ops = changes(introspect(dibs_conn), wanted)
    assert [op.index.name for op in ops if isinstance(op, DropIndex)] == ["orders_us_id"]
    assert "orders_us_id" not in {op.index.name for op in ops if isinstance(op, AttachIndex)}


DETACHABLE = """
CREATE TABLE ref (id int PRIMARY KEY);
CREATE TABLE m (
  id int, r int REFERENCES ref, day date NOT NULL DEFAULT now(), CHECK (id > 0),
  PRIMARY KEY (id, day), UNIQUE (r, day)
) PARTITION BY RANGE (day);
CREATE INDEX m_r_idx ON m (r);
CREATE TABLE m_2020 PARTITION OF m FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE m_2021 PARTITION OF m FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
"""


def test_a_partition_leaving_its_tree_is_detached(dibs_conn: Any, target: Any) -> None:
    """The copies of the parent's indexes and keys stay under the partition's names, the
    parent's checks and foreign keys under theirs; a column the parent gains meanwhile
    does not reach the detached table; its rows stay (migra's ``partitioning``)."""
    target.execute(DETACHABLE)
    target.execute("ALTER TABLE m DETACH PARTITION m_2020")
    target.execute("ALTER TABLE m ADD COLUMN note text")
    target.execute("CREATE INDEX m_2020_day_idx ON m_2020 (day)")
    wanted = introspect(target)
    dibs_conn.execute(DETACHABLE)
    dibs_conn.execute("INSERT INTO ref VALUES (1); INSERT INTO m VALUES (1, 1, '2020-05-01')")
    source = introspect(dibs_conn)
    ops = changes(source, wanted)
    assert isinstance(ops[0], DetachPartition), ops
    detached = ops[0].detached
    assert detached.primary_key is not None and detached.primary_key.name == "m_2020_pkey"
    assert {i.name for i in detached.indexes} == {"m_2020_r_idx"}
    assert {c.name for c in detached.checks} == {"m_id_check"}
    with dibs_conn.transaction():
        for stmt in render_plan(ops):
            dibs_conn.execute(stmt.encode())
    assert introspect(dibs_conn).managed() == wanted.managed()
    assert dibs_conn.execute("SELECT count(*) FROM m_2020").fetchone()[0] == 1
    assert dibs_conn.execute("SELECT count(*) FROM m").fetchone()[0] == 0
    note = (
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'm_2020'::regclass AND attname = 'note'"
    )
    assert dibs_conn.execute(note).fetchone()[0] == 0


def test_detaching_needs_the_recorded_names(dibs_conn: Any, target: Any) -> None:
    """From a schema without the partition's copy names (code), dibs cannot tell what
    the detached table's indexes will be called, and refuses with what to do."""
    target.execute(DETACHABLE)
    target.execute("ALTER TABLE m DETACH PARTITION m_2020")
    wanted = introspect(target)
    dibs_conn.execute(DETACHABLE)
    source = introspect(dibs_conn)
    declared = replace(source, tables=tuple(replace(t, attached_indexes=()) for t in source.tables))
    with pytest.raises(DibsError, match="changes its partitioning") as caught:
        changes(declared, wanted)
    assert "live database" in (caught.value.hint or "")


def test_a_parent_index_whose_copy_backs_a_partition_key_is_not_dropped(
    dibs_conn: Any, target: Any
) -> None:
    """pg-schema-diff partitioned_index_cases 028-030: neither the parent's index nor
    the partition's key can be dropped first; dibs refuses at diff time, not at apply."""
    tree = """
    CREATE TABLE f (id int NOT NULL, foo text NOT NULL) PARTITION BY LIST (foo);
    CREATE TABLE f_1 PARTITION OF f FOR VALUES IN ('a');
    """
    target.execute(tree + "ALTER TABLE f ADD CONSTRAINT f_pkey PRIMARY KEY (foo, id);")
    wanted = introspect(target)
    dibs_conn.execute(tree + "CREATE UNIQUE INDEX f_pkey ON f (foo, id);")
    dibs_conn.execute(
        "ALTER TABLE f_1 ADD CONSTRAINT f_1_pkey PRIMARY KEY USING INDEX f_1_foo_id_idx"
    )
    source = introspect(dibs_conn)
    with pytest.raises(DibsError, match=r"f_pkey on f cannot be dropped: the key f_1_pkey"):
        changes(source, wanted)
    for stmt in ("DROP INDEX f_pkey", "ALTER TABLE f_1 DROP CONSTRAINT f_1_pkey"):
        with pytest.raises(psycopg.errors.DependentObjectsStillExist), dibs_conn.transaction():
            dibs_conn.execute(stmt)
