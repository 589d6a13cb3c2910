"""Index storage parameters (``WITH (fillfactor = 70)``): declared, read back, changed in place."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from dibs.ops import AlterIndexStorage, CreateIndex, DropIndex
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.schema.canonical import fingerprint, to_json
from dibs.schema.declare import load_schema
from dibs.schema.model import Index, IndexElement
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _t(**storage: object) -> Any:
    index = Index("t_a_idx", (IndexElement(column="a"),), storage=tuple(storage.items()))
    return schema(table("t", col("a", "integer"), indexes=(index,)))


def test_storage_is_normalised() -> None:
    index = _t(Fillfactor=70, deduplicate_items="TRUE").tables[0].indexes[0]
    assert index.storage == (("deduplicate_items", "on"), ("fillfactor", "70"))
    assert _t(deduplicate_items=True) == _t(deduplicate_items="on")


def test_round_trip_and_in_place_change(dibs_conn: Any) -> None:
    plain, packed = _t(), _t(fillfactor=70, deduplicate_items=False)
    created = migrate_for_real(dibs_conn, schema(), packed)
    assert any("WITH (deduplicate_items = 'off', fillfactor = '70')" in s for s in created), created
    ops = changes(packed, _t(fillfactor=90))
    assert [type(op) for op in ops] == [AlterIndexStorage]
    sql = render_plan(ops)
    assert any("RESET (deduplicate_items)" in s for s in sql), sql
    for stmt in sql:
        dibs_conn.execute(stmt.encode())
    assert introspect(dibs_conn).managed() == _t(fillfactor=90).managed()
    back = render_plan(changes(_t(fillfactor=90), plain))
    assert back == ["ALTER INDEX public.t_a_idx RESET (fillfactor)"], back
    assert not any(isinstance(op, DropIndex | CreateIndex) for op in changes(plain, packed))


def test_plain_indexes_keep_their_fingerprint() -> None:
    assert "storage" not in to_json(_t())
    assert fingerprint(_t()) != fingerprint(_t(fillfactor=70))


def test_declared_storage(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "storage_schema.py").write_text(
        textwrap.dedent(
            """
            from typing import Annotated
            import dibs

            @dibs.table(indexes=[dibs.index("a", storage={"fillfactor": 70})])
            class Thing:
                id: Annotated[int, dibs.pk]
                a: int
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    [index] = load_schema(["storage_schema"]).tables[0].indexes
    assert index.storage == (("fillfactor", "70"),)
