"""Small random schemas and random edits of them, for migration properties.

``start_schemas()`` draws a schema of up to three tables; ``edited(a)`` draws a
schema derived from ``a`` by the edits users make (with rename hints where a
table or column is renamed), so a chain of ``edited`` calls is a plausible
history of a project.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from dibs.schema.expressions import canonical_expression
from dibs.schema.model import (
    Check,
    Column,
    EnumType,
    FkAction,
    ForeignKey,
    PrimaryKey,
    Schema,
    Table,
)
from tests.strategies import identity_options

__all__ = ["edited", "pairs", "start_schemas"]

_NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma"])
_TYPES = st.sampled_from(["integer", "bigint", "text", "varchar(20)", "numeric(8,2)", "timestamp"])
_ACTIONS: list[FkAction] = ["NO ACTION", "CASCADE", "RESTRICT"]
_WIDER = {
    "integer": "bigint",
    "varchar(20)": "text",
    "numeric(8,2)": "numeric(12,2)",
    "timestamp": "timestamptz",
    "bigint": "numeric",
    "text": "text",
}


@st.composite
def _tables(draw: st.DrawFn, name: str) -> Table:
    names = draw(st.lists(_NAMES, min_size=1, max_size=4, unique=True))
    cols = [Column("id", "integer", nullable=False)]
    cols += [Column(n, draw(_TYPES), nullable=draw(st.booleans())) for n in names]
    if draw(st.booleans()):
        options = draw(identity_options())
        cols.append(Column("n", "integer", False, identity="by default", identity_options=options))
    return Table(name, columns=tuple(cols), primary_key=PrimaryKey(f"{name}_pkey", ("id",)))


@st.composite
def start_schemas(draw: st.DrawFn) -> Schema:
    """A small schema of one to three tables and the enum ``mood``."""
    names = draw(st.lists(st.sampled_from(["t1", "t2", "t3"]), min_size=1, max_size=3, unique=True))
    tables = [draw(_tables(n)) for n in names]
    mood = EnumType("mood", ("sad", "ok", "happy"))
    if draw(st.booleans()):
        tables[0] = replace(tables[0], columns=(*tables[0].columns, Column("mood", "mood")))
    return Schema.build(tables=tables, enums=[mood])


def _edit_table(draw: st.DrawFn, table: Table, others: list[str]) -> Table:
    cols = list(table.columns)
    for i, c in enumerate(cols):
        if c.name == "id":
            continue
        if c.identity is not None:
            cols[i] = _edit_identity(draw, c)
            continue
        action = draw(st.sampled_from(["keep", "keep", "widen", "rename", "drop", "null"]))
        if action == "widen":
            cols[i] = replace(c, type=_WIDER.get(c.type, c.type))
        elif action == "rename":
            cols[i] = replace(c, name=f"{c.name}_new", renamed_from=(c.name,))
        elif action == "null":
            cols[i] = replace(c, nullable=not c.nullable)
        elif action == "drop":
            cols[i] = replace(c, name="")
    cols = [c for c in cols if c.name]
    if draw(st.booleans()) and "added" not in {c.name for c in cols}:
        cols.append(Column("added", draw(_TYPES)))
    checks: tuple[Check, ...] = ()
    if draw(st.booleans()):
        checks = (
            Check(
                f"{table.name}_id_check",
                canonical_expression(f"id > {draw(st.integers(-5, 5))}"),
                no_inherit=draw(st.booleans()),
            ),
        )
    fks: tuple[ForeignKey, ...] = ()
    if draw(st.booleans()) and others and "ref_id" not in {c.name for c in cols}:
        ref = draw(st.sampled_from(others))
        on_delete: FkAction = draw(st.sampled_from(_ACTIONS))
        cols.append(Column("ref_id", "integer"))
        fks = (
            ForeignKey(
                f"{table.name}_ref_id_fkey",
                ("ref_id",),
                "public",
                ref,
                ("id",),
                on_delete=on_delete,
            ),
        )
    return replace(table, columns=tuple(cols), checks=checks, foreign_keys=fks)


def _edit_identity(draw: st.DrawFn, col: Column) -> Column:
    """Widen an identity column or change its sequence options, in the same direction
    (``identity_options`` explains why that keeps the current value in bounds)."""
    action = draw(st.sampled_from(["keep", "widen", "options", "options"]))
    if action == "widen":
        return replace(col, type="bigint")
    if action == "options":
        ascending = col.identity_options is None or col.identity_options.increment > 0
        return replace(col, identity_options=draw(identity_options(ascending)))
    return col


@st.composite
def edited(draw: st.DrawFn, a: Schema) -> Schema:
    """``a`` after random edits: tables dropped, renamed (with a hint) or added; columns
    widened, renamed (with a hint), dropped, added or flipped nullable; checks, foreign
    keys and enum values changed."""
    tables = []
    for table in a.tables:
        fate = draw(st.sampled_from(["edit", "edit", "rename", "drop"]))
        if fate == "drop":
            continue
        if fate == "rename" and not table.name.endswith("_r"):
            table = replace(table, name=f"{table.name}_r", renamed_from=(table.name,))
        tables.append(table)
    # A renamed table keeps its constraint names (as in Postgres): t9_r still owns
    # t9_pkey, so a new t9 would clash. Nor does a t9 dropped in this step come back in
    # it: the diff would see one table whose identity changed direction, which it
    # rightly refuses (the old sequence's value may be outside the new bounds).
    if draw(st.booleans()) and not any(t.name.startswith("t9") for t in (*a.tables, *tables)):
        tables.append(draw(_tables("t9")))
    names = [t.name for t in tables]
    tables = [_edit_table(draw, t, [n for n in names if n != t.name]) for t in tables]
    mood = a.enums[0]
    extra = [v for v in ("great", "meh") if v not in mood.values]
    choices = [mood.values]
    if extra:
        choices += [(*mood.values, extra[0]), (extra[-1], *mood.values)]
    values = draw(st.sampled_from(choices))
    return Schema.build(tables=tables, enums=[replace(mood, values=values)])


@st.composite
def pairs(draw: st.DrawFn) -> tuple[Schema, Schema]:
    """A random schema and an edited copy of it."""
    a = draw(start_schemas())
    return a, draw(edited(a))
