"""Readable summaries of a ``Schema`` for the terminal (``dibs schema``, ``dibs inspect``)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table as RichTable
from rich.text import Text

from dibs.schema.model import Column, Schema, Table

__all__ = ["print_schema"]


def _column_notes(table: Table, col: Column) -> str:
    notes: list[str] = []
    if table.primary_key and col.name in table.primary_key.columns:
        notes.append("pk")
    if col.identity:
        notes.append(f"identity {col.identity}")
    if col.generated:
        notes.append(f"generated as ({col.generated})")
    if col.default is not None:
        notes.append(f"default {col.default}")
    for fk in table.foreign_keys:
        if col.name in fk.columns:
            ref = fk.ref_table if fk.ref_schema == "public" else f"{fk.ref_schema}.{fk.ref_table}"
            notes.append(f"→ {ref}")
    if col.comment:
        notes.append(f"— {col.comment}")
    return ", ".join(notes)


def _table_block(table: Table) -> Group:
    title = Text(table.qualified_name, style="bold")
    if table.comment:
        title.append(f"  {table.comment}", style="dim")
    if table.location:
        title.append(f"  ({table.location})", style="dim")
    grid = RichTable(show_header=True, header_style="dim", box=None, pad_edge=False)
    grid.add_column("column")
    grid.add_column("type")
    grid.add_column("null")
    grid.add_column("notes", overflow="fold")
    for col in table.columns:
        grid.add_row(
            escape(col.name),
            escape(col.type),
            "null" if col.nullable else "not null",
            escape(_column_notes(table, col)),
        )
    lines: list[Text | RichTable] = [title, grid]
    extras: list[str] = []
    extras += [f"unique {u.name} ({', '.join(u.columns)})" for u in table.uniques]
    extras += [f"check {c.name}: {c.expression}" for c in table.checks]
    extras += [f"exclude {x.name} using {x.method}" for x in table.exclusions]
    for ix in table.indexes:
        keys = ", ".join(e.column or f"({e.expression})" for e in ix.elements)
        kind = "unique index" if ix.unique else "index"
        where = f" where {ix.where}" if ix.where else ""
        extras.append(f"{kind} {ix.name} using {ix.method} ({keys}){where}")
    if table.partition_of:
        extras.append(f"partition of {table.partition_of} {table.partition_bound or ''}")
    lines += [Text("  " + e, style="dim") for e in extras]
    return Group(*lines)


def print_schema(console: Console, schema: Schema) -> None:
    """Print every namespace, enum, sequence and table of ``schema``."""
    if schema.schemas:
        console.print(f"[bold]schemas[/]: {escape(', '.join(schema.schemas))}")
    for ext in schema.extensions:
        console.print(f"[bold]extension[/] {escape(ext.name)} (in {escape(ext.schema)})")
    for enum in schema.enums:
        name = enum.name if enum.schema == "public" else f"{enum.schema}.{enum.name}"
        console.print(f"[bold]enum[/] {escape(name)}: {escape(', '.join(enum.values))}")
    for seq in schema.sequences:
        console.print(f"[bold]sequence[/] {escape(seq.schema)}.{escape(seq.name)}")
    for table in schema.tables:
        console.print()
        console.print(_table_block(table))
    if schema.unmanaged:
        console.print()
        console.print("[bold]not managed by dibs[/] (reported, never changed):")
        for obj in schema.unmanaged:
            console.print(f"  {escape(obj.kind)} {escape(obj.schema)}.{escape(obj.name)}")
    console.print()
    console.print(
        f"[dim]{len(schema.tables)} tables, "
        f"{sum(len(t.columns) for t in schema.tables)} columns, "
        f"{len(schema.enums)} enums[/]"
    )
