"""What every command needs: the project config, the declared schema, a database.

The database URL comes from ``-d/--database-url``, else ``[tool.dibs]
database_url``, else ``DATABASE_URL``; when none is set, the project-local
embedded Postgres under ``.dibs/`` is started (or reused) and the command says
so on stderr, so a user always knows which server a command touched.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    import psycopg

    from dibs.config import Config
    from dibs.schema.model import Schema

__all__ = [
    "database_option",
    "declared_schema",
    "format_option",
    "open_database",
    "project_config",
    "rename_options",
]

database_option = click.option(
    "-d",
    "--database-url",
    "database_url",
    metavar="URL",
    default=None,
    help="Postgres URL (default: [tool.dibs] database_url, then $DATABASE_URL, "
    "then the project's embedded server).",
)

format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)

F = TypeVar("F", bound=Callable[..., Any])


def rename_options(fn: F) -> F:
    """``--rename`` / ``--no-rename``: decide rename candidates on the command line."""
    fn = click.option(
        "--no-rename",
        "no_renames",
        multiple=True,
        metavar="TABLE.OLD",
        help="Treat a proposed rename as drop + add (repeatable; the old data is dropped).",
    )(fn)
    return click.option(
        "--rename",
        "renames",
        multiple=True,
        metavar="TABLE.OLD=NEW",
        help="Treat a proposed rename as one (repeatable; also OLD_TABLE=NEW_TABLE).",
    )(fn)


def project_config(database_url: str | None = None, *, require_project: bool = True) -> Config:
    """Load ``[tool.dibs]`` from the nearest pyproject.toml, applying ``-d``.

    With ``require_project=False`` (commands that only read a database, such as
    ``dibs inspect -d URL``), a URL is enough and no project is needed.
    """
    from pathlib import Path

    from dibs.config import Config, load_config
    from dibs.errors import ConfigError

    try:
        return load_config(override_url=database_url, require_schema=require_project)
    except ConfigError:
        if require_project or not database_url:
            raise
        cwd = Path.cwd()
        return Config(
            root=cwd,
            schema_modules=(),
            migrations_dir=cwd / "migrations",
            database_url=database_url,
        )


def declared_schema(config: Config) -> Schema:
    """Import the configured schema modules and return their canonical model."""
    from dibs.schema.declare import load_schema

    for entry in reversed(config.python_path):
        path = str(entry)
        if path not in sys.path:
            sys.path.insert(0, path)
    return load_schema(config.schema_modules)


def resolve_url(config: Config) -> str:
    """Return the database URL to use, starting the embedded server if needed."""
    if config.database_url:
        return config.database_url
    from dibs.cli.output import err
    from dibs.postgres import embedded

    url = embedded.start(config.root)
    err.print(f"[dim]using the embedded Postgres in {config.root / '.dibs'}[/]")
    return url


@contextmanager
def open_database(config: Config) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Connect to the project's database (see module docstring), closing it after."""
    from dibs.postgres.connect import connect

    conn = connect(resolve_url(config), autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
