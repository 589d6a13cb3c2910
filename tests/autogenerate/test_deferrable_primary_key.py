"""Deferrable primary keys: declared, created, read back and changed (migra's ``constraints``)."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dibs.ops import AddPrimaryKey, DropPrimaryKey
from dibs.schema.canonical import fingerprint
from dibs.schema.declare import load_schema
from dibs.schema.model import PrimaryKey
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _t(**options: bool) -> Any:
    t = table("c", col("cc", "integer", null=False))
    return schema(replace(t, primary_key=PrimaryKey("c_pkey", ("cc",), **options)))


def test_declared_with_table_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "deferred_schema.py"
    module.write_text(
        textwrap.dedent(
            """
            import dibs

            @dibs.table(
                primary_key=("a", "b"),
                primary_key_deferrable=True,
                primary_key_initially_deferred=True,
            )
            class Pair:
                a: int
                b: int
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = load_schema(["deferred_schema"])
    pk = declared.tables[0].primary_key
    assert pk == PrimaryKey("pair_pkey", ("a", "b"), deferrable=True, initially_deferred=True)


def test_not_deferrable_keeps_old_fingerprints() -> None:
    """The new fields are left out of the fingerprint while they hold their default."""
    plain = _t()
    assert fingerprint(plain) == fingerprint(_t(deferrable=False, initially_deferred=False))
    assert fingerprint(plain) != fingerprint(_t(deferrable=True))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"deferrable": True, "initially_deferred": True}),
        ({"deferrable": True}, {}),
        ({"deferrable": True}, {"deferrable": True, "initially_deferred": True}),
    ],
)
def test_created_read_back_and_changed(
    dibs_conn: Any, before: dict[str, bool], after: dict[str, bool]
) -> None:
    ops = changes(_t(**before), _t(**after))
    assert [type(op) for op in ops] == [DropPrimaryKey, AddPrimaryKey]
    statements = migrate_for_real(dibs_conn, _t(**before), _t(**after))
    if after.get("deferrable"):
        assert any("DEFERRABLE" in s for s in statements), statements
    row = dibs_conn.execute(
        "SELECT condeferrable, condeferred FROM pg_constraint WHERE conname = 'c_pkey'"
    ).fetchone()
    assert row == (after.get("deferrable", False), after.get("initially_deferred", False))
