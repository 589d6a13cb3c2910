"""Pretty-printing SQL for people: the one module of dibs that imports sqlglot.

sqlglot lays out queries (SELECT, INSERT, UPDATE, DELETE, set operations)
well, so those go through it. For the DDL dibs renders, dibs's own layout is
kept (``_SQLGLOT_LAYOUT`` is the table of statement kinds that go through
sqlglot; the kind comes from pglast, so sqlglot never sees the rest): sqlglot
rewrites canonical type spellings (``numeric(10,2)`` → ``DECIMAL(10, 2)``,
``text`` → ``TEXT``), so ``dibs sql`` would stop matching the model, and it
breaks ``REFERENCES t (id)`` over three lines, puts ``AS ENUM`` on a line of
its own and wraps a partial index's WHERE in a block. See docs/sql-output.md.

A formatted statement is kept only when it provably means the same: pglast
(Postgres's own grammar) must parse it to one statement with the same
fingerprint (``pglast.parser.fingerprint``) *and* the same parse tree, positions
aside. The tree check is needed because fingerprints ignore constants
(``DEFAULT 0`` and ``DEFAULT 1`` share one). When sqlglot only recognises a
statement as an opaque ``Command``, fails, or changes the tree, the statement
is kept exactly as written.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

__all__ = ["format_statement", "same_meaning"]

# Statement kinds (pglast node names) whose layout sqlglot does better than dibs.
_SQLGLOT_LAYOUT = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})


@lru_cache(maxsize=4096)
def format_statement(sql: str) -> str:
    """Return one statement pretty-printed when that provably keeps its meaning, else unchanged."""
    if _statement_kind(sql) not in _SQLGLOT_LAYOUT:
        return sql
    pretty = _sqlglot_pretty(sql)
    if pretty is None or not same_meaning(sql, pretty):
        return sql
    return pretty


def _statement_kind(sql: str) -> str | None:
    """The pglast node name of ``sql`` when it is exactly one statement, else None."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements: Any = parse_sql(sql)
    except ParseError:
        return None
    return type(statements[0].stmt).__name__ if len(statements) == 1 else None


def _sqlglot_pretty(sql: str) -> str | None:
    """sqlglot's layout of ``sql``, or None when sqlglot does not understand it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    _quiet_sqlglot()
    try:
        parsed = sqlglot.parse(sql, read="postgres")
        if len(parsed) != 1 or parsed[0] is None or isinstance(parsed[0], exp.Command):
            return None  # an opaque Command: sqlglot did not understand the statement
        return str(parsed[0].sql(dialect="postgres", pretty=True))
    except (SqlglotError, ValueError, RecursionError):
        return None


@lru_cache(maxsize=1)
def _quiet_sqlglot() -> None:
    """Drop sqlglot's "falling back to Command" warnings: dibs handles that case itself."""
    logging.getLogger("sqlglot").addFilter(
        lambda record: "Falling back to parsing as a 'Command'" not in record.getMessage()
    )


def same_meaning(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` parse (with pglast) to the same statements.

    >>> same_meaning("select  1", "SELECT\\n  1")
    True
    >>> same_meaning("SELECT 1", "SELECT 2")
    False
    """
    from pglast.parser import ParseError, fingerprint

    try:
        if fingerprint(a) != fingerprint(b):
            return False
        return _tree(a) == _tree(b)
    except ParseError:
        return False


def _tree(sql: str) -> list[Any]:
    """The parse tree of ``sql`` as plain data, without text positions."""
    from pglast import parse_sql

    statements: Any = parse_sql(sql)
    return [_strip_positions(stmt.stmt()) for stmt in statements]


def _strip_positions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_positions(v) for k, v in node.items() if not _positional(k)}
    if isinstance(node, list | tuple):
        return [_strip_positions(v) for v in node]
    return node


def _positional(key: str) -> bool:
    """Keys of pglast's tree that hold text positions, not meaning."""
    return "location" in key or key in ("stmt_len", "rexpr_list_start", "rexpr_list_end")
