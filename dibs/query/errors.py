"""Errors of the query layer: builder misuse, integrity violations, schema drift, validation.

Postgres errors are translated (``translate``) into these, carrying the table,
column and constraint from psycopg's ``exc.diag`` so callers need not parse
messages. The original psycopg error stays available as ``__cause__``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dibs.errors import DibsError

if TYPE_CHECKING:
    from dibs.query.info import TableInfo
    from dibs.schema import model

__all__ = [
    "CheckViolation",
    "Drift",
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
    "translate",
]


class QueryError(DibsError):
    """A query could not be built or run."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        table: str | None = None,
        column: str | None = None,
        constraint: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.table = table
        self.column = column
        self.constraint = constraint
        self.sqlstate = sqlstate


class UnknownName(QueryError, LookupError):
    """A table or column name (dynamic API) is not in the declared schema."""

    def __init__(self, kind: str, name: str, known: Iterable[str], where: str = "") -> None:
        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None
        super().__init__(f"unknown {kind} {name!r}{where}", hint=hint)
        self.kind = kind
        self.name = name
        self.suggestions = tuple(close)


class JoinError(QueryError):
    """A join cannot be inferred: no foreign key, or several."""


class UnsafeStatement(QueryError):
    """UPDATE or DELETE without WHERE (call ``.all_rows()`` to mean it)."""


class NotFound(QueryError, LookupError):
    """``fetch_one`` found no row."""


class TooManyRows(QueryError):
    """``fetch_one`` found more than one row."""


class ValidationError(QueryError, ValueError):
    """A before-hook rejected a row; ``fields`` maps field names to messages."""

    def __init__(
        self,
        message: str = "the row is not valid",
        *,
        fields: Mapping[str, str | list[str]] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.fields: dict[str, list[str]] = {
            k: [v] if isinstance(v, str) else list(v) for k, v in (fields or {}).items()
        }

    def __str__(self) -> str:
        text = super().__str__()
        for name, messages in self.fields.items():
            text += f"\n  {name}: {'; '.join(messages)}"
        return text


class IntegrityError(QueryError):
    """The database refused a row (a constraint).

    ``table`` is qualified (``shop.customers``), ``constraint`` the constraint's
    name, ``columns`` the columns it covers (from the declared model when the
    constraint is declared there) and ``column`` the single one when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        table: str | None = None,
        column: str | None = None,
        columns: tuple[str, ...] = (),
        constraint: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(
            message,
            hint=hint,
            table=table,
            column=column,
            constraint=constraint,
            sqlstate=sqlstate,
        )
        self.columns = columns or ((column,) if column else ())


class UniqueViolation(IntegrityError):
    """A unique constraint, unique index or primary key refused a duplicate."""


class ForeignKeyViolation(IntegrityError):
    """A foreign key refused a row (no referenced row, or rows still refer to it)."""


class CheckViolation(IntegrityError):
    """A check constraint refused a row."""


class NotNullViolation(IntegrityError):
    """A NULL for a NOT NULL column."""


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference between the database and the declared schema.

    ``in_database`` and ``in_schema`` are type names, ``"missing"``, or
    ``"NOT NULL"`` / ``"nullable"``; ``column`` is ``None`` for a whole table.
    """

    table: str
    column: str | None
    in_database: str | None
    in_schema: str | None

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        if self.in_database == "missing":
            declared = f" ({self.in_schema})" if self.column and self.in_schema else ""
            return f"{where}{declared} is missing in the database but declared in the schema"
        if self.in_schema == "missing":
            return f"{where} ({self.in_database}) is in the database but not in the schema"
        return f"{where} is {self.in_database} in the database but {self.in_schema} in the schema"


class SchemaDrift(QueryError):
    """The database does not match the declared schema (a table, column or type differs).

    ``differences`` lists what differs when dibs could read the catalog after
    the error; it is empty when only the error code suggests drift.
    """

    def __init__(
        self,
        message: str,
        *,
        differences: tuple[Drift, ...] = (),
        hint: str | None = None,
        table: str | None = None,
        column: str | None = None,
        sqlstate: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, table=table, column=column, sqlstate=sqlstate)
        self.differences = differences

    @classmethod
    def found(cls, differences: Sequence[Drift], cause: QueryError) -> SchemaDrift:
        """The error for differences found in the catalog after ``cause`` failed."""
        first = differences[0]
        text = "; ".join(str(d) for d in differences)
        return cls(
            f"{text}: run `dibs migrate`",
            differences=tuple(differences),
            hint=f"`dibs check` lists every difference; the database said: {cause.message}",
            table=first.table,
            column=first.column,
            sqlstate=cause.sqlstate,
        )


_BY_STATE: dict[str, type[QueryError]] = {
    "23505": UniqueViolation,
    "23503": ForeignKeyViolation,
    "23514": CheckViolation,
    "23502": NotNullViolation,
    "23P01": IntegrityError,  # exclusion violation
}

_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+"')


def translate(exc: Any, tables: Iterable[TableInfo] = ()) -> QueryError:
    """A dibs error for a psycopg error (``raise translate(exc) from exc``).

    ``tables`` are the declared tables the statement used: they name the
    columns of a violated constraint and tell a NOT NULL violation on a column
    the schema calls nullable (or does not know) from a plain missing value.
    """
    diag = getattr(exc, "diag", None)
    state = getattr(exc, "sqlstate", None) or ""
    cls = _BY_STATE.get(state, QueryError)
    table = getattr(diag, "table_name", None)
    schema = getattr(diag, "schema_name", None)
    qualified = f"{schema}.{table}" if schema and table else table
    column = getattr(diag, "column_name", None)
    constraint = getattr(diag, "constraint_name", None)
    detail = getattr(diag, "message_detail", None)
    primary = getattr(diag, "message_primary", None) or str(exc).strip()
    found = _find(tables, schema, table)
    if cls is NotNullViolation and found is not None and column is not None:
        declared = next((c for c in found.columns if c.name == column), None)
        if declared is None or declared.nullable:
            # The model allows NULL here (or has no such column): the database drifted.
            drift = Drift(
                f"{found.schema}.{found.name}",
                column,
                "NOT NULL",
                "nullable" if declared else "missing",
            )
            return SchemaDrift.found([drift], QueryError(primary, sqlstate=state))
    if issubclass(cls, IntegrityError):
        columns = _constraint_columns(found, constraint) if column is None else (column,)
        return cls(
            primary,
            hint=detail,
            table=qualified,
            column=column or (columns[0] if len(columns) == 1 else None),
            columns=columns,
            constraint=constraint,
            sqlstate=state,
        )
    hint = detail
    if hint is None and state[:2] in ("22", "42"):
        # ``run.py`` compares the catalog after such errors and raises SchemaDrift
        # when it finds a difference; this hint is for when it could not look.
        hint = "if the database may differ from the declared schema, `dibs check` shows how"
    return cls(
        primary,
        hint=hint,
        table=qualified,
        column=column,
        constraint=constraint,
        sqlstate=state or None,
    )


def _find(tables: Iterable[TableInfo], schema: str | None, table: str | None) -> model.Table | None:
    """The declared table Postgres named: one of the statement's, or another of their schema.

    (A DELETE of a customer fails on the foreign key of ``orders``, which the
    statement does not mention.)
    """
    if table is None:
        return None
    infos = list(tables)
    candidates = [info.table for info in infos]
    for info in infos:
        candidates.extend(info.schema.tables)
    for t in candidates:
        if t.name == table and (schema is None or t.schema == schema):
            return t
    return None


def _constraint_columns(t: model.Table | None, name: str | None) -> tuple[str, ...]:
    """The columns of a declared constraint or unique index (empty when unknown)."""
    if t is None or name is None:
        return ()
    if t.primary_key is not None and t.primary_key.name == name:
        return t.primary_key.columns
    for unique in t.uniques:
        if unique.name == name:
            return unique.columns
    for fk in t.foreign_keys:
        if fk.name == name:
            return fk.columns
    for index in t.indexes:
        if index.name == name:
            return tuple(e.column for e in index.elements if e.column)
    for check in t.checks:
        if check.name == name:
            names = {c.name for c in t.columns}
            words = [w.strip('"').replace('""', '"') for w in _IDENTIFIER.findall(check.expression)]
            return tuple(dict.fromkeys(w for w in words if w in names))
    return ()
