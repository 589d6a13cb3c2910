"""What ``dibs check`` verifies besides the chain: SQL syntax (cached) and hazards.

Syntax is checked with Postgres's own grammar (pglast). A migration's id is
the hash of its content, so a file that parsed once parses again: ids that
passed are remembered in ``.dibs/cache/parsed`` and not parsed twice, which
keeps the pre-commit hook fast on long histories.

Hazards of a migration are read from the comments ``dibs generate`` writes
(``--    hazard: …``); hand-written migrations are classified statement by
statement from their parse tree (drops lose data; an index built without
CONCURRENTLY blocks writes; …).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dibs.errors import SqlSyntaxError
from dibs.repository.migration import Migration

__all__ = ["ParseCache", "check_syntax", "migration_hazards"]

_HAZARD_COMMENT = re.compile(r"^--\s+hazard: (.+)$", re.MULTILINE)


class ParseCache:
    """Content ids of migrations known to parse, stored one per line under ``.dibs/cache``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.known = set(path.read_text(encoding="ascii").split())
        except (OSError, UnicodeDecodeError):
            self.known = set()
        self._added: set[str] = set()

    def __contains__(self, content_id: str) -> bool:
        return content_id in self.known

    def add(self, content_id: str) -> None:
        if content_id not in self.known:
            self.known.add(content_id)
            self._added.add(content_id)

    def save(self) -> None:
        """Write the cache if it grew; a read-only checkout simply does not cache."""
        if not self._added:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("\n".join(sorted(self.known)) + "\n", encoding="ascii")
            tmp.replace(self.path)
        except OSError:
            pass


def check_syntax(migrations: Iterable[Migration], cache: ParseCache | None) -> list[SqlSyntaxError]:
    """Parse every migration body not already known to parse; return the errors."""
    errors: list[SqlSyntaxError] = []
    pending = [m for m in migrations if cache is None or m.id not in cache]
    if not pending:
        return errors
    from dibs.render.validate import validate

    for migration in pending:
        try:
            validate(migration.body, file=str(migration.path), first_line=migration.body_line)
        except SqlSyntaxError as exc:
            errors.append(exc)
            continue
        if cache is not None:
            cache.add(migration.id)
    return errors


def migration_hazards(migration: Migration) -> list[str]:
    """Hazards of one migration: its generated comments, or its statements' kinds."""
    if not migration.manual:
        return _HAZARD_COMMENT.findall(migration.body)
    return [h for stmt in _statements(migration.body) for h in _statement_hazards(stmt)]


def _statements(sql: str) -> list[Any]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return [raw.stmt for raw in parse_sql(sql)]
    except ParseError:
        return []


def _statement_hazards(stmt: Any) -> list[str]:
    """Hazards of one hand-written statement, from its node type (what squawk checks first)."""
    from pglast import ast, enums

    if isinstance(stmt, ast.DropStmt):
        kind = str(getattr(stmt.removeType, "name", "")).removeprefix("OBJECT_").lower()
        return [f"data loss: DROP {kind.upper()}"] if kind in ("table", "schema") else []
    if isinstance(stmt, ast.TruncateStmt):
        return ["data loss: TRUNCATE"]
    if isinstance(stmt, ast.IndexStmt) and not stmt.concurrent:
        return ["index build blocks writes (use CREATE INDEX CONCURRENTLY, transaction: false)"]
    if isinstance(stmt, ast.AlterTableStmt):
        found: list[str] = []
        for cmd in stmt.cmds or ():
            subtype = enums.AlterTableType(cmd.subtype).name
            if subtype == "AT_DropColumn":
                found.append(f"data loss: DROP COLUMN {cmd.name}")
            elif subtype == "AT_AlterColumnType":
                found.append(f"table rewrite: ALTER COLUMN {cmd.name} TYPE")
            elif subtype == "AT_SetNotNull":
                found.append(f"SET NOT NULL scans the table ({cmd.name})")
        return found
    if isinstance(stmt, ast.DeleteStmt | ast.UpdateStmt) and stmt.whereClause is None:
        verb = type(stmt).__name__.removesuffix("Stmt").upper()
        return [f"{verb} without WHERE touches every row"]
    return []
