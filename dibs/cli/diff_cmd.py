"""``dibs diff``: what separates a live database from the declared schema, or from another one.

The command is a thin call into the library: both sides become canonical
``Schema`` models, ``autogenerate.diff`` compares their managed parts (asking
the CLI questioner about renames), ``planner.plan`` orders the operations and
``render.alter`` spells them as SQL. Exit 0 means in sync, 1 different, 2 an
error, so CI can gate on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from dibs.cli.context import (
    database_option,
    declared_schema,
    open_database,
    project_config,
    rename_options,
)
from dibs.errors import EXIT_DIFFERENT, EXIT_OK, DibsError, UsageError

if TYPE_CHECKING:
    from dibs.autogenerate.questioner import Questioner
    from dibs.ops import Op
    from dibs.schema.model import Schema

__all__ = ["diff_cmd"]

UnmanagedKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Sides:
    """The two schemas compared, and whether both were read from live databases."""

    source: Schema
    target: Schema
    both_live: bool


@click.command("diff")
@database_option
@click.option("--from", "from_url", metavar="URL", help="Source database (with --to).")
@click.option("--to", "to_url", metavar="URL", help="Target database (with --from).")
@click.option("--sql", "as_sql", is_flag=True, help="Print the SQL that makes source match target.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@rename_options
@click.option(
    "--ignore-unmanaged",
    is_flag=True,
    help="With --from/--to: do not fail when views, functions or triggers differ.",
)
def diff_cmd(
    database_url: str | None,
    from_url: str | None,
    to_url: str | None,
    as_sql: bool,
    fmt: str,
    renames: tuple[str, ...],
    no_renames: tuple[str, ...],
    ignore_unmanaged: bool,
) -> None:
    """Compare the live database with the declared schema (exit 0 in sync, 1 different).

    With --from/--to, compare two live databases instead (no project needed).
    """
    from dibs.cli.questioner import build_questioner, parse_rename_flags, stdio_is_terminal

    if as_sql and fmt == "json":
        raise UsageError("--sql and --format json cannot be combined", hint="choose one")
    answers = parse_rename_flags(renames, no_renames)
    sides = _load_sides(database_url, from_url, to_url)
    unmanaged = _unmanaged_report(sides, ignore_unmanaged)
    questioner = build_questioner(answers, interactive=stdio_is_terminal())
    ops = _plan(sides, questioner, strict=as_sql)
    if as_sql:
        _print_sql(ops)
    elif fmt == "json":
        _print_json(ops, unmanaged)
    else:
        _print_text(ops, unmanaged)
    click.get_current_context().exit(EXIT_DIFFERENT if ops else EXIT_OK)


def _load_sides(database_url: str | None, from_url: str | None, to_url: str | None) -> _Sides:
    """Read both sides: the database and the declaration, or two databases."""
    from dibs.postgres.introspect import introspect

    if from_url is None and to_url is None:
        config = project_config(database_url)
        target = declared_schema(config)
        with open_database(config) as conn:
            source = introspect(conn)
        return _Sides(source, target, both_live=False)
    if from_url is None or to_url is None:
        raise UsageError(
            "--from and --to go together",
            hint="pass both --from URL and --to URL, "
            "or neither to compare with the declared schema",
        )
    if database_url is not None:
        raise UsageError(
            "-d/--database-url cannot be combined with --from/--to",
            hint="the source database is --from and the target is --to",
        )
    from dibs.postgres.introspect import introspect_all

    with _connect(from_url) as source_conn, _connect(to_url) as target_conn:
        source, target = introspect_all([source_conn, target_conn])
    return _Sides(source, target, both_live=True)


@contextmanager
def _connect(url: str) -> Iterator[Any]:
    from dibs.postgres.connect import connect

    conn = connect(url, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _unmanaged_keys(schema: Schema) -> set[UnmanagedKey]:
    return {(u.kind, u.schema, u.name) for u in schema.unmanaged}


def _unmanaged_report(sides: _Sides, ignore: bool) -> list[str]:
    """Name unmanaged objects on one side only; fail on them unless ``ignore``.

    Against the declaration there is nothing to compare (declarations hold
    no views or functions), so the database's own are only counted: dibs
    never drops what it does not manage.
    """
    from dibs.cli.output import err

    if not sides.both_live:
        count = len(sides.source.unmanaged)
        if count:
            err.print(
                f"[dim]{_plural(count, 'unmanaged object')} in the database (views, "
                "functions, …) not compared and never dropped; `dibs inspect` lists them[/]"
            )
        return []
    old, new = _unmanaged_keys(sides.source), _unmanaged_keys(sides.target)
    found = [f"{k} {s}.{n} only in --from" for k, s, n in sorted(old - new)]
    found += [f"{k} {s}.{n} only in --to" for k, s, n in sorted(new - old)]
    if found and not ignore:
        raise DibsError(
            "the databases differ in objects dibs does not manage:\n"
            + "\n".join(f"  {line}" for line in found),
            hint="dibs cannot migrate views, functions or triggers; create or drop them "
            "yourself, or pass --ignore-unmanaged to compare the managed schema only",
        )
    return found


def _plan(sides: _Sides, questioner: Questioner, *, strict: bool) -> list[Op]:
    """Diff the managed schemas and order the result.

    The planner sees the full source so it can refuse to break a view or
    function that depends on a changed table (``UnsafePlan``). A script must
    not be printed then (``strict``); a summary still shows the differences,
    with the refusal as a warning, because they exist whether or not dibs
    can migrate them.
    """
    from dibs.autogenerate import diff
    from dibs.planner import UnsafePlan, plan

    ops = diff(sides.source.managed(), sides.target.managed(), questioner=questioner)
    if not ops:
        return []
    try:
        return plan(ops, sides.source, sides.target.managed())
    except UnsafePlan as exc:
        if strict:
            raise
        from rich.markup import escape

        from dibs.cli.output import err

        err.print(f"[bold yellow]warning:[/] {escape(exc.message)}")
        if exc.hint:
            err.print(f"  [cyan]hint:[/] {escape(exc.hint)}")
        return plan(ops, sides.source.managed(), sides.target.managed())


def _hazard_texts(op: Op) -> list[str]:
    return [h.value for h in op.hazards]


def _print_sql(ops: list[Op]) -> None:
    """Print the plan as a script: statements separated by blank lines, hazards as comments."""
    from dibs.cli.output import err
    from dibs.render.alter import render_op
    from dibs.render.format import format_statement

    if not ops:
        err.print("[green]in sync[/]: nothing to do")
        return
    chunks: list[str] = []
    for op in ops:
        for i, stmt in enumerate(render_op(op)):
            comments = "".join(f"-- hazard: {h}\n" for h in _hazard_texts(op)) if i == 0 else ""
            chunks.append(comments + format_statement(stmt))
    click.echo(";\n\n".join(chunks) + ";")


def _print_json(ops: list[Op], unmanaged: list[str]) -> None:
    from dibs.cli.output import emit_json
    from dibs.render.alter import render_op

    emit_json(
        {
            "in_sync": not ops,
            "operations": [
                {
                    "op": type(op).__name__,
                    "description": op.describe(),
                    "hazards": _hazard_texts(op),
                    "sql": render_op(op),
                }
                for op in ops
            ],
            "unmanaged_differences": unmanaged,
        }
    )


# What an op does to its subject, by the verb its type name starts with.
_VERBS = (
    ("Create", "added", "green"),
    ("Add", "added", "green"),
    ("Drop", "dropped", "red"),
    ("Rename", "renamed", "cyan"),
)


def _kind(op: Op) -> tuple[str, str]:
    name = type(op).__name__
    for prefix, kind, colour in _VERBS:
        if name.startswith(prefix):
            return kind, colour
    return "changed", "yellow"


def _subject(op: Op) -> str:
    """The table an op belongs to, or the group of database-wide objects."""
    from dibs.schema.model import DEFAULT_SCHEMA, Table

    table = getattr(op, "table", None)
    if isinstance(table, Table):
        return table.qualified_name
    schema = getattr(op, "schema", DEFAULT_SCHEMA)
    if isinstance(table, str):
        return table if schema == DEFAULT_SCHEMA else f"{schema}.{table}"
    if getattr(op, "kind", None) in ("table", "column"):
        name = str(getattr(op, "name", ""))
        return name if schema == DEFAULT_SCHEMA else f"{schema}.{name}"
    return "(types, sequences, schemas, extensions)"


def _print_text(ops: list[Op], unmanaged: list[str]) -> None:
    """Print a summary grouped by table: one line per op with its hazards."""
    from rich.markup import escape

    from dibs.cli.output import out

    for line in unmanaged:
        out.print(f"[dim]ignored (not managed by dibs): {escape(line)}[/]")
    if not ops:
        out.print("[green]in sync[/]: the schemas match")
        return
    groups: dict[str, list[Op]] = {}
    for op in ops:
        groups.setdefault(_subject(op), []).append(op)
    for subject in sorted(groups):
        out.print(f"[bold]{escape(subject)}[/]")
        for op in groups[subject]:
            kind, colour = _kind(op)
            out.print(f"  [{colour}]{kind:<8}[/] {escape(op.describe())}")
            for hazard in _hazard_texts(op):
                out.print(f"           [bold red]hazard:[/] {escape(hazard)}")
    hazards = sum(1 for op in ops if op.hazards)
    out.print(
        f"[dim]{_plural(len(ops), 'operation')} in {_plural(len(groups), 'group')}, "
        f"{hazards} with hazards; "
        "`dibs diff --sql` prints the SQL[/]"
    )
