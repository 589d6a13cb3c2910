"""The ``dibs`` command: a click group whose verbs are thin calls into the library.

Exit codes (documented in docs/cli.md): 0 success, 1 a check found
differences, 2 a usage, input or connection error. A ``DibsError`` is shown
as a message with its location and hint, never as a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from dibs.errors import EXIT_ERROR, DibsError

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


class DibsGroup(click.Group):
    """Click group that turns ``DibsError`` into a clean message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DibsError as exc:
            from dibs.cli.output import print_error

            print_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=DibsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dibs", prog_name="dibs")
def cli() -> None:
    """dibs: schema-first Postgres toolkit and Git-style migration repository."""


def _register() -> None:
    from dibs.cli import db, diff_cmd, migrate_cmds, repo_cmds, schema_cmds

    cli.add_command(schema_cmds.schema_cmd)
    cli.add_command(schema_cmds.sql_cmd)
    cli.add_command(schema_cmds.inspect_cmd)
    cli.add_command(db.db_group)
    cli.add_command(diff_cmd.diff_cmd)
    cli.add_command(migrate_cmds.migrate_cmd)
    cli.add_command(migrate_cmds.status_cmd)
    cli.add_command(migrate_cmds.baseline_cmd)
    cli.add_command(repo_cmds.generate_cmd)
    cli.add_command(repo_cmds.check_cmd)
    cli.add_command(repo_cmds.log_cmd)
    cli.add_command(repo_cmds.seal_cmd)
    cli.add_command(repo_cmds.verify_cmd)
    cli.add_command(repo_cmds.rebase_cmd)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (console-script entry point)."""
    try:
        _require_working_directory()
        cli.main(args=argv, prog_name="dibs", standalone_mode=True)
    except DibsError as exc:  # raised outside a command (e.g. while parsing)
        from dibs.cli.output import print_error

        print_error(exc)
        sys.exit(EXIT_ERROR)


def _require_working_directory() -> None:
    """Every command resolves paths from the working directory: it must still exist.

    A shell left in a directory that was deleted (a removed worktree, a cleaned
    temporary checkout) would otherwise surface as a traceback deep inside pathlib.
    """
    import os

    try:
        os.getcwd()
    except FileNotFoundError:
        from dibs.errors import UsageError

        raise UsageError(
            "the current directory no longer exists",
            hint="cd into your project (the directory holding pyproject.toml) and run again",
        ) from None


if __name__ == "__main__":
    main()
