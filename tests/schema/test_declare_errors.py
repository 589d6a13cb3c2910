"""Every bad declaration is a DeclarationError naming the file and line, also via the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from dibs.errors import DeclarationError
from dibs.schema.declare import load_schema
from tests.cli.conftest import Result, write_project

HEADER = """\
from __future__ import annotations

import enum
from typing import Annotated

import dibs
"""

USERS = """
@dibs.table(name="users")
class User:
    id: Annotated[int, dibs.pk, dibs.identity()]
    email: str
"""


@dataclass(frozen=True)
class Case:
    """A bad schema, the line (by a fragment unique to it) and words the message must hold."""

    id: str
    source: str
    marker: str
    words: tuple[str, ...]


CASES = [
    Case(
        "unsupported-annotation",
        USERS + "    weird: complex\n",
        "weird: complex",
        ("unsupported annotation", "complex"),
    ),
    Case(
        "fk-unknown-table",
        USERS + "\n@dibs.table\nclass Post:\n"
        '    author_id: Annotated[int, dibs.fk("authors.id")]\n',
        'dibs.fk("authors.id")',
        ("unknown table", "authors"),
    ),
    Case(
        "fk-unknown-column",
        USERS + '\n@dibs.table\nclass Post:\n    author_id: Annotated[int, dibs.fk("users.uid")]\n',
        'dibs.fk("users.uid")',
        ("unknown column", "users.uid"),
    ),
    Case(
        "fk-type-differs",
        '\n@dibs.table(name="kinds")\nclass Kind:\n'
        "    id: Annotated[int, dibs.pk, dibs.smallint]\n"
        "\n@dibs.table\nclass Thing:\n"
        '    kind_id: Annotated[int, dibs.fk("kinds.id")]\n',
        "kind_id: Annotated",
        ("bigint", "smallint", "kind_id"),
    ),
    Case(
        "fk-not-unique",
        USERS + "\n@dibs.table\nclass Post:\n"
        '    author_email: Annotated[str, dibs.fk("users.email")]\n',
        'dibs.fk("users.email")',
        ("not a primary key or unique", "users(email)"),
    ),
    Case(
        "two-classes-one-table",
        USERS + '\n@dibs.table(name="users")\nclass Member:\n    id: int\n',
        "class Member:",
        ("two classes", "users", "User", "Member"),
    ),
    Case(
        "duplicate-index-name",
        '\n@dibs.table(indexes=[\n    dibs.index("a", name="dup_idx"),\n'
        '    dibs.index("b", name="dup_idx", unique=True),\n])\n'
        "class Thing:\n    a: int\n    b: int\n",
        'dibs.index("b", name="dup_idx"',
        ("dup_idx", "twice"),
    ),
    Case(
        "duplicate-column",
        "\n@dibs.table\nclass Thing:\n"
        '    first: Annotated[int, dibs.column(name="x")]\n'
        '    second: Annotated[int, dibs.column(name="x")]\n',
        "second: Annotated",
        ("'x'", "twice"),
    ),
    Case(
        "table-name-too-long",
        f'\n@dibs.table(name="{"t" * 64}")\nclass Thing:\n    id: int\n',
        "class Thing:",
        ("64 bytes", "63"),
    ),
    Case(
        "column-name-too-long",
        f"\n@dibs.table\nclass Thing:\n    {'c' * 64}: int\n",
        "c" * 64,
        ("64 bytes", "63"),
    ),
    Case(
        "default-does-not-parse",
        '\n@dibs.table\nclass Thing:\n    price: Annotated[int, dibs.default("price >")]\n',
        "price: Annotated",
        ("default of 'price'",),
    ),
    Case(
        "check-does-not-parse",
        '\n@dibs.table\nclass Thing:\n    price: Annotated[int, dibs.check("price >")]\n',
        "price: Annotated",
        ("check", "thing"),
    ),
    Case(
        "index-expression-does-not-parse",
        '\n@dibs.table(indexes=[dibs.index("price >")])\nclass Thing:\n    price: int\n',
        'dibs.index("price >")',
        ("index key", "price >"),
    ),
    Case(
        "generated-does-not-parse",
        "\n@dibs.table\nclass Thing:\n    price: int\n"
        '    total: Annotated[int, dibs.generated("price >")]\n',
        "total: Annotated",
        ("generated", "total"),
    ),
    Case(
        "default-bare-name",
        '\n@dibs.table\nclass Thing:\n    status: Annotated[str, dibs.default("pending")]\n',
        "status: Annotated",
        ("bare name", "pending", "column reference"),
    ),
    Case(
        "default-reads-a-column",
        "\n@dibs.table\nclass Thing:\n    price: int\n"
        '    twice: Annotated[int, dibs.default("price * 2")]\n',
        "twice: Annotated",
        ("default of 'twice'", "price", "column references"),
    ),
    Case(
        "default-python-value-unsupported",
        "\n@dibs.table\nclass Thing:\n    ratio: float = 1j\n",
        "ratio: float",
        ("default of 'ratio'", "complex"),
    ),
    Case(
        "check-reads-unknown-column",
        '\n@dibs.table(checks=[\n    dibs.check("prize > 0"),\n])\nclass Thing:\n    price: int\n',
        'dibs.check("prize > 0")',
        ("check thing_prize_check", "unknown column", "prize"),
    ),
    Case(
        "index-expression-reads-unknown-column",
        '\n@dibs.table(indexes=[\n    dibs.index("lower(emial)"),\n])\n'
        "class Thing:\n    email: str\n",
        'dibs.index("lower(emial)")',
        ("index thing_lower_idx", "unknown column", "emial"),
    ),
    Case(
        "index-column-unknown",
        '\n@dibs.table(indexes=[\n    dibs.index("emial"),\n])\nclass Thing:\n    email: str\n',
        'dibs.index("emial")',
        ("unknown column", "emial"),
    ),
    Case(
        "partial-index-reads-unknown-column",
        '\n@dibs.table(indexes=[\n    dibs.index("email", where="not deleted"),\n])\n'
        "class Thing:\n    email: str\n",
        'where="not deleted"',
        ("unknown column", "deleted"),
    ),
    Case(
        "generated-reads-unknown-column",
        "\n@dibs.table\nclass Thing:\n    price: int\n"
        '    total: Annotated[int, dibs.generated("price * qty")]\n',
        "total: Annotated",
        ("generated column total", "unknown column", "qty"),
    ),
    Case(
        "duplicate-constraint-name-on-one-table",
        '\n@dibs.table\nclass Thing:\n    a: Annotated[int, dibs.unique(name="thing_rule")]\n'
        '    b: int\n\n    c: Annotated[int, dibs.check("c > 0", name="thing_rule")]\n',
        "class Thing:",
        ("thing_rule", "twice"),
    ),
    Case(
        "fk-to-table-without-primary-key",
        '\n@dibs.table(name="kinds")\nclass Kind:\n    code: str\n'
        "\n@dibs.table\nclass Thing:\n"
        '    kind: Annotated[str, dibs.fk("kinds")]\n',
        'dibs.fk("kinds")',
        ("kinds", "no primary key"),
    ),
    Case(
        "fk-column-count-differs",
        '\n@dibs.table(name="kinds", primary_key=("a", "b"))\nclass Kind:\n    a: int\n    b: int\n'
        '\n@dibs.table(foreign_keys=[\n    dibs.foreign_key(("x",), "kinds", ("a", "b")),\n])\n'
        "class Thing:\n    x: int\n",
        "dibs.foreign_key(",
        ("1 columns but references 2",),
    ),
    Case(
        "fk-unknown-action",
        USERS + "\n@dibs.table\nclass Post:\n"
        '    author_id: Annotated[int, dibs.fk("users.id", on_delete="explode")]\n',
        'on_delete="explode"',
        ("unknown foreign key action", "explode"),
    ),
    Case(
        "enum-class-is-not-a-table",
        "\nclass Colour(enum.Enum):\n    RED = 1\n"
        "\n@dibs.table\nclass Thing:\n    id: Annotated[int, dibs.fk(Colour)]\n",
        "dibs.fk(Colour)",
        ("Colour is not a dibs table",),
    ),
    Case(
        "two-enums-one-type",
        '\n@dibs.enum(name="colour")\nclass Colour(enum.Enum):\n    RED = "red"\n'
        '\n@dibs.enum(schema="public", name="colour")\nclass Color(enum.Enum):\n    BLUE = "blue"\n'
        "\n@dibs.table\nclass Thing:\n    a: Colour\n    b: Color\n",
        '@dibs.enum(schema="public", name="colour")',
        ("two Enum classes", "public.colour", "Colour", "Color"),
    ),
    Case(
        "enum-named-like-a-table",
        '\n@dibs.enum(name="things")\nclass Kind(enum.Enum):\n    A = "a"\n'
        '\n@dibs.table(name="things")\nclass Thing:\n    kind: Kind\n',
        '@dibs.enum(name="things")',
        ("enum type 'things'", "table things"),
    ),
    Case(
        "sequence-named-like-an-index",
        "\n@dibs.table\nclass Thing:\n    code: Annotated[str, dibs.unique]\n"
        '\ndibs.sequence("thing_code_key")\n',
        'dibs.sequence("thing_code_key")',
        ("sequence 'thing_code_key'", "constraint thing_code_key"),
    ),
    Case(
        "import-fails-inside-the-standard-library",
        USERS + '\nimport json\nSETTINGS = json.loads("{")\n',
        'json.loads("{")',
        ("failed to import", "JSONDecodeError"),
    ),
    Case(
        "import-fails",
        USERS + "\nRATE = 1 / 0\n",
        "RATE = 1 / 0",
        ("failed to import", "ZeroDivisionError"),
    ),
    Case(
        "syntax-error",
        USERS + "\n@dibs.table\nclass Broken(:\n    id: int\n",
        "class Broken(:",
        ("syntax error",),
    ),
]


def _params() -> list[object]:
    return [pytest.param(case, id=case.id) for case in CASES]


def _line(path: Path, fragment: str) -> int:
    hits = [
        n
        for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if fragment in text
    ]
    assert len(hits) == 1, (fragment, hits)
    return hits[0]


@pytest.mark.parametrize("postponed", [True, False], ids=["postponed", "eager"])
@pytest.mark.parametrize("case", _params())
def test_library_raises_with_file_and_line(
    case: Case, postponed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same file and line whether or not the module postpones its annotations."""
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"bad_{uuid.uuid4().hex}"
    path = tmp_path / f"{name}.py"
    header = HEADER if postponed else HEADER.replace("from __future__ import annotations\n", "")
    path.write_text(header + textwrap.dedent(case.source), encoding="utf-8")
    with pytest.raises(DeclarationError) as caught:
        load_schema([name])
    exc = caught.value
    assert exc.location is not None, str(exc)
    assert exc.location.file.endswith(path.name), str(exc)
    assert exc.location.line == _line(path, case.marker), str(exc)
    for word in case.words:
        assert word in str(exc), (word, str(exc))


def _run_schema(project: Path) -> Result:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "dibs.cli.main", "schema"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("case", _params())
def test_cli_reports_error_with_file_and_line(case: Case, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", HEADER + case.source)
    result = _run_schema(project)
    assert result.code == 2, (result.code, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    line = _line(project / "app_schema.py", case.marker)
    assert f"app_schema.py:{line}" in result.stderr, result.stderr
    for word in case.words:
        assert word in result.stderr, (word, result.stderr)
