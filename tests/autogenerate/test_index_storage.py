"""Index storage parameters (``WITH (fillfactor = 70)``): declared, read back, changed in place."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from dibs.ops import AlterIndexStorage, CreateIndex, DropIndex
from dibs.postgres.introspect import introspect
from dibs.render.alter import render_plan
from dibs.schema.canonical import fingerprint, from_json, to_json
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


def test_storage_keeps_the_written_order(dibs_conn: Any) -> None:
    """Postgres keeps ``reloptions`` as written; dibs renders them so, but compares sets."""
    written, reversed_ = (
        _t(fillfactor=70, deduplicate_items="on"),
        _t(deduplicate_items="on", fillfactor=70),
    )
    index = written.tables[0].indexes[0]
    assert index.storage == (("deduplicate_items", "on"), ("fillfactor", "70"))
    assert index.storage_order == ("fillfactor", "deduplicate_items")
    assert reversed_.tables[0].indexes[0].storage_order == ()  # already name order
    assert written == reversed_ and fingerprint(written) == fingerprint(reversed_)
    assert from_json(to_json(written)).tables[0].indexes[0].storage_order == index.storage_order
    assert changes(written, reversed_) == []
    migrate_for_real(dibs_conn, schema(), written)
    row = dibs_conn.execute("SELECT reloptions FROM pg_class WHERE relname = 't_a_idx'").fetchone()
    assert row[0] == ["fillfactor=70", "deduplicate_items=on"]
    assert introspect(dibs_conn).tables[0].indexes[0].storage_order == index.storage_order


def test_round_trip_and_in_place_change(dibs_conn: Any) -> None:
    plain, packed = _t(), _t(fillfactor=70, deduplicate_items=False)
    created = migrate_for_real(dibs_conn, schema(), packed)
    assert any("WITH (fillfactor = '70', deduplicate_items = 'off')" in s for s in created), created
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
