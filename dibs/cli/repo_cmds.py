"""The repository verbs: ``generate``, ``check``, ``log`` and ``seal``.

``generate`` and ``check`` never touch a database unless asked (``--from-db``,
``-d``): the head snapshot is ``schema.json`` and the declared schema is
imported from code, so both run in a pre-commit hook with no server. The
fast path of ``check`` imports neither the diff engine nor psycopg; only a
failure (drift to summarise) pulls them in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dibs.cli.context import (
    database_option,
    declared_schema,
    format_option,
    project_config,
    rename_options,
)
from dibs.errors import EXIT_DIFFERENT, EXIT_ERROR, EXIT_OK, DibsError

if TYPE_CHECKING:
    from dibs.config import Config
    from dibs.ops import Op
    from dibs.repository.cache import FingerprintCache
    from dibs.repository.chain import Chain, Problem
    from dibs.repository.generate import Draft
    from dibs.repository.history import Touch
    from dibs.repository.migration import Migration
    from dibs.schema.model import Schema

__all__ = ["check_cmd", "generate_cmd", "log_cmd", "rebase_cmd", "seal_cmd", "verify_cmd"]

dev_url_option = click.option(
    "--dev-url",
    metavar="URL",
    default=None,
    help="Server on which to create the throwaway database (default: the embedded one).",
)


class DataLossRefused(DibsError):
    """A generated migration would drop data and nobody said that was intended."""


def _cache_dir(config: Config) -> Path:
    """Where check caches parse results: ``$DIBS_CACHE_DIR`` (the git hook) or ``.dibs/cache``."""
    from dibs.config import private_dir

    env = os.environ.get("DIBS_CACHE_DIR")
    return Path(env) if env else private_dir(config.root) / "cache"


# -- generate ------------------------------------------------------------------


@click.command("generate")
@click.argument("name", required=False)
@click.option("--empty", "empty_name", metavar="NAME", help="Start a hand-written migration.")
@click.option(
    "--non-transactional",
    is_flag=True,
    help="With --empty: run the migration outside a transaction (CREATE INDEX CONCURRENTLY…).",
)
@click.option(
    "--from-db", is_flag=True, help="Diff the live database against the code, not the head."
)
@click.option(
    "--allow-data-loss",
    is_flag=True,
    help="Write a migration that drops tables, columns or narrows types without asking.",
)
@rename_options
@database_option
def generate_cmd(
    name: str | None,
    empty_name: str | None,
    non_transactional: bool,
    from_db: bool,
    allow_data_loss: bool,
    renames: tuple[str, ...],
    no_renames: tuple[str, ...],
    database_url: str | None,
) -> None:
    """Write the next migration: from the head's schema to the declared one (no database).

    NAME becomes the migration's message and file name. Exit 0 when a
    migration was written or there was nothing to do.
    """
    from dibs.cli.questioner import build_questioner, parse_rename_flags, stdio_is_terminal
    from dibs.errors import UsageError
    from dibs.repository.chain import load_chain
    from dibs.repository.generate import draft_migration, empty_migration, head_schema
    from dibs.repository.store import next_file_name, write_migration

    if (name is None) == (empty_name is None):
        raise UsageError(
            "give a migration name: `dibs generate NAME` or `dibs generate --empty NAME`",
            hint="the name becomes the message and file name, e.g. `dibs generate add_posts`",
        )
    if non_transactional and empty_name is None:
        raise UsageError(
            "--non-transactional goes with --empty",
            hint="generated migrations run in a transaction; write a hand-written one for "
            "CREATE INDEX CONCURRENTLY",
        )
    config = project_config(database_url)
    chain = load_chain(config.migrations_dir)
    if empty_name is not None:
        draft = empty_migration(chain, empty_name, transactional=not non_transactional)
        written = write_migration(
            chain, next_file_name(chain, empty_name), draft.text, draft.schema_json
        )
        _say_written(written.path, config)
        click.echo(written.path)
        return
    assert name is not None
    target = declared_schema(config)
    source = _live_schema(config) if from_db else head_schema(chain)
    answers = parse_rename_flags(renames, no_renames)
    questioner = build_questioner(answers, interactive=stdio_is_terminal())
    drafted = draft_migration(chain, source, target, name, questioner=questioner)
    if drafted is None:
        from dibs.cli.output import err

        err.print("[green]nothing to do[/]: the schema code matches the head migration")
        return
    _confirm_data_loss(drafted, allow_data_loss)
    written = write_migration(chain, next_file_name(chain, name), drafted.text, drafted.schema_json)
    _show_draft(drafted, written.path)
    _say_written(written.path, config)


def _live_schema(config: Config) -> Schema:
    from dibs.cli.context import open_database
    from dibs.repository.replay import live_schema

    with open_database(config) as conn:
        return live_schema(conn)


def _confirm_data_loss(draft: Draft, allowed: bool) -> None:
    """Data-losing operations need ``--allow-data-loss`` or a yes at the terminal."""
    from dibs.cli.questioner import stdio_is_terminal
    from dibs.ops.base import Hazard

    losing = [op for op in draft.ops if Hazard.DATA_LOSS in op.hazards]
    if not losing or allowed:
        return
    listing = "\n".join(f"  {op.describe()}" for op in losing)
    if stdio_is_terminal():
        click.echo(f"this migration loses data:\n{listing}", err=True)
        if click.confirm("write it anyway?", default=False, err=True):
            return
    raise DataLossRefused(
        f"the migration would lose data:\n{listing}",
        hint="if that is intended, run again with --allow-data-loss; a rename needs "
        "a renamed_from hint or --rename so the data is kept",
    )


def _show_draft(draft: Draft, path: Path) -> None:
    from rich.syntax import Syntax

    from dibs.cli.output import out

    out.print(Syntax(draft.text, "sql", theme="ansi_dark", background_color="default"))
    hazards = sorted({h.value for op in draft.ops for h in op.hazards})
    if hazards:
        from dibs.cli.output import err

        err.print(f"[bold yellow]hazards:[/] {', '.join(hazards)}")


def _say_written(path: Path, config: Config) -> None:
    from dibs.cli.output import err

    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    err.print(f"[green]wrote[/] {shown}; dibs.lock and schema.json updated")


# -- check ---------------------------------------------------------------------


@click.command("check")
@database_option
@format_option
@click.option("--base", metavar="REF", help="Report hazards of migrations added since REF.")
@click.option("--no-cache", is_flag=True, help="Parse every migration again.")
def check_cmd(database_url: str | None, fmt: str, base: str | None, no_cache: bool) -> None:
    """Check migrations and code agree, without a database (exit 0 ok, 1 drift, 2 broken).

    Verifies the hash chain, that every migration parses, that schema.json
    matches the head, and that the declared schema's fingerprint is the
    head's. With -d it also compares the live database with the head.
    """
    from dibs.repository.cache import FingerprintCache
    from dibs.repository.chain import inspect_chain, schema_problem
    from dibs.repository.checks import ParseCache, check_syntax

    config = project_config(database_url)
    chain, problems = inspect_chain(config.migrations_dir)
    problems = [_relative(_explain_edit(config, chain, p), config.root) for p in problems]
    fingerprints = None if no_cache else FingerprintCache(_cache_dir(config) / "fingerprints.json")
    if not problems:
        problem = schema_problem(chain, fingerprints)
        problems += [problem] if problem else []
    cache = None if no_cache else ParseCache(_cache_dir(config) / "parsed")
    syntax = check_syntax(chain.migrations, cache)
    if cache is not None:
        cache.save()
    report: dict[str, Any] = {
        "migrations": len(chain.migrations),
        "head": chain.head_id,
        "problems": [_problem_json(p) for p in problems],
        "syntax_errors": [
            {"file": e.file, "line": e.line, "column": e.column, "message": e.message}
            for e in syntax
        ],
        "drift": None,
        "live_drift": None,
        "hazards": [],
    }
    if not problems:
        report["drift"] = _code_drift(config, chain, fingerprints)
        report["hazards"] = _new_hazards(chain, base)
        if database_url:
            report["live_drift"] = _live_drift(config, chain)
    if fingerprints is not None:
        fingerprints.save()
    code = EXIT_ERROR if problems or syntax else EXIT_OK
    if code == EXIT_OK and (report["drift"] or report["live_drift"]):
        code = EXIT_DIFFERENT
    report["ok"] = code == EXIT_OK
    if fmt == "json":
        from dibs.cli.output import emit_json

        emit_json(report)
    else:
        _print_check(report, problems, syntax)
    click.get_current_context().exit(code)


def _relative(problem: Problem, root: Path) -> Problem:
    """Name files relative to the project (the hook checks a temporary copy of it)."""
    from dataclasses import replace

    location = problem.location
    if location is None or not Path(location.file).is_absolute():
        return problem
    try:
        shown = Path(location.file).relative_to(root)
    except ValueError:
        return problem
    hint = problem.hint.replace(str(root) + os.sep, "") if problem.hint else None
    return replace(problem, location=replace(location, file=str(shown)), hint=hint)


def _explain_edit(config: Config, chain: Chain, problem: Problem) -> Problem:
    """Say whether an edited migration's change is cosmetic or changes behaviour (from git).

    The git hook checks a temporary copy of the staged files and names the
    real work tree in ``$DIBS_WORKTREE``, where git can find the history.
    """
    from dataclasses import replace

    from dibs.repository.history import edit_kind

    if problem.kind != "edited" or problem.path is None:
        return problem
    worktree = os.environ.get("DIBS_WORKTREE")
    history_path = problem.path
    if worktree:
        history_path = Path(worktree) / problem.path.relative_to(config.root)
    kind = edit_kind(history_path, chain.recorded.get(problem.path.name, ""), current=problem.path)
    if kind == "cosmetic":
        detail = "the change is cosmetic: the same statements after parsing"
    elif kind == "behaviour":
        detail = "the change alters what it does"
    else:
        detail = "git has no committed version with the recorded id to compare with"
    return replace(problem, message=f"{problem.message} ({detail})")


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {
        "kind": problem.kind,
        "message": problem.message,
        "file": problem.location.file if problem.location else None,
        "line": problem.location.line if problem.location else None,
        "hint": problem.hint,
    }


def _code_drift(config: Config, chain: Chain, cache: FingerprintCache | None) -> list[str] | None:
    """None when the declared schema has the head's fingerprint, else what differs."""

    def compute() -> str:
        from dibs.schema.canonical import fingerprint

        return fingerprint(declared_schema(config))

    found = (
        compute() if cache is None else cache.declared(config.schema_modules, config.root, compute)
    )
    if found == (chain.fingerprint or _empty_fingerprint()):
        return None
    return _describe_difference(_head(chain), declared_schema(config))


def _empty_fingerprint() -> str:
    from dibs.schema.canonical import fingerprint
    from dibs.schema.model import Schema

    return fingerprint(Schema.build())


def _head(chain: Chain) -> Schema:
    from dibs.repository.generate import head_schema

    return head_schema(chain)


def _describe_difference(source: Schema, target: Schema) -> list[str]:
    from dibs.autogenerate import diff
    from dibs.autogenerate.questioner import CannedQuestioner

    questioner = CannedQuestioner({}, default=False)
    ops: list[Op] = diff(source.managed(), target.managed(), questioner=questioner)
    lines = [op.describe() for op in ops] or ["(the fingerprints differ)"]
    return lines + [
        f"possible rename (decide at generate): {c.describe()}" for c in questioner.asked
    ]


def _live_drift(config: Config, chain: Chain) -> list[str] | None:
    from dibs.schema.canonical import fingerprint

    live = _live_schema(config)
    if fingerprint(live) == (chain.fingerprint or _empty_fingerprint()):
        return None
    return _describe_difference(_head(chain), live)


def _new_hazards(chain: Chain, base: str | None) -> list[dict[str, Any]]:
    """Hazards of migrations not in the merge base with ``base`` (all, outside git)."""
    from dibs.repository.checks import migration_hazards
    from dibs.repository.history import files_at, merge_base

    since = merge_base(chain.directory, base)
    existing = files_at(chain.directory, since) if since else None
    if existing is None:
        existing = set()
    found = []
    for migration in chain.migrations:
        if migration.name in existing:
            continue
        hazards = migration_hazards(migration)
        if hazards:
            found.append({"file": migration.name, "hazards": hazards})
    return found


def _print_check(report: dict[str, Any], problems: list[Problem], syntax: list[Any]) -> None:
    if report["ok"] and not report["hazards"]:
        # The pre-commit fast path: click's styling, without importing rich.
        click.echo(
            click.style("ok", fg="green", bold=True)
            + f": {report['migrations']} migrations, chain intact, code matches the head",
            color=None if not os.environ.get("NO_COLOR") else False,
        )
        return
    from rich.markup import escape

    from dibs.cli.output import err, out

    for problem in problems:
        where = f"{escape(str(problem.location))}: " if problem.location else ""
        err.print(f"[bold red]error:[/] {where}{escape(problem.message)}")
        if problem.hint:
            err.print(f"  [cyan]hint:[/] {escape(problem.hint)}")
    for exc in syntax:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
    if report["drift"]:
        err.print("[bold red]schema code drifted from migrations[/] — run `dibs generate NAME`:")
        for line in report["drift"]:
            err.print(f"  {escape(line)}")
    if report["live_drift"]:
        err.print("[bold red]the live database differs from the head migration[/]:")
        for line in report["live_drift"]:
            err.print(f"  {escape(line)}")
    hazards: list[dict[str, Any]] = report["hazards"]
    for item in hazards:
        for hazard in item["hazards"]:
            err.print(f"[yellow]hazard[/] {escape(item['file'])}: {escape(hazard)}")
    if report["ok"]:
        out.print(
            f"[green]ok[/]: {report['migrations']} migrations, chain intact, code matches the head"
        )


# -- log -----------------------------------------------------------------------


@click.command("log")
@click.argument("target", required=False, metavar="[TABLE[.COLUMN]]")
@format_option
def log_cmd(target: str | None, fmt: str) -> None:
    """Show the migration history, newest first; TABLE[.COLUMN] filters to what touched it."""
    from dibs.repository.chain import load_chain
    from dibs.repository.history import added_dates, operations

    config = project_config()
    chain = load_chain(config.migrations_dir, check_schema=False)
    dates = added_dates(chain.directory) if chain.migrations else {}
    wanted = _log_filter(target)
    entries: list[dict[str, Any]] = []
    for migration in reversed(chain.migrations):
        lines = [line for line, touched in operations(migration) if not wanted or wanted & touched]
        if not lines:
            continue
        entries.append(
            {
                "id": migration.id,
                "file": migration.name,
                "message": migration.message,
                "date": dates.get(migration.name),
                "operations": lines,
                "manual": migration.manual,
            }
        )
    if fmt == "json":
        from dibs.cli.output import emit_json

        emit_json(entries)
        return
    from rich.markup import escape

    from dibs.cli.output import out

    if not entries:
        out.print("[dim]no migrations[/]" + (f" touch {escape(target)}" if target else ""))
    for entry in entries:
        date = entry["date"] or "uncommitted"
        kind = " [magenta](manual)[/]" if entry["manual"] else ""
        out.print(
            f"[yellow]{entry['id'][:12]}[/] {date} [bold]{escape(entry['message'])}[/]{kind}"
            f" [dim]{escape(entry['file'])}[/]"
        )
        for line in entry["operations"]:
            out.print(f"    {escape(line)}")


def _log_filter(target: str | None) -> set[Touch]:
    """What ``dibs log TARGET`` matches: ``t``, ``t.col``, ``schema.t`` or ``schema.t.col``.

    Statements name tables without their schema as often as with it, so a
    table matches by name; ``a.b`` is either table ``a`` column ``b`` or table
    ``b`` in schema ``a``.
    """
    from dibs.repository.history import Touch

    if not target:
        return set()
    parts = target.split(".")
    if len(parts) == 1:
        return {Touch(parts[0])}
    if len(parts) == 2:
        return {Touch(parts[0], parts[1]), Touch(parts[1])}
    return {Touch(parts[-2], parts[-1])}


# -- seal ----------------------------------------------------------------------


@click.command("seal")
@click.option(
    "--replay",
    is_flag=True,
    help="Also re-record the schema fingerprint by replaying the chain "
    "(a hand-written migration that changes the schema).",
)
@dev_url_option
def seal_cmd(replay: bool, dev_url: str | None) -> None:
    """Record the head migration's new content after you edited it (before pushing it).

    Only the head can be sealed: no other migration names it as parent yet.
    Once a migration is shared or applied, put changes in a new one.
    """
    from dibs.repository.chain import ChainError, inspect_chain
    from dibs.repository.store import rewrite_lock

    config = project_config()
    chain, problems = inspect_chain(config.migrations_dir)
    head = chain.head
    others = [p for p in problems if not (p.kind == "edited" and head and p.path == head.path)]
    if others:
        raise others[0].error()
    if head is None:
        raise ChainError("there is no migration to seal", hint="`dibs generate NAME` first")
    migrations = list(chain.migrations)
    if replay:
        migrations[-1] = _refingerprint(config, chain, dev_url)
    elif chain.recorded.get(head.name) == head.id:
        from dibs.cli.output import err

        err.print(f"[green]nothing to do[/]: {head.name} is unchanged")
        return
    rewrite_lock(chain.directory, migrations)
    click.echo(f"sealed {head.name} ({migrations[-1].short_id})")


def _refingerprint(config: Config, chain: Chain, dev_url: str | None) -> Migration:
    """Replay the chain, write the head's real fingerprint into it and schema.json."""
    from dibs.repository.chain import SCHEMA_NAME
    from dibs.repository.migration import parse_migration, render_migration
    from dibs.repository.replay import replay_schema
    from dibs.repository.store import write_atomic
    from dibs.schema.canonical import fingerprint, to_json

    head = chain.migrations[-1]
    schema = replay_schema(_admin_url(config, dev_url), list(chain.migrations))
    text = render_migration(
        parent=head.parent,
        fingerprint=fingerprint(schema),
        message=head.message,
        body=head.body,
        transactional=head.transactional,
        manual=head.manual,
    )
    write_atomic(head.path, text)
    write_atomic(chain.directory / SCHEMA_NAME, to_json(schema))
    return parse_migration(head.path)


def _admin_url(config: Config, dev_url: str | None) -> str:
    """The server throwaway databases are made on: --dev-url, else the embedded one.

    Never the project's own database: replaying there would apply migrations
    to it.
    """
    if dev_url:
        return dev_url
    from dibs.cli.output import err
    from dibs.postgres import embedded

    url = embedded.start(config.root)
    err.print(f"[dim]replaying on the embedded Postgres in {config.root / '.dibs'}[/]")
    return url


# -- verify --------------------------------------------------------------------


@click.command("verify")
@dev_url_option
@format_option
def verify_cmd(dev_url: str | None, fmt: str) -> None:
    """Replay every migration on a throwaway database and check what each one records.

    After each migration the database must have the fingerprint its header
    records; at the end it must equal schema.json and the declared schema.
    Exit 0 verified, 1 the code differs from the head, 2 a migration lies or fails.
    """
    from dibs.repository.chain import load_chain
    from dibs.repository.replay import ReplayError, replay

    config = project_config()
    chain = load_chain(config.migrations_dir)
    steps = replay(_admin_url(config, dev_url), list(chain.migrations))
    drift = _code_drift(config, chain, None)
    bad = next((s for s in steps if not s.ok), None)
    if fmt == "json":
        from dibs.cli.output import emit_json

        emit_json(
            {
                "ok": bad is None and drift is None,
                "steps": [
                    {"file": s.migration.name, "recorded": s.recorded, "produced": s.produced}
                    for s in steps
                ],
                "drift": drift,
            }
        )
    else:
        from rich.markup import escape

        from dibs.cli.output import out

        for step in steps:
            mark = "[green]ok[/]  " if step.ok else "[bold red]FAIL[/]"
            out.print(f"{mark} {escape(step.migration.name)}")
    if bad is not None:
        raise ReplayError(
            f"{bad.migration.name} records schema fingerprint {bad.recorded[:12]} but leaves "
            f"the database at {bad.produced[:12]}: its SQL does not do what its header says",
            hint="restore the file from git; a hand-written migration that changes the "
            "schema is sealed with `dibs seal --replay` before it is shared",
        )
    if drift is not None:
        from dibs.cli.output import err

        err.print("[bold red]schema code drifted from migrations[/] — run `dibs generate NAME`")
        click.get_current_context().exit(EXIT_DIFFERENT)
    if fmt != "json":
        from dibs.cli.output import out

        out.print(f"[green]verified[/]: {len(steps)} migrations replay to the declared schema")


# -- rebase --------------------------------------------------------------------


@click.command("rebase")
@click.option(
    "--onto",
    metavar="REF",
    default=None,
    help="Upstream whose chain is kept (default: MERGE_HEAD of the merge in progress).",
)
@rename_options
def rebase_cmd(onto: str | None, renames: tuple[str, ...], no_renames: tuple[str, ...]) -> None:
    """After a merge, keep the upstream's migrations and rebuild ours on top of them.

    Our generated, unedited migrations are regenerated from the merged schema
    code; hand-written ones are re-parented when they touch other tables than
    the upstream's new migrations. Then `git add` the migrations directory
    and finish the merge.
    """
    from dibs.cli.output import err
    from dibs.cli.questioner import build_questioner, parse_rename_flags, stdio_is_terminal
    from dibs.repository.rebase import plan_rebase, write_rebase

    config = project_config()
    questioner = build_questioner(
        parse_rename_flags(renames, no_renames), interactive=stdio_is_terminal()
    )
    plan = plan_rebase(
        config.migrations_dir, declared_schema(config), onto=onto, questioner=questioner
    )
    written = write_rebase(config.migrations_dir, plan)
    err.print(f"kept the upstream chain ({len(plan.upstream)} migrations)")
    if plan.regenerated:
        err.print(f"regenerated from the schema code: {', '.join(plan.regenerated)}")
    for path in written:
        click.echo(path.name)
    err.print(
        "[green]rebased[/]: run `dibs check`, then `git add "
        f"{config.migrations_dir.name}` and commit to finish the merge"
    )
