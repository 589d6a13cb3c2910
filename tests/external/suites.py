"""Load the before/after cases of three external schema-diff suites as plain ``DiffCase`` values.

The suites live in ``/work/shared/corpora`` (``DIBS_CORPORA`` overrides it):
stripe's pg-schema-diff acceptance cases, migra's fixtures and psqldef's YAML
cases. Each loader only reads files; the runner in ``test_diff_suites`` loads
the SQL into Postgres. Upstream's expected SQL is ignored on purpose: dibs
is judged by whether its migration makes the databases equal, not by style.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from dibs.schema.types import quote_ident

__all__ = [
    "CORPUS_ROOT",
    "DiffCase",
    "all_cases",
    "migra_cases",
    "pg_schema_diff_cases",
    "sqldef_cases",
]

CORPUS_ROOT = Path(os.environ.get("DIBS_CORPORA", "/work/shared/corpora"))
MIGRA_ROLE = "schemainspect_test_role"


@dataclass(frozen=True, slots=True)
class DiffCase:
    """One before → after pair from an external suite.

    ``renames`` holds canned rename answers keyed like ``RenameCandidate.spec``
    or ``.subject`` (from psqldef's ``-- @renamed from=`` annotations); an empty
    mapping means nobody declared a rename, so any candidate needs a decision.
    """

    suite: str
    case_id: str
    before: str
    after: str
    roles: tuple[str, ...] = ()
    renames: tuple[tuple[str, bool], ...] = ()
    # Upstream expects its own tool to refuse this change (pg-schema-diff's
    # ``expectedPlanErrorIs``, e.g. ``ErrNotImplemented`` for a changed partition key).
    upstream_refuses: str = ""
    # Upstream expects its own tool to plan nothing: the two sides are equivalent
    # spellings of one schema (psqldef's ``up: ""`` on a case with a ``current``).
    upstream_no_change: bool = False


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def pg_schema_diff_cases(root: Path = CORPUS_ROOT) -> Iterator[DiffCase]:
    """Yield stripe/pg-schema-diff's acceptance cases (``old.sql`` → ``new.sql``)."""
    for case_json in sorted((root / "pg-schema-diff" / "cases").glob("*/*/case.json")):
        folder = case_json.parent
        meta: dict[str, Any] = json.loads(case_json.read_text(encoding="utf-8"))
        after = _read(folder / "new.sql")
        if "planFactory_go" in meta and "newSchemaDDL" not in meta:
            # The target is a directory of SQL files upstream; the schema it gives is
            # spelled out as expectedDBSchemaDDL.
            after = ";\n".join(str(s) for s in meta.get("expectedDBSchemaDDL", ()))
        yield DiffCase(
            suite="pg-schema-diff",
            case_id=f"{folder.parent.name}/{folder.name}",
            before=_read(folder / "old.sql"),
            after=after,
            roles=tuple(str(r) for r in meta.get("roles", ())),
            upstream_refuses=str(meta.get("expectedPlanErrorIs_go", "")),
        )


def migra_cases(root: Path = CORPUS_ROOT) -> Iterator[DiffCase]:
    """Yield migra's fixtures (``a.sql`` → ``b.sql``); some need ``schemainspect_test_role``."""
    for folder in sorted((root / "migra" / "tests" / "FIXTURES").iterdir()):
        if not (folder / "a.sql").exists():
            continue
        before, after = _read(folder / "a.sql"), _read(folder / "b.sql")
        roles = (MIGRA_ROLE,) if MIGRA_ROLE in before + after else ()
        yield DiffCase("migra", folder.name, before, after, roles=roles)


_CREATE_TABLE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)",
    re.IGNORECASE,
)
_RENAMED = re.compile(r"^\s*(\"[^\"]+\"|[\w$]+).*(?:--|/\*)\s*@renamed\s+from=(\"[^\"]+\"|[\w$]+)")


def _ident(token: str) -> str:
    """Return the name a possibly quoted SQL identifier spells (unquoted ones fold to lower)."""
    if token.startswith('"'):
        return token[1:-1].replace('""', '"')
    return token.lower()


def _qualified(dotted: str) -> str:
    parts = [_ident(p) for p in re.findall(r"\"[^\"]+\"|[\w$]+", dotted)]
    if len(parts) == 2 and parts[0] == "public":
        parts = parts[1:]
    return ".".join(quote_ident(p) for p in parts)


def rename_answers(desired: str) -> tuple[tuple[str, bool], ...]:
    """Turn ``-- @renamed from=old`` (or ``/* … */``) annotations into canned questioner answers.

    A line that opens ``CREATE TABLE new … -- @renamed from=old`` renames the
    table (subject ``old``); an annotated column line inside a table renames
    the column (subject ``table.old``). Answers are keyed by subject, which
    ``CannedQuestioner`` accepts for every candidate with that old name.
    """
    answers: list[tuple[str, bool]] = []
    table: str | None = None
    for line in desired.splitlines():
        created = _CREATE_TABLE.search(line)
        if created:
            table = _qualified(created.group(1))
        found = re.search(r"(?:--|/\*)\s*@renamed\s+from=(\"[^\"]+\"|[\w$.]+)", line)
        if not found:
            continue
        old = _qualified(found.group(1))
        if created:
            answers.append((old, True))
        elif table is not None and (column := _RENAMED.match(line)):
            answers.append((f"{table}.{quote_ident(_ident(column.group(2)))}", True))
    return tuple(answers)


def _sqldef_files(root: Path) -> list[Path]:
    base = root / "sqldef"
    found = sorted((base / "cmd" / "psqldef").glob("*.yml"))
    return [*found, base / "database" / "postgres" / "tests.yml"]


def _sqldef_roles(spec: dict[str, Any]) -> tuple[str, ...]:
    """Return the roles a psqldef case grants to (``managed_roles``) or runs as (``user``)."""
    roles = [str(r) for r in spec.get("managed_roles") or ()]
    if spec.get("user"):
        roles.append(str(spec["user"]))
    return tuple(roles)


def sqldef_cases(root: Path = CORPUS_ROOT) -> Iterator[DiffCase]:
    """Yield psqldef's YAML cases (``current`` → ``desired``; a missing side is empty)."""
    for path in _sqldef_files(root):
        if not path.exists():
            continue
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, spec in data.items():
            if not isinstance(spec, dict):
                continue
            desired = str(spec.get("desired") or "")
            current = str(spec.get("current") or "")
            yield DiffCase(
                suite="sqldef",
                case_id=f"{path.stem}:{name}",
                before=current,
                after=desired,
                roles=_sqldef_roles(spec),
                renames=rename_answers(desired),
                upstream_no_change=bool(current) and spec.get("up") == "",
            )


def all_cases(root: Path = CORPUS_ROOT) -> list[DiffCase]:
    """Return every case of the three suites, in a stable order."""
    return [*pg_schema_diff_cases(root), *migra_cases(root), *sqldef_cases(root)]
