"""The spelling that type checkers need (``dibs.Col[...]``, ``dibs.default_value``) at runtime.

tests/typing/typed_shop.py is checked statically by mypy and pyright (.ci/run);
these tests prove that the same spelling is a drop-in at runtime: it declares
the example shop schema exactly, builds rows and renders the same SQL. They
run in a subprocess so that the second declaration of the shop tables never
enters this process's registry (the dynamic API picks a table's latest class).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dibs.query

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
sys.path.insert(0, "examples/shop")
from dibs.schema import canonical
from dibs.schema.declare import load_schema
from dibs.query import select, count, insert
import shop_schema as plain
from tests.typing import typed_shop as typed

out = {
    "plain": canonical.to_json(load_schema(["shop_schema"])),
    "typed": canonical.to_json(load_schema(["tests.typing.typed_shop"])),
}
ann = typed.Customer(email="a@example.com", name="Ann")
out["row"] = [ann.name, ann.marketing_opt_in, ann.tags, ann.default_address_id, "id" in vars(ann)]
out["tags_shared"] = ann.tags is typed.Customer(email="b", name="B").tags
out["column"] = repr(typed.Customer.email)
for name, m in (("plain_sql", plain), ("typed_sql", typed)):
    q = (
        select(m.Customer.email, count(m.Order.id))
        .join(m.Order)
        .where(m.Order.status == m.OrderStatus.PAID, m.Customer.marketing_opt_in.eq(True))
        .group_by(m.Customer.email)
    )
    c = q.compile()
    ins = insert(m.Customer(email="x@example.com", name="X")).compile()
    out[name] = [c.sql, [str(p) for p in c.params], ins.sql, [str(p) for p in ins.params]]
print(json.dumps(out))
"""


def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_typed_spelling_declares_the_same_schema_and_sql() -> None:
    out = _probe()
    assert out["typed"] == out["plain"]
    assert out["typed_sql"] == out["plain_sql"]
    assert out["row"] == ["Ann", False, [], None, False]
    assert out["tags_shared"] is False
    assert out["column"] == "Customer.email"


def test_the_query_package_exports_what_it_lazily_imports() -> None:
    # __all__ is written out for type checkers; it must name exactly the lazy names.
    assert sorted(dibs.query.__all__) == sorted(dibs.query._MODULE_OF)
    for name in dibs.query.__all__:
        assert getattr(dibs.query, name) is not None
