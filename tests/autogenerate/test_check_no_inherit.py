"""CHECK … NO INHERIT: declared, introspected, diffed (drop and re-add) and rendered."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from dibs.ops import AddConstraint, DropConstraint
from dibs.render.alter import render_plan
from dibs.render.ddl import render_schema
from dibs.schema.canonical import fingerprint, to_json
from dibs.schema.declare import load_schema
from dibs.schema.model import Check
from tests.autogenerate.helpers import changes, col, migrate_for_real, schema, table


def _t(*checks: Check) -> Any:
    return schema(table("t", col("a", "integer"), checks=checks))


def test_no_inherit_is_rendered_and_read_back(dibs_conn: Any) -> None:
    before = _t(Check("t_a_check", "a > 0"))
    after = _t(Check("t_a_check", "a > 0", no_inherit=True))
    ops = changes(before, after)
    assert [type(op) for op in ops] == [DropConstraint, AddConstraint]
    statements = migrate_for_real(dibs_conn, before, after)
    assert any("NO INHERIT" in s for s in statements), statements
    assert any("NO INHERIT" in s for s in render_schema(after))
    # and back: dropping NO INHERIT is a change too
    assert not any("NO INHERIT" in s for s in render_plan(changes(after, before)))


def test_plain_checks_keep_their_fingerprint_and_json() -> None:
    plain = _t(Check("t_a_check", "a > 0"))
    assert "no_inherit" not in to_json(plain)
    flagged = _t(Check("t_a_check", "a > 0", no_inherit=True))
    assert fingerprint(flagged) != fingerprint(plain)
    assert '"no_inherit": true' in to_json(flagged)


def test_declared_no_inherit(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "noinherit_schema.py").write_text(
        textwrap.dedent(
            """
            from typing import Annotated
            import dibs

            @dibs.table(checks=[dibs.check("a > 0", no_inherit=True)])
            class Thing:
                id: Annotated[int, dibs.pk]
                a: int
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = load_schema(["noinherit_schema"])
    [check] = declared.tables[0].checks
    assert check.no_inherit and check.name == "thing_a_check"
