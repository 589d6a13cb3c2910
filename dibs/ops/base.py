"""What every operation shares: the ``Op`` base, hazards and the dependency keys.

An operation is one change to a schema. Besides ``describe()``, ``hazards``
and ``apply(schema)`` (the simulation the planner checks), each operation
names the catalog objects it creates, drops and requires as *keys*
(``("table", "public", "users")``, ``("column", "public", "users", "email")``),
which is all the planner needs to order a plan: no op type is special-cased
there.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterable
from dataclasses import replace

from dibs.schema.model import DEFAULT_SCHEMA, Index, Schema, Table

__all__ = [
    "Hazard",
    "Key",
    "Op",
    "TypeChange",
    "column_key",
    "constraint_key",
    "index_key",
    "index_unique_columns",
    "replace_table",
    "schema_key",
    "sequence_keys_in_default",
    "table_key",
    "type_keys",
    "unique_key",
]

Key = tuple[str, ...]


class Hazard(enum.Enum):
    """A risk a reviewer should see before an operation runs on a live database.

    ``ACCESS_EXCLUSIVE_LOCK`` means a lock held for as long as work proportional
    to the table's size (a rewrite, an index build inside ``ALTER TABLE``), not
    the brief lock almost every ``ALTER TABLE`` takes. ``INDEX_DROPPED``: queries
    that used the index may get slower plans. ``STATISTICS_RESET``: Postgres drops
    a column's planner statistics when its type changes (``RemoveStatistics`` in
    ``ATExecAlterColumnType``), so plans on it may degrade until the next
    ``ANALYZE``. docs/diff.md maps these classes to pg-schema-diff's hazard types.
    """

    DATA_LOSS = "data loss"
    TABLE_REWRITE = "table rewrite"
    ACCESS_EXCLUSIVE_LOCK = "long ACCESS EXCLUSIVE lock"
    INDEX_BUILD_BLOCKS_WRITES = "index build blocks writes"
    CONSTRAINT_SCAN = "constraint validation scans the table"
    NOT_NULL_SCAN = "SET NOT NULL scans the table"
    INDEX_DROPPED = "index dropped: queries that used it may slow down"
    STATISTICS_RESET = "column statistics reset: query plans may degrade until ANALYZE"


class TypeChange(enum.Enum):
    """How a column type change treats existing data (see ``autogenerate.hazards``)."""

    NO_REWRITE = "binary-compatible widening: no rewrite"
    WIDENING = "widening: no data lost, but the table is rewritten"
    NARROWING = "narrowing or conversion: values may be cut or fail to cast"


class Op:
    """Base of all operations; subclasses are frozen dataclasses named ``VerbNoun``.

    ``removes`` tells the planner whether the operation works on the *old*
    version of the objects it requires (a drop) or on the new one (a create
    or alter): when one plan both drops and re-creates an object, users of
    the old version run before the drop, users of the new one after the
    create. ``moves`` marks renames: the keys they create appear before any
    drop and re-create of the same names that the rest of the diff does.
    """

    __slots__ = ()

    removes: bool = False
    moves: bool = False

    def describe(self) -> str:
        """Return one line saying what the operation does, for plans and reviews."""
        raise NotImplementedError

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        return ()

    def apply(self, schema: Schema) -> Schema:
        """Return ``schema`` as it is after this operation (the planner's simulation)."""
        raise NotImplementedError

    def creates(self) -> frozenset[Key]:
        return frozenset()

    def drops(self) -> frozenset[Key]:
        return frozenset()

    def requires(self) -> frozenset[Key]:
        return frozenset()

    def releases(self) -> frozenset[Key]:
        """Keys whose *old* version this op stops using: it runs before they are dropped."""
        return frozenset()

    def rewrites_tables(self) -> frozenset[tuple[str, str]]:
        """Tables whose dependent views/functions this op would break (type change, drop…)."""
        return frozenset()

    def __str__(self) -> str:
        return self.describe()


def schema_key(schema: str) -> frozenset[Key]:
    """The key of a namespace, or nothing for ``public`` (it always exists)."""
    return frozenset() if schema == DEFAULT_SCHEMA else frozenset({("schema", schema)})


def table_key(schema: str, name: str) -> Key:
    return ("table", schema, name)


def column_key(schema: str, table: str, column: str) -> Key:
    return ("column", schema, table, column)


def constraint_key(schema: str, table: str, name: str) -> Key:
    return ("constraint", schema, table, name)


def unique_key(schema: str, table: str, columns: Iterable[str]) -> Key:
    """What a foreign key needs on its target: *some* unique constraint or index on exactly
    these columns (in any order). Primary keys, unique constraints and plain unique
    indexes all provide it, whatever their names."""
    return ("unique", schema, table, *sorted(columns))


def index_unique_columns(index: Index) -> tuple[str, ...] | None:
    """The columns a unique index makes unique, when a foreign key may reference it."""
    if not index.unique or index.where is not None:
        return None
    columns = tuple(e.column for e in index.elements if e.column is not None)
    return columns if len(columns) == len(index.elements) else None


def index_key(schema: str, name: str) -> Key:
    """Index names are unique per namespace, so the table is not part of the key."""
    return ("relation", schema, name)


def _unquote(part: str) -> str:
    if part.startswith('"') and part.endswith('"'):
        return part[1:-1].replace('""', '"')
    return part


def _split_name(text: str) -> tuple[str, str]:
    parts = [_unquote(p) for p in re.findall(r'"(?:[^"]|"")*"|[^.]+', text)]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return DEFAULT_SCHEMA, parts[-1] if parts else text


def type_keys(type_name: str) -> frozenset[Key]:
    """Keys of the user types a canonical column type names (``shop.status[]``).

    Built-in types get a key too; nothing creates or drops it, so it orders nothing.
    """
    base = type_name.removesuffix("[]")
    base = re.sub(r"\(.*\)$", "", base)
    schema, name = _split_name(base)
    return frozenset({("type", schema, name)}) | schema_key(schema)


# Both spellings: Postgres's ``nextval('s'::regclass)`` and the canonical form's
# ``nextval(CAST('s' AS regclass))``.
_NEXTVAL = re.compile(r"nextval\((?:CAST\()?'((?:[^']|'')*)'(?:::regclass| AS regclass\))?\)")


def sequence_keys_in_default(default: str | None) -> frozenset[Key]:
    """Keys of the sequences a default reads through ``nextval('…'::regclass)``."""
    if default is None:
        return frozenset()
    keys: set[Key] = set()
    for match in _NEXTVAL.finditer(default):
        schema, name = _split_name(match.group(1).replace("''", "'"))
        keys.add(("relation", schema, name))
    return frozenset(keys)


def replace_table(schema: Schema, old: Table, new: Table | None) -> Schema:
    """Return ``schema`` with table ``old`` (by key) replaced by ``new`` (or removed).

    Only the changed table is normalised and put in its sorted place: the
    planner simulates every operation of a plan, and re-normalising a
    thousand untouched tables each time made plans quadratic.
    """
    tables = list(schema.tables)
    i = bisect.bisect_left(tables, old.key, key=lambda t: t.key)
    if i < len(tables) and tables[i].key == old.key:
        del tables[i]
    else:
        tables = [t for t in tables if t.key != old.key]
    if new is not None:
        bisect.insort(tables, new.normalized(), key=lambda t: t.key)
    return replace(schema, tables=tuple(tables))


def get_table(schema: Schema, key: tuple[str, str]) -> Table:
    """Return the table ``key`` of ``schema``; the planner only applies ops that fit."""
    table = schema.table(key[1], key[0])
    if table is None:
        raise KeyError(f"table {key[0]}.{key[1]} does not exist in the simulated schema")
    return table
