"""``dibs db start|stop|status|url``: the project's embedded Postgres under ``.dibs/``."""

from __future__ import annotations

import click

from dibs.cli.context import project_config

__all__ = ["db_group"]


@click.group("db")
def db_group() -> None:
    """Manage the project-local embedded Postgres (used when no URL is configured)."""


@db_group.command("start")
def start_cmd() -> None:
    """Start the embedded server (or find it running) and print its URL."""
    from dibs.postgres import embedded

    click.echo(embedded.start(project_config().root))


@db_group.command("stop")
def stop_cmd() -> None:
    """Stop the embedded server if it runs."""
    from dibs.cli.output import err
    from dibs.postgres import embedded

    embedded.stop(project_config().root)
    err.print("embedded Postgres stopped")


@db_group.command("status")
def status_cmd() -> None:
    """Say whether the embedded server runs, where, and its URL."""
    from dibs.cli.output import out
    from dibs.postgres import embedded

    status = embedded.status(project_config().root)
    out.print(str(status))


@db_group.command("url")
def url_cmd() -> None:
    """Print the embedded server's URL, starting it if needed."""
    from dibs.postgres import embedded

    click.echo(embedded.url(project_config().root))
