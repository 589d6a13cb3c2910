"""``dibs schema``, ``dibs sql`` and ``dibs inspect``: the schema, as declared and as deployed."""

from __future__ import annotations

import click

from dibs.cli.context import (
    database_option,
    declared_schema,
    format_option,
    open_database,
    project_config,
)
from dibs.errors import UsageError

__all__ = ["inspect_cmd", "schema_cmd", "sql_cmd"]


@click.command("schema")
@format_option
def schema_cmd(fmt: str) -> None:
    """Show the schema declared in Python (--format json: the canonical JSON)."""
    from dibs.cli.output import out
    from dibs.schema.canonical import fingerprint, to_json

    schema = declared_schema(project_config())
    if fmt == "json":
        click.echo(to_json(schema), nl=False)
        return
    from dibs.cli.show import print_schema

    print_schema(out, schema)
    out.print(f"[dim]fingerprint {fingerprint(schema)[:16]}[/]")


@click.command("sql")
@click.option(
    "--apply",
    is_flag=True,
    help="Run the statements in one transaction on an empty database instead of printing them.",
)
@database_option
def sql_cmd(apply: bool, database_url: str | None) -> None:
    """Print the CREATE statements of the declared schema, in dependency order."""
    from dibs.render.ddl import render_schema, render_script

    config = project_config(database_url)
    schema = declared_schema(config)
    if not apply:
        from dibs.cli.output import out

        script = render_script(schema)
        if out.is_terminal:
            from rich.syntax import Syntax

            out.print(Syntax(script, "sql", theme="ansi_dark", background_color="default"))
        else:
            click.echo(script, nl=False)
        return
    from dibs.cli.output import err
    from dibs.postgres.introspect import introspect

    with open_database(config) as conn:
        existing = introspect(conn).managed()
        if existing == schema:
            err.print("[green]the database already matches the declared schema[/]")
            return
        if existing.tables or existing.enums:
            raise UsageError(
                f"the database already has {len(existing.tables)} tables; "
                "they differ from the declared schema, and --apply only creates a schema "
                "in an empty database",
                hint="compare it with `dibs inspect`, or point -d at an empty database",
            )
        with conn.transaction():
            for stmt in render_schema(schema):
                conn.execute(stmt.encode())
    err.print(f"[green]created[/] {len(schema.tables)} tables, {len(schema.enums)} enums")


@click.command("inspect")
@database_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sql", "python"]),
    default="text",
    show_default=True,
    help="text: summary; json: canonical JSON; sql: CREATE statements; "
    "python: declaration code to adopt an existing database.",
)
@click.option(
    "--schema",
    "schemas",
    multiple=True,
    metavar="NAME",
    help="Only read these Postgres schemas (repeatable; default: all).",
)
def inspect_cmd(database_url: str | None, fmt: str, schemas: tuple[str, ...]) -> None:
    """Read a live database into dibs's model and show it."""
    from dibs.postgres.introspect import introspect

    config = project_config(database_url, require_project=False)
    with open_database(config) as conn:
        schema = introspect(conn, schemas=list(schemas) or None)
    if fmt == "json":
        from dibs.schema.canonical import to_json

        click.echo(to_json(schema), nl=False)
    elif fmt == "sql":
        from dibs.render.ddl import render_script

        click.echo(render_script(schema.managed()), nl=False)
        for obj in schema.unmanaged:
            click.echo(f"-- not managed by dibs: {obj.kind} {obj.schema}.{obj.name}")
    elif fmt == "python":
        from dibs.schema.codegen import generate_python

        click.echo(generate_python(schema), nl=False)
    else:
        from dibs.cli.output import out
        from dibs.cli.show import print_schema

        print_schema(out, schema)
