"""Property: partition trees migrate from any A to any B with the same partitioning.

``tests.strategies`` has no partitioned tables (their keys must hold the
partition key, and partitions mirror their parent's columns), so they get
their own strategy: a table ``p`` partitioned by LIST on ``k``, two or three
partitions (one sometimes partitioned again), random columns shared by the
whole tree, partition-only NOT NULLs and defaults, indexes on the parent and
on partitions, and primary keys (always holding ``k``) on the parent or on a
partition. A and B share the partitioning (dibs refuses to change it) and
differ in everything else: columns added, dropped and retyped, defaults,
NOT NULLs, keys and indexes. The pg-schema-diff partition cases found the
bugs this generalises (columns changed on every partition as well as the
parent, partition settings lost, duplicate indexes).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dibs.schema.expressions import canonical_expression
from dibs.schema.model import Column, Index, IndexElement, PrimaryKey, Schema, Table
from dibs.schema.types import canonical_type
from tests.test_pairs_property import _check

_TYPES = {
    "integer": ("0", "7"),
    "bigint": ("0", "42"),
    "text": ("'a'::text", "'b'::text"),
    "varchar(20)": ("'x'::character varying", None),
    "boolean": ("true", "false"),
    "timestamptz": ("now()", None),
}
_COLUMNS = ("c0", "c1", "c2", "c3")
_BOUNDS = ("'v1', 'v2'", "'v3'", "'v4'")


@st.composite
def _column_specs(draw: st.DrawFn) -> list[tuple[str, str]]:
    names = draw(st.lists(st.sampled_from(_COLUMNS), unique=True, max_size=4))
    return [(n, draw(st.sampled_from(sorted(_TYPES)))) for n in sorted(names)]


def _default(draw: st.DrawFn, type_: str) -> str | None:
    options = [d for d in _TYPES[type_] if d is not None]
    choice = draw(st.sampled_from([None, *options]))
    return None if choice is None else canonical_expression(choice)


@st.composite
def partition_trees(draw: st.DrawFn, partitions: int, sub: bool) -> Schema:
    specs = draw(_column_specs())
    key = Column("k", "text", nullable=False)
    parent_cols = [key]
    for name, type_ in specs:
        parent_cols.append(
            Column(
                name,
                canonical_type(type_),
                nullable=draw(st.booleans()),
                default=_default(draw, type_),
            )
        )
    names = [n for n, _ in specs]
    parent_pk = None
    if names and draw(st.integers(0, 3)) == 0:
        parent_pk = PrimaryKey("p_pkey", ("k", draw(st.sampled_from(names))))
        parent_cols = [
            Column(c.name, c.type, nullable=False, default=c.default)
            if c.name in parent_pk.columns
            else c
            for c in parent_cols
        ]
    parent_indexes = []
    for i in range(draw(st.integers(0, 2)) if names else 0):
        cols = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
        parent_indexes.append(
            Index(f"p_idx{i}", tuple(IndexElement(column=c) for c in cols), method="btree")
        )
    tables = [
        Table(
            "p",
            columns=tuple(parent_cols),
            primary_key=parent_pk,
            indexes=tuple(parent_indexes),
            partition_by="LIST (k)",
        )
    ]
    for n in range(1, partitions + 1):
        name = f"p_{n}"
        cols = []
        for c in parent_cols:
            nullable = c.nullable and draw(st.booleans())
            own_default = c.default
            if c.name != "k" and draw(st.integers(0, 3)) == 0:
                own_default = _default(draw, _type_name(c.type))
            cols.append(Column(c.name, c.type, nullable=nullable, default=own_default))
        own_pk = None
        if parent_pk is None and names and draw(st.integers(0, 2)) == 0:
            own_pk = PrimaryKey(f"{name}_pkey", ("k", draw(st.sampled_from(names))))
            cols = [
                Column(c.name, c.type, nullable=False, default=c.default)
                if c.name in own_pk.columns
                else c
                for c in cols
            ]
        own_indexes = []
        if names and draw(st.booleans()):
            column = draw(st.sampled_from(names))
            own_indexes.append(Index(f"{name}_own", (IndexElement(column=column),)))
        nested = sub and n == 1
        bound = f"FOR VALUES IN ({_BOUNDS[n - 1]})"
        tables.append(
            Table(
                name,
                columns=tuple(cols),
                primary_key=own_pk,
                indexes=tuple(own_indexes),
                partition_of="p",
                partition_bound=bound,
                partition_by="LIST (k)" if nested else None,
            )
        )
        if nested:
            tables.append(
                Table(
                    "p_1_1",
                    columns=tuple(
                        Column(c.name, c.type, nullable=c.nullable, default=c.default) for c in cols
                    ),
                    partition_of="p_1",
                    partition_bound="FOR VALUES IN ('v1')",
                )
            )
    return Schema.build(tables=tables)


def _type_name(canonical: str) -> str:
    for name in _TYPES:
        if canonical_type(name) == canonical:
            return name
    raise AssertionError(canonical)


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[Schema, Schema]:
    partitions = draw(st.integers(1, 3))
    sub = draw(st.booleans())
    return draw(partition_trees(partitions, sub)), draw(partition_trees(partitions, sub))


_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=100, **_SETTINGS)
@given(pair=_pairs())
def test_partition_trees_migrate(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)


@pytest.mark.slow
@settings(max_examples=1000, **_SETTINGS)
@given(pair=_pairs())
def test_partition_trees_migrate_slow(dibs_server: Any, pair: tuple[Schema, Schema]) -> None:
    _check(dibs_server, pair)
