"""dibs: schema-first Postgres toolkit and Git-style migration repository for Python.

Declare tables as classes::

    from typing import Annotated
    import dibs

    @dibs.table(name="users")
    class User:
        id: Annotated[int, dibs.pk, dibs.identity()]
        email: Annotated[str, dibs.varchar(255), dibs.unique]

See docs/declaring.md for every marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dibs.errors import DibsError

if TYPE_CHECKING:
    from dibs.query import hooks
    from dibs.query.expr import Col
    from dibs.query.rowtype import DB_DEFAULT, default_value
    from dibs.schema.markers import (
        char,
        check,
        collate,
        column,
        comment,
        default,
        domain,
        enum,
        exclude,
        extension,
        fk,
        foreign_key,
        generated,
        hidden,
        identity,
        index,
        integer,
        json,
        label,
        long_text,
        naive,
        namespace,
        numeric,
        pk,
        real,
        renamed_from,
        sequence,
        smallint,
        sql_type,
        table,
        text,
        timestamp,
        unique,
        varchar,
    )

# The markers are imported on first use (PEP 562) so that commands which never
# read a declaration (``dibs check`` on a cache hit, ``dibs log``) do not pay
# for building the model's classes.
_MARKERS = frozenset(
    {
        "char",
        "check",
        "collate",
        "column",
        "comment",
        "default",
        "domain",
        "enum",
        "exclude",
        "extension",
        "fk",
        "foreign_key",
        "generated",
        "hidden",
        "identity",
        "index",
        "integer",
        "json",
        "label",
        "long_text",
        "naive",
        "namespace",
        "numeric",
        "pk",
        "real",
        "renamed_from",
        "sequence",
        "smallint",
        "sql_type",
        "table",
        "text",
        "timestamp",
        "unique",
        "varchar",
    }
)


# Query-layer names, also imported on first use: ``dibs.Col`` for column
# annotations, ``dibs.DB_DEFAULT`` for columns the database fills, ``dibs.hooks``.
_QUERY = {
    "Col": "dibs.query.expr",
    "DB_DEFAULT": "dibs.query.rowtype",
    "default_value": "dibs.query.rowtype",
    "hooks": None,
}


def __getattr__(name: str) -> Any:
    if name in _QUERY:
        import importlib

        module = _QUERY[name]
        value = (
            importlib.import_module("dibs.query.hooks")
            if module is None
            else getattr(importlib.import_module(module), name)
        )
        globals()[name] = value
        return value
    if name in ("query",):
        import importlib

        return importlib.import_module("dibs.query")
    if name in _MARKERS:
        from dibs.schema import markers

        value = getattr(markers, name)
        globals()[name] = value
        return value
    if name == "migrate":  # the subpackage, imported on first use like the markers
        import importlib

        return importlib.import_module("dibs.migrate")
    raise AttributeError(f"module 'dibs' has no attribute {name!r}")


__all__ = [
    "DB_DEFAULT",
    "Col",
    "DibsError",
    "char",
    "check",
    "collate",
    "column",
    "comment",
    "default",
    "default_value",
    "domain",
    "enum",
    "exclude",
    "extension",
    "fk",
    "foreign_key",
    "generated",
    "hidden",
    "hooks",
    "identity",
    "index",
    "integer",
    "json",
    "label",
    "long_text",
    "naive",
    "namespace",
    "numeric",
    "pk",
    "real",
    "renamed_from",
    "sequence",
    "smallint",
    "sql_type",
    "table",
    "text",
    "timestamp",
    "unique",
    "varchar",
]
