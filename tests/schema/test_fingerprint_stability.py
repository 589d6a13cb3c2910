"""The fingerprint is a pure function of the schema: same in another process, another hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dibs.schema.canonical import fingerprint, to_json

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
sys.path.insert(0, {shop!r})
from dibs.schema.declare import load_schema
from dibs.schema.canonical import fingerprint, to_json
s = load_schema(["shop_schema"])
print(fingerprint(s))
print(len(to_json(s)))
"""


def _run(seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    code = SCRIPT.format(shop=str(ROOT / "examples" / "shop"))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split()


def test_fingerprint_is_the_same_across_processes_and_hash_seeds() -> None:
    first, second = _run("1"), _run("12345")
    assert first == second
    assert len(first[0]) == 64


def test_fingerprint_changes_with_shape_not_with_hints() -> None:
    sys.path.insert(0, str(ROOT / "examples" / "shop"))
    try:
        from dataclasses import replace

        from dibs.schema.declare import load_schema
        from dibs.schema.model import ColumnDisplay

        shop = load_schema(["shop_schema"])
    finally:
        sys.path.remove(str(ROOT / "examples" / "shop"))
    table = shop.tables[0]
    hinted = replace(
        table,
        columns=tuple(
            replace(c, display=ColumnDisplay(hidden=True), renamed_from=("x",))
            for c in reversed(table.columns)
        ),
    )
    same = replace(shop, tables=(hinted, *shop.tables[1:]))
    assert fingerprint(same) == fingerprint(shop)
    assert to_json(same) != to_json(shop)  # the hints are carried in the JSON
    first = table.columns[0]
    retyped = replace(table, columns=(replace(first, type="text"), *table.columns[1:]))
    changed = replace(shop, tables=(retyped, *shop.tables[1:]))
    assert fingerprint(changed) != fingerprint(shop)
