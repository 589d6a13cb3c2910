"""``dibs rebase``: after a merge, keep the upstream chain and put our new migrations on top.

Two branches that each added a migration after the same parent conflict in
``dibs.lock`` (both rewrote its head line). The three chains are read from
git with GitPython: the merge base's, ours (``HEAD``) and the upstream's
(``MERGE_HEAD`` during a merge, or ``--onto REF``). Then:

* the upstream chain is kept as it is: it may already be applied somewhere;
* our new migrations that ``dibs generate`` wrote and nobody edited are not
  kept as files but *regenerated* from the (merged) schema code, as one
  migration on top of the upstream head: their SQL was derived from a head
  that is no longer the parent;
* our hand-written (or hand-edited) migrations are re-parented, unchanged in
  body, only when they touch no table the upstream's new migrations touch and
  do not change the schema themselves; they go after the regenerated one,
  in their order. Otherwise rebase stops and says which migration and table
  need a person, leaving every file as it was.

A hand-written migration *before* a generated one on our side cannot be
moved after it without changing what it runs against, so that case stops
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from dibs.errors import DibsError
from dibs.repository.lock import LOCK_NAME, LockError
from dibs.repository.migration import Migration, parse_migration, render_migration

if TYPE_CHECKING:
    from dibs.autogenerate.questioner import Questioner
    from dibs.schema.model import Schema

__all__ = ["RebaseError", "RebasePlan", "plan_rebase", "write_rebase"]


class RebaseError(DibsError):
    """The migrations cannot be rebased without a person deciding."""


@dataclass(frozen=True, slots=True)
class _Side:
    """One side's chain read from a commit: migrations in lock order, plus schema.json text."""

    migrations: list[Migration]
    schema_json: str | None
    texts: dict[str, str]
    edited: frozenset[str] = frozenset()

    def hand_written(self, migration: Migration) -> bool:
        """Hand-written, or generated and edited afterwards: either way not regenerated."""
        return migration.manual or migration.name in self.edited


@dataclass(frozen=True, slots=True)
class RebasePlan:
    """What rebase writes: the upstream chain, then ours rebuilt, and the files to delete."""

    upstream: list[Migration]
    upstream_files: list[tuple[str, str]]  # (file name, exact text from git)
    regenerated: list[str]  # file names of our generated migrations replaced
    new_files: list[tuple[str, str]]  # (file name, text) appended after the upstream
    remove: list[str]
    schema_json: str


def _repo(path: Path) -> Any:
    import git

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise RebaseError(
            f"{path} is not in a git repository",
            hint="dibs rebase works on a git merge: run it inside the repository",
        ) from exc


def _upstream(repo: Any, onto: str | None) -> Any:
    import git

    ref = onto
    if ref is None:
        merge_head = Path(repo.git_dir) / "MERGE_HEAD"
        if not merge_head.exists():
            raise RebaseError(
                "no merge in progress and no --onto given",
                hint="run `git merge BRANCH` first (dibs rebase resolves the conflict in "
                "dibs.lock), or pass --onto REF to rebase onto REF's migrations",
            )
        ref = merge_head.read_text().split()[0]
    try:
        return repo.commit(ref)
    except (git.BadName, ValueError) as exc:
        raise RebaseError(f"unknown git revision {ref!r}", hint="name a branch or commit") from exc


def _read_side(commit: Any, rel: PurePosixPath) -> _Side:
    """The chain recorded at ``commit`` (empty when it has no migrations directory)."""
    from dibs.repository.lock import parse_lock_text

    try:
        folder = commit.tree / str(rel)
    except KeyError:
        return _Side([], None, {})

    def blob(name: str) -> str | None:
        try:
            data: bytes = (folder / name).data_stream.read()
        except KeyError:
            return None
        return data.decode("utf-8")

    lock_text = blob(LOCK_NAME)
    if lock_text is None:
        return _Side([], None, {})
    try:
        lock = parse_lock_text(lock_text, Path(str(rel), LOCK_NAME))
    except LockError as exc:
        raise RebaseError(
            f"dibs.lock at {commit.hexsha[:10]} is unreadable: {exc.message}",
            hint="each side of the merge must have an intact chain",
        ) from exc
    migrations = []
    texts: dict[str, str] = {}
    for name, _ in lock.entries:
        text = blob(name)
        if text is None:
            raise RebaseError(
                f"{name} is in dibs.lock at {commit.hexsha[:10]} but not in that commit",
                hint="each side of the merge must have an intact chain",
            )
        migrations.append(parse_migration(Path(str(rel), name), text))
        texts[name] = text
    recorded = dict(lock.entries)
    edited = frozenset(m.name for m in migrations if recorded[m.name] != m.id)
    return _Side(migrations, blob("schema.json"), texts, edited)


def _common_prefix(a: list[Migration], b: list[Migration]) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n].id == b[n].id:
        n += 1
    return n


def _tables(migrations: list[Migration]) -> set[str]:
    from dibs.repository.history import operations

    return {t.table for m in migrations for _, touched in operations(m) for t in touched}


def plan_rebase(
    migrations_dir: Path,
    declared: Schema,
    *,
    onto: str | None,
    questioner: Questioner,
) -> RebasePlan:
    """Work out the rebased chain (nothing is written; see ``write_rebase``).

    Raises:
        RebaseError: no merge, unreadable sides, or a migration needing a person.
    """
    from dibs.schema.canonical import from_json, to_json
    from dibs.schema.model import Schema

    repo = _repo(migrations_dir)
    top = Path(repo.working_tree_dir).resolve()
    rel = PurePosixPath(migrations_dir.resolve().relative_to(top).as_posix())
    upstream_commit = _upstream(repo, onto)
    ours = _read_side(repo.head.commit, rel)
    theirs = _read_side(upstream_commit, rel)
    bases = repo.merge_base(repo.head.commit, upstream_commit)
    base = _read_side(bases[0], rel) if bases else _Side([], None, {})
    shared = _common_prefix(ours.migrations, theirs.migrations)
    if shared < len(base.migrations) or _common_prefix(base.migrations, ours.migrations) < len(
        base.migrations
    ):
        raise RebaseError(
            "our chain and the upstream's do not both extend the merge base's chain",
            hint="a migration that was already shared was changed on one side; restore it",
        )
    mine = ours.migrations[shared:]
    upstream = theirs.migrations
    upstream_files = [(m.name, theirs.texts[m.name]) for m in upstream]
    if not mine:
        return RebasePlan(
            upstream, upstream_files, [], [], [], theirs.schema_json or to_json(Schema.build())
        )
    upstream_new = upstream[shared:]
    touched_upstream = _tables(upstream_new)
    generated = [m for m in mine if not ours.hand_written(m)]
    manual = [m for m in mine if ours.hand_written(m)]
    if generated and manual and mine.index(manual[0]) < mine.index(generated[-1]):
        raise RebaseError(
            f"{manual[0].name} is hand-written and comes before generated migrations; "
            "rebase cannot move it without changing what it runs against",
            hint="abort the merge (`git merge --abort`), then either squash your migrations "
            "into generated ones or re-create them on top of the upstream by hand",
        )
    parent_fp = {m.id: m.fingerprint for m in ours.migrations}
    for m in manual:
        before = parent_fp.get(m.parent)
        if before is not None and before != m.fingerprint:
            raise RebaseError(
                f"{m.name} is hand-written and changes the schema; rebase cannot know "
                "what it does on top of the upstream's changes",
                hint="abort the merge, or remove it, rebase, and write it again with "
                "`dibs generate --empty` then `dibs seal --replay`",
            )
        overlap = _tables([m]) & touched_upstream
        if overlap:
            raise RebaseError(
                f"{m.name} is hand-written and touches {', '.join(sorted(overlap))}, "
                "which the upstream's new migrations also change",
                hint="a person must decide the order: abort the merge, or move your "
                "migration's SQL into a new `dibs generate --empty` migration after rebasing",
            )
    head_schema = from_json(theirs.schema_json) if theirs.schema_json else Schema.build()
    new_files = _rebuilt(upstream, head_schema, declared, generated, manual, questioner)
    schema_json = to_json(declared.managed()) if generated else to_json(head_schema)
    return RebasePlan(
        upstream,
        upstream_files,
        [m.name for m in generated],
        new_files,
        [m.name for m in mine],
        schema_json,
    )


def _rebuilt(
    upstream: list[Migration],
    head_schema: Schema,
    declared: Schema,
    generated: list[Migration],
    manual: list[Migration],
    questioner: Questioner,
) -> list[tuple[str, str]]:
    """Our migrations on top of ``upstream``: one regenerated, then the hand-written ones."""
    from dibs.repository.chain import Chain
    from dibs.repository.generate import draft_migration
    from dibs.repository.migration import content_id
    from dibs.repository.store import next_file_name

    files: list[tuple[str, str]] = []
    chain = Chain(Path("."), tuple(upstream), None)
    parent = chain.head_id
    fingerprint = chain.fingerprint
    number_base = chain
    if generated:
        message = " + ".join(m.message for m in generated)
        draft = draft_migration(chain, head_schema, declared, message, questioner=questioner)
        if draft is not None:
            name = next_file_name(number_base, generated[0].message)
            files.append((name, draft.text))
            parent, fingerprint = content_id(draft.text), draft.fingerprint
            number_base = Chain(
                Path("."), (*upstream, parse_migration(Path(name), draft.text)), None
            )
    for m in manual:
        text = render_migration(
            parent=parent,
            fingerprint=fingerprint or m.fingerprint,
            message=m.message,
            body=m.body,
            transactional=m.transactional,
            manual=True,
        )
        name = next_file_name(number_base, m.message)
        files.append((name, text))
        parent = content_id(text)
        number_base = Chain(
            Path("."), (*number_base.migrations, parse_migration(Path(name), text)), None
        )
    return files


def write_rebase(migrations_dir: Path, plan: RebasePlan) -> list[Path]:
    """Write the rebased chain into ``migrations_dir``; return the new files."""
    from dibs.repository.chain import SCHEMA_NAME
    from dibs.repository.store import rewrite_lock, write_atomic

    migrations_dir.mkdir(parents=True, exist_ok=True)
    keep = {m.name for m in plan.upstream}
    for name in plan.remove:
        if name not in keep:
            (migrations_dir / name).unlink(missing_ok=True)
    for name, text in plan.upstream_files:
        write_atomic(migrations_dir / name, text)
    written = []
    for name, text in plan.new_files:
        write_atomic(migrations_dir / name, text)
        written.append(migrations_dir / name)
    chain = [parse_migration(migrations_dir / m.name) for m in plan.upstream]
    chain += [parse_migration(p) for p in written]
    write_atomic(migrations_dir / SCHEMA_NAME, plan.schema_json)
    rewrite_lock(migrations_dir, chain)
    return written
