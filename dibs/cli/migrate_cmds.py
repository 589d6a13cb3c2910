"""``dibs migrate``, ``dibs status`` and ``dibs baseline``: thin calls into ``dibs.migrate``.

Progress and warnings go to stderr, results to stdout (text or JSON), so
``--format json`` output stays machine-readable while a person still sees
what is happening.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from dibs.cli.context import database_option, format_option
from dibs.errors import EXIT_DIFFERENT, EXIT_OK

if TYPE_CHECKING:
    from dibs.config import Config
    from dibs.migrate import Applied, Drift, MigrateResult, StatusResult
    from dibs.repository.migration import Migration

__all__ = ["baseline_cmd", "migrate_cmd", "status_cmd"]


def _config_and_url(database_url: str | None) -> tuple[Config, str]:
    """Migrations need no schema module: only the directory and a database."""
    from dibs.cli.context import resolve_url
    from dibs.config import load_config

    config = load_config(override_url=database_url, require_schema=False)
    return config, resolve_url(config)


@dataclass
class _CliReporter:
    """Prints progress with timings on stderr."""

    quiet: bool = False

    def waiting_for_lock(self) -> None:
        from dibs.cli.output import err

        err.print("[dim]another `dibs migrate` is running on this database; waiting…[/]")

    def starting(self, migration: Migration, index: int, total: int) -> None:
        if self.quiet:
            return
        from rich.markup import escape

        from dibs.cli.output import err

        err.print(f"[dim][{index + 1}/{total}][/] applying {escape(migration.name)}…")

    def applied(self, applied: Applied) -> None:
        if self.quiet:
            return
        from rich.markup import escape

        from dibs.cli.output import err

        extra = f", resumed at statement {applied.resumed_at + 1}" if applied.resumed_at else ""
        err.print(
            f"  [green]applied[/] {escape(applied.name)} "
            f"({_plural(applied.statements, 'statement')}{extra}) "
            f"in {applied.duration_ms:.1f} ms"
        )

    def retrying(self, migration: Migration, attempt: int, delay: float, reason: str) -> None:
        from rich.markup import escape

        from dibs.cli.output import err

        err.print(
            f"[yellow]lock timeout[/] in {escape(migration.name)}; "
            f"retry {attempt} in {delay:.1f} s ({escape(reason.splitlines()[0])})"
        )

    def warning(self, message: str) -> None:
        from rich.markup import escape

        from dibs.cli.output import err

        err.print(f"[bold yellow]warning:[/] {escape(message)}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@click.command("migrate")
@database_option
@click.option("--to", "to", metavar="MIGRATION", help="Stop after this migration (name or id).")
@click.option("--dry-run", is_flag=True, help="Print the SQL that would run; apply nothing.")
@click.option("--allow-drift", is_flag=True, help="Apply even if the schema drifted.")
@click.option(
    "--lock-timeout",
    metavar="DURATION",
    default=None,
    help="Longest wait for a table lock per try, e.g. 5s or 200ms "
    "(default: [tool.dibs] lock_timeout, 5s).",
)
@click.option(
    "--retries",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Retries of a migration that hit the lock timeout.",
)
@format_option
def migrate_cmd(
    database_url: str | None,
    to: str | None,
    dry_run: bool,
    allow_drift: bool,
    lock_timeout: str | None,
    retries: int,
    fmt: str,
) -> None:
    """Apply the pending migrations (exit 0 done, 1 drift found, 2 error)."""
    from dibs.migrate import migrate

    config, url = _config_and_url(database_url)
    result = migrate(
        url,
        config.migrations_dir,
        to=to,
        allow_drift=allow_drift,
        lock_timeout=lock_timeout or config.lock_timeout,
        retries=retries,
        dry_run=dry_run,
        reporter=_CliReporter(quiet=fmt == "json"),
    )
    if fmt == "json":
        _migrate_json(result)
    else:
        _migrate_text(result)


def _drift_json(drift: Drift | None) -> dict[str, Any] | None:
    if drift is None:
        return None
    return {
        "in_sync": drift.in_sync,
        "at": drift.at,
        "expected": drift.expected,
        "actual": drift.actual,
        "differences": list(drift.differences),
    }


def _migrate_json(result: MigrateResult) -> None:
    from dibs.cli.output import emit_json

    emit_json(
        {
            "dry_run": result.dry_run,
            "target": result.target,
            "already_applied": result.already_applied,
            "applied": [
                {
                    "name": a.name,
                    "id": a.id,
                    "duration_ms": round(a.duration_ms, 3),
                    "statements": a.statements,
                    "resumed_at": a.resumed_at,
                    "retries": a.retries,
                }
                for a in result.applied
            ],
            "planned": [
                {
                    "name": p.name,
                    "id": p.id,
                    "transactional": p.transactional,
                    "resume_at": p.resume_at,
                    "statements": list(p.statements),
                }
                for p in result.planned
            ],
            "drift": _drift_json(result.drift),
            "duration_ms": round(result.duration_ms, 3),
            "verified": result.verified,
        }
    )


def _migrate_text(result: MigrateResult) -> None:
    from rich.markup import escape

    from dibs.cli.output import out

    if result.dry_run:
        for p in result.planned:
            mode = "one transaction" if p.transactional else "no transaction"
            resume = f", resuming at statement {p.resume_at + 1}" if p.resume_at else ""
            click.echo(f"-- {p.name} ({mode}{resume})")
            for stmt in p.statements[p.resume_at :]:
                click.echo(f"{stmt};")
            click.echo("")
        out.print(
            f"[dim]dry run: {len(result.planned)} migrations would be applied; nothing was[/]"
        )
        return
    if not result.applied:
        out.print(
            f"[green]up to date[/]: {result.already_applied} migrations applied, none pending"
        )
        return
    out.print(
        f"[green]migrated[/] to {escape(str(result.target))}: {len(result.applied)} "
        f"applied in {result.duration_ms:.0f} ms"
    )


@click.command("status")
@database_option
@click.option("--check", is_flag=True, help="Exit 1 unless every migration is applied and in sync.")
@format_option
def status_cmd(database_url: str | None, check: bool, fmt: str) -> None:
    """Show each migration as applied, pending, edited or unknown, and the schema drift."""
    from dibs.migrate import status

    config, url = _config_and_url(database_url)
    result = status(url, config.migrations_dir)
    if fmt == "json":
        _status_json(result)
    else:
        _status_text(result)
    behind = result.pending or result.problems or (result.drift and not result.drift.in_sync)
    click.get_current_context().exit(EXIT_DIFFERENT if check and behind else EXIT_OK)


def _status_json(result: StatusResult) -> None:
    from dibs.cli.output import emit_json

    emit_json(
        {
            "migrations": [
                {
                    "name": m.name,
                    "id": m.id,
                    "state": m.state,
                    "applied_at": m.applied_at.isoformat() if m.applied_at else None,
                    "applied_by": m.applied_by,
                    "baseline": m.baseline,
                    "completed_statements": m.completed,
                }
                for m in result.migrations
            ],
            "pending": len(result.pending),
            "drift": _drift_json(result.drift),
        }
    )


_COLOURS = {
    "applied": "green",
    "pending": "yellow",
    "partial": "yellow",
    "edited": "red",
    "unknown": "red",
}


def _status_text(result: StatusResult) -> None:
    from rich.markup import escape

    from dibs.cli.output import out

    if not result.migrations:
        out.print("[dim]no migrations in the repository or the database[/]")
    for m in result.migrations:
        label = {"edited": "edited since applied", "unknown": "unknown to the repository"}.get(
            m.state, m.state
        )
        if m.state == "partial":
            label = f"partial ({m.completed} statements done)"
        when = ""
        if m.applied_at is not None:
            how = "baseline" if m.baseline else f"by {m.applied_by}"
            when = f"  [dim]{m.applied_at:%Y-%m-%d %H:%M:%S} {escape(how)}[/]"
        colour = _COLOURS[m.state]
        out.print(f"[{colour}]{label:<26}[/] {escape(m.name)}  [dim]{m.short_id}[/]{when}")
    drift = result.drift
    if drift is None:
        out.print("[dim]schema: not compared (the ledger disagrees with the repository)[/]")
    elif drift.in_sync:
        out.print(f"[green]schema: in sync[/] {escape(drift.at)}")
    else:
        out.print(f"[red]schema: drifted[/] {escape(drift.at)}")
        for line in drift.differences or (
            f"expected fingerprint {drift.expected[:12]}, found {drift.actual[:12]}",
        ):
            out.print(f"  {escape(line)}")


@click.command("baseline")
@database_option
@click.option(
    "--to",
    "to",
    required=True,
    metavar="MIGRATION",
    help="The migration whose schema the database already has.",
)
def baseline_cmd(database_url: str | None, to: str) -> None:
    """Adopt an existing database: record migrations up to --to as applied, running no SQL."""
    from rich.markup import escape

    from dibs.cli.output import out
    from dibs.migrate import baseline

    config, url = _config_and_url(database_url)
    result = baseline(url, config.migrations_dir, to=to)
    out.print(
        f"[green]baseline[/]: recorded {len(result.recorded)} migrations as applied, "
        f"up to {escape(result.target)}"
    )
