"""validate(): Postgres's grammar, errors at the right file:line:column, statements located."""

from __future__ import annotations

import pytest

from dibs.errors import EXIT_ERROR, DibsError, SourceLocation, SqlSyntaxError
from dibs.render.validate import Statement, line_column, validate

SCRIPT = (
    "CREATE TABLE a (id int);\n"
    "CREATE TABLE b (id int);\n"
    "CREATE TABEL c (id int);\n"
    "CREATE TABLE d (id int);\n"
)


def _error(sql: str, **kwargs: object) -> SqlSyntaxError:
    with pytest.raises(SqlSyntaxError) as info:
        validate(sql, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_error_on_line_three_points_at_the_bad_word() -> None:
    err = _error(SCRIPT, file="schema.sql")
    assert (err.line, err.column) == (3, 8)  # "TABEL" starts at column 8
    assert SCRIPT.splitlines()[2][err.column - 1 :].startswith("TABEL")
    assert "TABEL" in err.message
    assert str(err).startswith("schema.sql:3:8: syntax error")
    assert err.location == SourceLocation("schema.sql", 3)
    assert err.hint


def test_columns_count_characters_not_bytes() -> None:
    sql = "COMMENT ON TABLE a IS 'é漢字';\nSELECT 'ü', FROM x"
    err = _error(sql)
    assert (err.line, err.column) == (2, 13)
    assert str(err).startswith("line 2, column 13: ")


def test_error_at_end_of_input_points_after_the_last_character() -> None:
    err = _error("SELECT 1;\nSELECT (1\n\n")
    assert "end of input" in err.message
    assert (err.line, err.column) == (2, 10)


def test_lexer_errors_are_located_too() -> None:
    err = _error("SELECT 1;\n  SELECT 'unterminated")
    assert "unterminated" in err.message
    assert (err.line, err.column) == (2, 10)


def test_first_line_shifts_lines_for_scripts_cut_from_a_file() -> None:
    err = _error("SELECT 1;\nSELEC 2", file="m.sql", first_line=40)
    assert (err.line, err.column) == (41, 1)


def test_syntax_error_is_a_user_error() -> None:
    err = _error("SELEC")
    assert isinstance(err, DibsError) and isinstance(err, ValueError)
    assert err.exit_code == EXIT_ERROR


def test_statements_with_their_positions() -> None:
    sql = "SELECT 'é';\n\n  CREATE TABLE t (\n  a int\n);SELECT 2"
    assert validate(sql) == [
        Statement("SELECT 'é'", 1, 1, 0),
        Statement("CREATE TABLE t (\n  a int\n)", 3, 3, 15),
        Statement("SELECT 2", 5, 3, 42),
    ]


def test_empty_and_blank_scripts_have_no_statements() -> None:
    assert validate("") == []
    assert validate("  \n-- only a comment\n") == []


def test_line_column_of_the_first_and_a_later_line() -> None:
    assert line_column("ab\ncd", 0) == (1, 1)
    assert line_column("ab\ncd", 4) == (2, 2)
