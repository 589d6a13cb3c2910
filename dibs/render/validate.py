"""Exact validation of SQL with Postgres's own grammar (pglast / libpg_query).

``validate`` splits a script into statements and reports a syntax error at
its file, line and column, computed from the parser's character offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from dibs.errors import SqlSyntaxError

__all__ = ["Statement", "line_column", "validate"]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a script, with where it starts (1-based line)."""

    sql: str
    line: int
    offset: int


def line_column(text: str, offset: int, *, first_line: int = 1) -> tuple[int, int]:
    """Return the 1-based (line, column) of character ``offset`` in ``text``.

    >>> line_column("a\\nbc", 3)
    (2, 2)
    """
    before = text[:offset]
    line = before.count("\n") + first_line
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def validate(sql: str, *, file: str | None = None, first_line: int = 1) -> list[Statement]:
    """Parse ``sql`` and return its statements.

    Args:
        sql: the script.
        file: the file it came from, for the error's location.
        first_line: line number of the script's first line in that file.

    Raises:
        SqlSyntaxError: the script does not parse; names file, line and column.
    """
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        raw = parse_sql(sql)
    except ParseError as exc:
        position = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
        offset = len(sql.encode()[:position].decode(errors="ignore"))
        line, column = line_column(sql, offset, first_line=first_line)
        raise SqlSyntaxError(
            str(exc.args[0]) if exc.args else "syntax error",
            file=file,
            line=line,
            column=column,
            hint="fix the SQL at that position (it is checked with Postgres's own parser)",
        ) from exc
    encoded = sql.encode()
    statements: list[Statement] = []
    for item in raw:
        start = item.stmt_location or 0
        length = item.stmt_len or (len(encoded) - start)
        text = encoded[start : start + length].decode().strip()
        char_offset = len(encoded[:start].decode())
        # skip leading whitespace/newlines so the line points at the statement itself
        stripped = len(sql[char_offset:]) - len(sql[char_offset:].lstrip())
        line, _ = line_column(sql, char_offset + stripped, first_line=first_line)
        statements.append(Statement(text, line, char_offset + stripped))
    return statements
