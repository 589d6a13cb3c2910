"""Queries on the declared schema: typed builders, a dynamic (by-name) API, hooks.

``select``/``insert``/``update``/``delete`` build statements that run on psycopg 3
connections with ``stmt.fetch(conn)`` or ``await stmt.afetch(aconn)``. See
docs/queries.md. Names are imported on first use so that importing a table
class (``@dibs.table`` needs ``rowtype``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dibs.query.dml import Delete, Insert, Update, delete, insert, insert_many, update
    from dibs.query.errors import (
        CheckViolation,
        ForeignKeyViolation,
        IntegrityError,
        JoinError,
        NotFound,
        NotNullViolation,
        QueryError,
        SchemaDrift,
        TooManyRows,
        UniqueViolation,
        UnknownName,
        UnsafeStatement,
        ValidationError,
    )
    from dibs.query.expr import Col, Expr, and_, not_, or_, raw
    from dibs.query.funcs import (
        array_agg,
        avg,
        coalesce,
        count,
        json_agg,
        lower,
        max_,
        min_,
        sum_,
        upper,
    )
    from dibs.query.hooks import HookContext
    from dibs.query.nested import related, with_children
    from dibs.query.rowtype import DB_DEFAULT
    from dibs.query.selects import Select, exists, scalar, select
    from dibs.query.statement import RawStatement, raw_sql
    from dibs.query.transactions import (
        acommit,
        arollback,
        asettle,
        atransaction,
        commit,
        rollback,
        settle,
        transaction,
    )

_WHERE = {
    "dml": ("Delete", "Insert", "Update", "delete", "insert", "insert_many", "update"),
    "errors": (
        "CheckViolation",
        "ForeignKeyViolation",
        "IntegrityError",
        "JoinError",
        "NotFound",
        "NotNullViolation",
        "QueryError",
        "SchemaDrift",
        "TooManyRows",
        "UniqueViolation",
        "UnknownName",
        "UnsafeStatement",
        "ValidationError",
    ),
    "expr": ("Col", "Expr", "and_", "not_", "or_", "raw"),
    "funcs": (
        "array_agg",
        "avg",
        "coalesce",
        "count",
        "json_agg",
        "lower",
        "max_",
        "min_",
        "sum_",
        "upper",
    ),
    "hooks": ("HookContext",),
    "nested": ("related", "with_children"),
    "rowtype": ("DB_DEFAULT",),
    # The module is ``selects`` so that it never shadows the ``select`` function on
    # the package, and the whole layer stays lazy (declaring a table imports none of it).
    "selects": ("Select", "exists", "scalar", "select"),
    "statement": ("RawStatement", "raw_sql"),
    "transactions": (
        "acommit",
        "arollback",
        "asettle",
        "atransaction",
        "commit",
        "rollback",
        "settle",
        "transaction",
    ),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dibs.query' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"dibs.query.{module}"), name)
    globals()[name] = value
    return value


# Written out (not computed from _WHERE) so that type checkers see what is exported;
# tests/typing/test_exports.py checks that the two agree.
__all__ = [
    "DB_DEFAULT",
    "CheckViolation",
    "Col",
    "Delete",
    "Expr",
    "ForeignKeyViolation",
    "HookContext",
    "Insert",
    "IntegrityError",
    "JoinError",
    "NotFound",
    "NotNullViolation",
    "QueryError",
    "RawStatement",
    "SchemaDrift",
    "Select",
    "TooManyRows",
    "UniqueViolation",
    "UnknownName",
    "UnsafeStatement",
    "Update",
    "ValidationError",
    "acommit",
    "and_",
    "arollback",
    "array_agg",
    "asettle",
    "atransaction",
    "avg",
    "coalesce",
    "commit",
    "count",
    "delete",
    "exists",
    "insert",
    "insert_many",
    "json_agg",
    "lower",
    "max_",
    "min_",
    "not_",
    "or_",
    "raw",
    "raw_sql",
    "related",
    "rollback",
    "scalar",
    "select",
    "settle",
    "sum_",
    "transaction",
    "update",
    "upper",
    "with_children",
]
