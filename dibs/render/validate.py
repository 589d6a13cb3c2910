"""Exact validation of SQL with Postgres's own grammar (pglast / libpg_query).

``validate`` splits a script into statements and reports a syntax error at
its file, line and column. pglast gives positions as *character* offsets into
the Python string (it converts libpg_query's byte offsets), so lines and
columns are counted in characters, the way editors count them.

Validation is syntax only: it proves a statement parses, not that the objects
it names exist (that needs a database).
"""

from __future__ import annotations

from dataclasses import dataclass

from dibs.errors import SqlSyntaxError

__all__ = ["Statement", "line_column", "validate"]


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a script: its text (no trailing ``;``) and where it starts."""

    sql: str
    line: int
    column: int
    offset: int


def line_column(text: str, offset: int, *, first_line: int = 1) -> tuple[int, int]:
    """Return the 1-based (line, column) of character ``offset`` in ``text``.

    >>> line_column("a\\nbc", 3)
    (2, 2)
    >>> line_column("abc", 0, first_line=10)
    (10, 1)
    """
    before = text[:offset]
    line = before.count("\n") + first_line
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def validate(sql: str, *, file: str | None = None, first_line: int = 1) -> list[Statement]:
    """Parse ``sql`` with Postgres's grammar and return its statements.

    Args:
        sql: the script (any number of statements, separated by ``;``).
        file: the file it came from, named in the error.
        first_line: line number of the script's first line in that file.

    Raises:
        SqlSyntaxError: the script does not parse; carries file, line and column.
    """
    from pglast.parser import ParseError, split

    try:
        # split() runs the real parser but builds no Python syntax tree: validating a
        # thousand generated statements costs milliseconds, not a tenth of a second.
        slices = split(sql, with_parser=True, only_slices=True)
    except ParseError as exc:
        message = str(exc.args[0]) if exc.args else "syntax error"
        offset = _error_offset(sql, exc.args[1] if len(exc.args) > 1 else None)
        line, column = line_column(sql, offset, first_line=first_line)
        raise SqlSyntaxError(
            message,
            file=file,
            line=line,
            column=column,
            hint="fix the SQL at that position (it is checked with Postgres's own parser)",
        ) from exc
    statements: list[Statement] = []
    for piece in slices:
        start = piece.start or 0
        line, column = line_column(sql, start, first_line=first_line)
        statements.append(Statement(sql[piece].strip(), line, column, start))
    return statements


def _error_offset(sql: str, location: object) -> int:
    """The character offset of an error; "at end of input" errors carry none."""
    if isinstance(location, int) and 0 <= location <= len(sql):
        return location
    return len(sql.rstrip())
