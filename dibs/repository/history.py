"""What a migration touched and when it was committed: the data behind ``dibs log``.

What a statement touches is read from Postgres's parse tree (pglast), not
from text: ``users`` in a string literal does not count, a quoted
``"Users"`` is a different table. Dates come from one ``git log`` call over
the migrations directory (the first commit that added each file); outside a
repository, or for a file not committed yet, there is no date.

The git plumbing here uses the ``git`` executable directly: ``dibs log`` and
``dibs check`` only need a file list, and starting git is cheaper than
importing GitPython on the pre-commit fast path. ``dibs rebase``, which
walks merges, uses GitPython.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dibs.repository.migration import Migration

__all__ = [
    "Touch",
    "added_dates",
    "files_at",
    "git_root",
    "merge_base",
    "operations",
]


@dataclass(frozen=True, slots=True)
class Touch:
    """A table, and optionally one of its columns, that a statement creates, alters or drops."""

    table: str
    column: str | None = None


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None


def git_root(path: Path) -> Path | None:
    """The top of the git work tree holding ``path``, or None outside git."""
    out = _git(path, "rev-parse", "--show-toplevel")
    return Path(out.strip()) if out else None


def added_dates(directory: Path) -> dict[str, str]:
    """File name → ISO date of the commit that first added it (committed files only)."""
    out = _git(directory, "log", "--diff-filter=A", "--format=%x00%cs", "--name-only", "--", ".")
    dates: dict[str, str] = {}
    if not out:
        return dates
    for block in out.split("\x00")[1:]:
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        date = lines[0]
        for name in lines[1:]:
            dates[Path(name).name] = date  # newest first: the oldest add wins
    return dates


def merge_base(directory: Path, base: str | None) -> str | None:
    """The merge base of HEAD and ``base`` (default: origin/HEAD, main, master)."""
    if base is None:
        # One git call lists which of the usual base branches exist.
        refs = _git(
            directory,
            "for-each-ref",
            "--format=%(refname)",
            "refs/remotes/origin/HEAD",
            "refs/remotes/origin/main",
            "refs/heads/main",
            "refs/heads/master",
        )
        if not refs:
            return None
        base = refs.split()[0]
    out = _git(directory, "merge-base", "HEAD", base)
    return out.strip() if out else None


def files_at(directory: Path, commit: str) -> set[str] | None:
    """Names of the files in ``directory`` at ``commit`` (None when git cannot tell)."""
    out = _git(directory, "ls-tree", "--name-only", commit, "./")
    if out is None:
        return None
    return {Path(line).name for line in out.splitlines() if line}


def operations(migration: Migration) -> list[tuple[str, set[Touch]]]:
    """Each operation of ``migration`` as (one line saying what it does, what it touches).

    A generated migration is cut at its ``-- N. description`` comments; a
    hand-written one is taken statement by statement.
    """
    chunks: list[tuple[str, list[str]]] = []
    if not migration.manual:
        for line in migration.body.splitlines():
            head = line[3:].split(". ", 1) if line.startswith("-- ") else []
            if len(head) == 2 and head[0].isdigit():
                chunks.append((head[1], []))
            elif chunks:
                chunks[-1][1].append(line)
    if chunks:
        return [(title, _touches("\n".join(sql))) for title, sql in chunks]
    return [(_statement_kind(stmt), _statement_touches(stmt)) for stmt in _parse(migration.body)]


def _touches(sql: str) -> set[Touch]:
    found: set[Touch] = set()
    for stmt in _parse(sql):
        found |= _statement_touches(stmt)
    return found


def _parse(sql: str) -> list[Any]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return [raw.stmt for raw in parse_sql(sql)]
    except ParseError:
        return []


def _statement_kind(stmt: Any) -> str:
    from pglast.stream import RawStream

    text: str = RawStream()(stmt)
    return text if len(text) <= 70 else text[:67] + "..."


def _statement_touches(stmt: Any) -> set[Touch]:
    """Dispatch on the node's class name (pglast's typed nodes are all ``Any`` here)."""
    from pglast import enums

    kind = type(stmt).__name__
    found: set[Touch] = set()
    relation = getattr(stmt, "relation", None)
    table = str(relation.relname) if relation is not None else None
    if table is not None:
        found.add(Touch(table))
    if kind == "CreateStmt" and table:
        found |= {Touch(table, e.colname) for e in stmt.tableElts or () if hasattr(e, "colname")}
    elif kind == "AlterTableStmt" and table:
        for cmd in stmt.cmds or ():
            found |= _alter_touches(table, cmd)
    elif kind == "RenameStmt" and table:
        if stmt.renameType == enums.ObjectType.OBJECT_COLUMN:
            found |= {Touch(table, stmt.subname), Touch(table, stmt.newname)}
        elif stmt.renameType == enums.ObjectType.OBJECT_TABLE:
            found.add(Touch(stmt.newname))
    elif kind == "IndexStmt" and table:
        found |= {Touch(table, p.name) for p in stmt.indexParams or () if p.name}
    elif kind == "DropStmt" and stmt.removeType == enums.ObjectType.OBJECT_TABLE:
        found |= {Touch(names[-1].sval) for names in stmt.objects or ()}
    elif kind == "CommentStmt" and stmt.objtype == enums.ObjectType.OBJECT_TABLE:
        found.add(Touch(stmt.object[-1].sval))
    elif kind == "CommentStmt" and stmt.objtype == enums.ObjectType.OBJECT_COLUMN:
        found.add(Touch(stmt.object[-2].sval, stmt.object[-1].sval))
    return found


def _alter_touches(table: str, cmd: Any) -> set[Touch]:
    definition: Any = getattr(cmd, "def_", None)
    kind = type(definition).__name__
    found: set[Touch] = set()
    if kind == "ColumnDef":
        found.add(Touch(table, definition.colname))
    elif cmd.name:
        found.add(Touch(table, cmd.name))
    if kind == "Constraint":
        for key in (definition.keys or ()) + (definition.fk_attrs or ()):
            found.add(Touch(table, key.sval))
    return found


def original_text(path: Path, recorded_id: str) -> str | None:
    """The committed version of ``path`` whose content id is ``recorded_id``, if git has it."""
    from dibs.repository.migration import content_id

    folder = path.parent
    commits = _git(folder, "log", "--format=%H", "--", path.name)
    if commits is None:
        return None
    for commit in commits.split():
        text = _git(folder, "show", f"{commit}:./{path.name}")
        if text is not None and content_id(text) == recorded_id:
            return text
    return None


def edit_kind(path: Path, recorded_id: str, *, current: Path | None = None) -> str | None:
    """How an edited migration differs from its recorded version.

    ``"cosmetic"`` when its header fields that matter and its statements are
    the same after parsing (layout, comments, message), ``"behaviour"``
    otherwise, ``None`` when no committed version has the recorded id. Git
    history is looked up at ``path``; the edited text is read from
    ``current`` when given (the hook's copy of the staged file).
    """
    from dibs.render.format import same_meaning
    from dibs.repository.migration import parse_migration

    old_text = original_text(path, recorded_id)
    if old_text is None:
        return None
    old = parse_migration(path, old_text)
    new = parse_migration(current or path)
    same_header = (old.parent, old.fingerprint, old.transactional) == (
        new.parent,
        new.fingerprint,
        new.transactional,
    )
    if same_header and (old.body.strip() == new.body.strip() or same_meaning(old.body, new.body)):
        return "cosmetic"
    return "behaviour"
