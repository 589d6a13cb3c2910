"""Rename detection: explicit ``renamed_from`` hints, and scored candidates to ask about.

A hint on the target (``Table(renamed_from=("users",))``,
``Column(renamed_from=("name",))``) resolves a rename without asking. Without
one, the heuristics only *propose*; the questioner decides, and a "no" means
drop and add. Scores (documented in docs/diff.md):

* tables: ``0.7 * jaccard + 0.3 * name_ratio`` where ``jaccard`` is the
  overlap of the two tables' ``(column name, type)`` sets; proposed when
  ``jaccard >= 0.5`` and the score ``>= 0.5``.
* columns: the type must be the same or a change that loses nothing, *and*
  ``difflib`` name ratio ``>= 0.5``; score is the ratio (minus 0.1 when the
  type differs). A matching type alone never proposes a rename.

>>> name_ratio("name", "display_name")
0.5
>>> name_ratio("legacy_field", "bio") < COLUMN_NAME_THRESHOLD
True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from dibs.autogenerate.hazards import classify_type_change
from dibs.ops.base import TypeChange
from dibs.schema.model import DEFAULT_SCHEMA, Column, Schema, Table
from dibs.schema.types import quote_ident

__all__ = [
    "COLUMN_NAME_THRESHOLD",
    "TABLE_JACCARD_THRESHOLD",
    "TABLE_SCORE_THRESHOLD",
    "RenameCandidate",
    "column_candidates",
    "column_hints",
    "name_ratio",
    "table_candidates",
    "table_hints",
]

COLUMN_NAME_THRESHOLD = 0.5
TABLE_JACCARD_THRESHOLD = 0.5
TABLE_SCORE_THRESHOLD = 0.5


def _qualified(schema: str, name: str) -> str:
    return quote_ident(name) if schema == DEFAULT_SCHEMA else f"{schema}.{quote_ident(name)}"


@dataclass(frozen=True, slots=True)
class RenameCandidate:
    """A possible rename the questioner decides on.

    For a table, ``table`` is the old name and ``new`` the new one; for a
    column, ``table`` is the (already renamed) table and ``old``/``new`` the columns.
    """

    kind: Literal["table", "column"]
    schema: str
    table: str
    old: str
    new: str
    score: float
    reason: str

    @property
    def subject(self) -> str:
        """``users.name`` or ``users``: what ``--no-rename`` names."""
        if self.kind == "table":
            return _qualified(self.schema, self.old)
        return f"{_qualified(self.schema, self.table)}.{quote_ident(self.old)}"

    @property
    def spec(self) -> str:
        """``users.name=display_name``: what ``--rename`` and canned answers name."""
        return f"{self.subject}={self.new}"

    @property
    def hint(self) -> str:
        where = "table" if self.kind == "table" else f"column {self.table}.{self.new}"
        return (
            f"declare renamed_from=({self.old!r},) on {where}, "
            f"or pass --rename {self.spec} / --no-rename {self.subject}"
        )

    def describe(self) -> str:
        what = f"table {self.subject}" if self.kind == "table" else f"column {self.subject}"
        return f"{what} -> {self.new}? (score {self.score:.2f}: {self.reason})"


def name_ratio(old: str, new: str) -> float:
    """Similarity of two names, 0..1 (``difflib.SequenceMatcher.ratio``)."""
    return round(difflib.SequenceMatcher(None, old, new).ratio(), 4)


def _hinted(names: tuple[str, ...], schema: str) -> list[tuple[str, str]]:
    out = []
    for name in names:
        left, dot, right = name.rpartition(".")
        out.append((left, right) if dot else (schema, name))
    return out


def table_hints(source: Schema, target: Schema) -> list[tuple[Table, Table]]:
    """Return ``(old, new)`` pairs that target ``renamed_from`` hints resolve."""
    pairs: list[tuple[Table, Table]] = []
    used: set[tuple[str, str]] = set()
    for new in target.tables:
        if source.table(new.name, new.schema) is not None:
            continue
        for schema, name in _hinted(new.renamed_from, new.schema):
            old = source.table(name, schema)
            if old is not None and target.table(name, schema) is None and old.key not in used:
                pairs.append((old, new))
                used.add(old.key)
                break
    return pairs


def _column_set(table: Table) -> set[tuple[str, str]]:
    return {(c.name, c.type) for c in table.columns}


def table_candidates(olds: list[Table], news: list[Table]) -> list[RenameCandidate]:
    """Score every unmatched old table against every unmatched new one in its namespace."""
    found = []
    for old in olds:
        for new in news:
            if old.schema != new.schema:
                continue
            a, b = _column_set(old), _column_set(new)
            jaccard = len(a & b) / len(a | b) if a | b else 0.0
            ratio = name_ratio(old.name, new.name)
            score = round(0.7 * jaccard + 0.3 * ratio, 4)
            if jaccard >= TABLE_JACCARD_THRESHOLD and score >= TABLE_SCORE_THRESHOLD:
                reason = f"{len(a & b)} of {len(a | b)} columns shared, name ratio {ratio:.2f}"
                found.append(
                    RenameCandidate(
                        "table", old.schema, old.name, old.name, new.name, score, reason
                    )
                )
    return _best_first(found)


def column_hints(old: Table, new: Table) -> list[tuple[str, str]]:
    """Return ``(old, new)`` column pairs resolved by ``renamed_from`` hints."""
    removed = {c.name for c in old.columns} - {c.name for c in new.columns}
    pairs = []
    for col in new.columns:
        if old.column(col.name) is not None:
            continue
        for hint in col.renamed_from:
            if hint in removed:
                pairs.append((hint, col.name))
                removed.discard(hint)
                break
    return pairs


def _compatible(old: Column, new: Column) -> bool:
    if old.type == new.type:
        return True
    return classify_type_change(old.type, new.type) is not TypeChange.NARROWING


def column_candidates(
    table: Table, removed: list[Column], added: list[Column]
) -> list[RenameCandidate]:
    """Pair each removed column with each added one: compatible type and similar name."""
    found = []
    for old in removed:
        for new in added:
            ratio = name_ratio(old.name, new.name)
            if not _compatible(old, new) or ratio < COLUMN_NAME_THRESHOLD:
                continue
            same = old.type == new.type
            score = round(ratio if same else ratio - 0.1, 4)
            types = f"same type {old.type}" if same else f"{old.type} -> {new.type}"
            reason = f"{types}, name ratio {ratio:.2f}"
            found.append(
                RenameCandidate(
                    "column", table.schema, table.name, old.name, new.name, score, reason
                )
            )
    return _best_first(found)


def _best_first(found: list[RenameCandidate]) -> list[RenameCandidate]:
    return sorted(found, key=lambda c: (-c.score, c.old, c.new))
