"""Comparators: one module per object kind, each turning two models into operations."""

from __future__ import annotations

from dibs.autogenerate.compare.columns import compare_columns
from dibs.autogenerate.compare.constraints import compare_constraints, compare_indexes
from dibs.autogenerate.compare.domains import compare_domains
from dibs.autogenerate.compare.tables import compare_tables
from dibs.autogenerate.compare.types import compare_enums, compare_sequences

__all__ = [
    "compare_columns",
    "compare_constraints",
    "compare_domains",
    "compare_enums",
    "compare_indexes",
    "compare_sequences",
    "compare_tables",
]
