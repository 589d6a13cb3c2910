"""Deterministic constraint and index names, following Postgres's own rules.

Postgres builds implicit names in ``makeObjectName`` (``src/backend/commands/
indexcmds.c``): ``name1_name2_label``, truncated byte-wise to 63 bytes by
shortening the longer of ``name1`` and ``name2`` one byte at a time, then
clipping to a character boundary. Using the same rule means a name dibs
generates equals the one Postgres would have chosen, so databases created by
hand and read back compare equal.

>>> primary_key_name("users")
'users_pkey'
>>> unique_name("users", ["email"])
'users_email_key'
>>> foreign_key_name("posts", ["author_id"])
'posts_author_id_fkey'
>>> index_name("posts", ["author_id", "created_at"])
'posts_author_id_created_at_idx'
>>> len(index_name("t" * 70, ["c" * 70])) <= 63
True
"""

from __future__ import annotations

from collections.abc import Sequence

NAMEDATALEN = 64
MAX_IDENTIFIER_BYTES = NAMEDATALEN - 1


def _clip(name: str, nbytes: int) -> str:
    """Clip ``name`` to at most ``nbytes`` UTF-8 bytes on a character boundary."""
    raw = name.encode()
    if len(raw) <= nbytes:
        return name
    return raw[:nbytes].decode("utf-8", errors="ignore")


def make_object_name(name1: str, name2: str | None, label: str | None) -> str:
    """Combine names the way Postgres's ``makeObjectName`` does."""
    overhead = 0
    n1 = len(name1.encode())
    n2 = 0
    if name2 is not None:
        n2 = len(name2.encode())
        overhead += 1
    if label is not None:
        overhead += len(label.encode()) + 1
    avail = MAX_IDENTIFIER_BYTES - overhead
    while n1 + n2 > avail:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    parts = [_clip(name1, n1)]
    if name2 is not None:
        parts.append(_clip(name2, n2))
    if label is not None:
        parts.append(label)
    return "_".join(parts)


def join_column_names(names: Sequence[str]) -> str:
    """Join column names with ``_`` as ``ChooseIndexNameAddition`` does."""
    buf = ""
    for name in names:
        if buf:
            buf += "_"
        buf += _clip(name, MAX_IDENTIFIER_BYTES)
        if len(buf.encode()) >= NAMEDATALEN:
            break
    return buf


def primary_key_name(table: str) -> str:
    return make_object_name(table, None, "pkey")


def unique_name(table: str, columns: Sequence[str]) -> str:
    return make_object_name(table, join_column_names(columns), "key")


def foreign_key_name(table: str, columns: Sequence[str]) -> str:
    return make_object_name(table, join_column_names(columns), "fkey")


def index_name(table: str, columns: Sequence[str]) -> str:
    """Name an index; expression keys are passed as ``expr`` or their function name."""
    return make_object_name(table, join_column_names(columns), "idx")


def exclusion_name(table: str, columns: Sequence[str]) -> str:
    return make_object_name(table, join_column_names(columns), "excl")


def check_name(table: str, columns: Sequence[str]) -> str:
    """Name a check: ``t_col_check`` when it reads one column, else ``t_check``."""
    distinct = list(dict.fromkeys(columns))
    return make_object_name(table, distinct[0] if len(distinct) == 1 else None, "check")


def sequence_name(table: str, column: str) -> str:
    return make_object_name(table, column, "seq")
