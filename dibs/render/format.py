"""Pretty-printing SQL for people: the one module of dibs that imports sqlglot.

sqlglot lays out queries (SELECT, INSERT, UPDATE, DELETE, WITH) well, so
those go through it. Its layout of Postgres DDL is worse than the one dibs
renders itself (it breaks ``REFERENCES t (id)`` over three lines and wraps a
partial index's WHERE in a block), so DDL keeps dibs's own layout.

sqlglot does not understand all of Postgres: when it only recognises a
statement as an opaque ``Command``, or its output does not parse (with
pglast, Postgres's own grammar) to the same tree as the input, the statement
is kept as written. Formatting can therefore never change what a statement does.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["format_statement"]


def _fingerprint(sql: str) -> str | None:
    from pglast.parser import ParseError, fingerprint

    try:
        return str(fingerprint(sql))
    except ParseError:
        return None


@lru_cache(maxsize=4096)
def format_statement(sql: str) -> str:
    """Return ``sql`` pretty-printed when that provably keeps its meaning, else unchanged."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not _is_query(sql):
        return sql
    try:
        parsed = sqlglot.parse(sql, read="postgres")
    except SqlglotError:
        return sql
    if len(parsed) != 1 or parsed[0] is None or isinstance(parsed[0], exp.Command):
        return sql
    try:
        pretty = parsed[0].sql(dialect="postgres", pretty=True)
    except SqlglotError:
        return sql
    original = _fingerprint(sql)
    if original is None or _fingerprint(pretty) != original or not _same_tree(sql, pretty):
        return sql
    return pretty


def _is_query(sql: str) -> bool:
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _QUERY_WORDS


_QUERY_WORDS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"})


def _same_tree(a: str, b: str) -> bool:
    """Compare full parse trees: fingerprints ignore constants, trees do not."""
    from pglast import parse_sql

    def strip(node: object) -> object:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not _positional(k)}
        if isinstance(node, list | tuple):
            return [strip(v) for v in node]
        return node

    try:
        return bool(strip(parse_sql(a)[0]()) == strip(parse_sql(b)[0]()))
    except Exception:  # any parse failure means: not provably the same
        return False


def _positional(key: str) -> bool:
    """Keys of pglast's tree that hold text positions, not meaning."""
    return "location" in key or key in ("stmt_len", "rexpr_list_start", "rexpr_list_end")
