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

from dibs.errors import DibsError
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

__all__ = [
    "DibsError",
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
]
