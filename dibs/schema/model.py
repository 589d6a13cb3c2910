"""The canonical schema model: frozen dataclasses both declarations and introspection produce.

Every value in the model is already in canonical form (see ``types.py`` for
type spellings and ``expressions.py`` for SQL expressions), so two models of
the same database compare equal with ``==`` and have the same fingerprint.

SQL expressions keep their exact text (what dibs renders) but compare by
their key (``expressions.expression_key``), because Postgres rewrites the
expressions it stores; the key is kept in a hidden ``_key``/``_keys`` field.

Fields that describe *where* something was declared or *how* the admin should
show it (source locations, display hints, rename hints) are carried along but
excluded from equality and from the fingerprint: they never change the SQL.

Collections are tuples sorted by name (see ``Schema.normalized``), except the
columns of a table, which keep their declared/ordinal order for rendering but
compare as a set keyed by name: Postgres cannot reorder columns, so an order
difference is not a schema difference.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from dibs.errors import SourceLocation


def _key(expression: str | None) -> str | None:
    """Comparison key of an expression (see ``expressions.expression_key``)."""
    if expression is None:
        return None
    from dibs.schema.expressions import expression_key

    return expression_key(expression)


__all__ = [
    "Check",
    "Column",
    "ColumnDisplay",
    "Domain",
    "EnumType",
    "Exclusion",
    "ExclusionElement",
    "Extension",
    "ForeignKey",
    "IdentityOptions",
    "Index",
    "IndexElement",
    "PrimaryKey",
    "Schema",
    "Sequence",
    "SourceLocation",
    "Table",
    "Unique",
    "Unmanaged",
]

IdentityKind = Literal["always", "by default"]
FkAction = Literal["NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"]
FkMatch = Literal["SIMPLE", "FULL"]

DEFAULT_SCHEMA = "public"

# A field added after fingerprints were recorded: left out of the fingerprint
# (as ``to_json`` leaves out every default) while it holds its default, so
# schemas that do not use it keep their fingerprint.
OMIT_DEFAULT: dict[str, str] = {"fingerprint": "omit-default"}

# The values a sequence of each integer type can take.
_INTEGER_RANGE = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def sequence_bounds(type_name: str, increment: int) -> tuple[int | None, int | None]:
    """Return Postgres's default ``(MINVALUE, MAXVALUE)`` for a sequence of ``type_name``.

    Ascending sequences default to ``1 .. max of the type``, descending ones to
    ``min of the type .. -1``; ``(None, None)`` for a type that is no integer.

    >>> sequence_bounds("smallint", -1)
    (-32768, -1)
    """
    if type_name not in _INTEGER_RANGE:
        return (None, None)
    low, high = _INTEGER_RANGE[type_name]
    return (1, high) if increment > 0 else (low, -1)


def _table_key(table: Table) -> tuple[str, str]:
    return (table.schema, table.name)


def _sorted_by_name(items: tuple[Any, ...]) -> bool:
    return all(items[i].name <= items[i + 1].name for i in range(len(items) - 1))


def _no_empty_comment(obj: object) -> None:
    """An empty comment is no comment: ``COMMENT ON … IS ''`` removes it in Postgres."""
    if getattr(obj, "comment", None) == "":
        object.__setattr__(obj, "comment", None)


@dataclass(frozen=True, slots=True)
class ColumnDisplay:
    """Admin display hints; they never affect SQL or the fingerprint."""

    label: bool = False
    long_text: bool = False
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class IdentityOptions:
    """The sequence options of an identity column, where they differ from Postgres's defaults.

    ``start``, ``min_value`` and ``max_value`` are ``None`` when they are the
    default, which depends on the column's type and the increment's direction
    (``1 .. 2147483647`` for an ascending ``integer``; start at the minimum when
    ascending, the maximum when descending). Keeping the default as ``None``
    rather than a number is what Postgres does too: when the column's type
    changes, a default bound follows the new type and an explicit one stays.
    ``Column`` normalises its options against its type (``normalized``) and
    holds ``None`` instead of all-default options, so the options a schema
    never mentions do not exist in its JSON or fingerprint.
    """

    start: int | None = None
    increment: int = 1
    min_value: int | None = None
    max_value: int | None = None
    cache: int = 1
    cycle: bool = False

    def bounds(self, type_name: str) -> tuple[int | None, int | None]:
        """Return the effective ``(min, max)`` on a column of ``type_name``."""
        low, high = sequence_bounds(type_name, self.increment)
        return (
            low if self.min_value is None else self.min_value,
            high if self.max_value is None else self.max_value,
        )

    def effective_start(self, type_name: str) -> int | None:
        """Return the effective START on a column of ``type_name`` (the low or high bound)."""
        if self.start is not None:
            return self.start
        low, high = self.bounds(type_name)
        return low if self.increment > 0 else high

    def normalized(self, type_name: str) -> IdentityOptions | None:
        """Return these options with defaults as ``None`` (``None`` when all are default).

        Raises:
            ValueError: the options are not ones Postgres accepts.
        """
        if self.increment == 0:
            raise ValueError("identity increment must not be zero")
        if self.cache < 1:
            raise ValueError(f"identity cache must be at least 1, not {self.cache}")
        low, high = self.bounds(type_name)
        if low is not None and high is not None and low >= high:
            raise ValueError(f"identity MINVALUE ({low}) must be less than MAXVALUE ({high})")
        start = self.effective_start(type_name)
        if start is not None and low is not None and high is not None and not low <= start <= high:
            raise ValueError(f"identity START ({start}) must be within {low} .. {high}")
        default_low, default_high = sequence_bounds(type_name, self.increment)
        result = IdentityOptions(
            start=None if start == (low if self.increment > 0 else high) else start,
            increment=self.increment,
            min_value=None if low == default_low else low,
            max_value=None if high == default_high else high,
            cache=self.cache,
            cycle=self.cycle,
        )
        return None if result == IdentityOptions() else result


@dataclass(frozen=True, slots=True)
class Column:
    """A table column.

    ``type`` is a canonical type spelling (``bigint``, ``varchar(20)``,
    ``timestamptz``, ``shop.order_status[]``); ``default`` and ``generated``
    are canonical SQL expressions; ``generated`` is a STORED generated column.
    ``identity_options`` holds an identity column's non-default sequence
    options (normalised against ``type`` on construction, see ``IdentityOptions``).
    """

    name: str
    type: str
    nullable: bool = True
    default: str | None = field(default=None, compare=False)
    identity: IdentityKind | None = None
    generated: str | None = field(default=None, compare=False)
    comment: str | None = None
    collation: str | None = None
    identity_options: IdentityOptions | None = field(default=None, metadata=OMIT_DEFAULT)
    renamed_from: tuple[str, ...] = field(default=(), compare=False)
    display: ColumnDisplay = field(default=ColumnDisplay(), compare=False)
    location: SourceLocation | None = field(default=None, compare=False)
    _keys: tuple[str | None, str | None] = field(default=(None, None), init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", (_key(self.default), _key(self.generated)))
        _no_empty_comment(self)
        if self.identity_options is not None:
            if self.identity is None:
                raise ValueError(f"column {self.name!r}: identity options on a non-identity column")
            object.__setattr__(
                self, "identity_options", self.identity_options.normalized(self.type)
            )


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    """A primary key; ``deferrable`` keys are checked at commit (no foreign key may use them)."""

    name: str
    columns: tuple[str, ...]
    deferrable: bool = field(default=False, metadata=OMIT_DEFAULT)
    initially_deferred: bool = field(default=False, metadata=OMIT_DEFAULT)
    # COMMENT ON CONSTRAINT; an empty comment is none.
    comment: str | None = field(default=None, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _no_empty_comment(self)


@dataclass(frozen=True, slots=True)
class Unique:
    name: str
    columns: tuple[str, ...]
    nulls_not_distinct: bool = False
    deferrable: bool = False
    initially_deferred: bool = False
    # COMMENT ON CONSTRAINT; an empty comment is none.
    comment: str | None = field(default=None, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _no_empty_comment(self)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key; ``ref_schema``/``ref_table`` name the referenced table."""

    name: str
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: FkAction = "NO ACTION"
    on_update: FkAction = "NO ACTION"
    match: FkMatch = "SIMPLE"
    deferrable: bool = False
    initially_deferred: bool = False
    # Added NOT VALID and not validated since: existing rows were never checked.
    not_valid: bool = field(default=False, metadata=OMIT_DEFAULT)
    # COMMENT ON CONSTRAINT; an empty comment is none.
    comment: str | None = field(default=None, metadata=OMIT_DEFAULT)

    def __post_init__(self) -> None:
        _no_empty_comment(self)


@dataclass(frozen=True, slots=True)
class Check:
    """A CHECK constraint; ``no_inherit`` keeps it off child tables (``NO INHERIT``).

    ``not_valid``: added ``NOT VALID`` and never validated (existing rows unchecked).
    """

    name: str
    expression: str = field(compare=False)
    no_inherit: bool = field(default=False, metadata=OMIT_DEFAULT)
    not_valid: bool = field(default=False, metadata=OMIT_DEFAULT)
    # COMMENT ON CONSTRAINT; an empty comment is none.
    comment: str | None = field(default=None, metadata=OMIT_DEFAULT)
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.expression))
        _no_empty_comment(self)


@dataclass(frozen=True, slots=True)
class ExclusionElement:
    """One ``expression WITH operator`` pair of an exclusion constraint."""

    expression: str = field(compare=False)
    operator: str
    opclass: str | None = None
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.expression))


@dataclass(frozen=True, slots=True)
class Exclusion:
    name: str
    method: str
    elements: tuple[ExclusionElement, ...]
    where: str | None = field(default=None, compare=False)
    deferrable: bool = False
    initially_deferred: bool = False
    # COMMENT ON CONSTRAINT; an empty comment is none.
    comment: str | None = field(default=None, metadata=OMIT_DEFAULT)
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.where))
        _no_empty_comment(self)


@dataclass(frozen=True, slots=True)
class IndexElement:
    """A key of an index: a plain column (``column``) or an ``expression``."""

    column: str | None = None
    expression: str | None = field(default=None, compare=False)
    descending: bool = False
    nulls_first: bool = False
    opclass: str | None = None
    collation: str | None = None
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.expression))


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    elements: tuple[IndexElement, ...]
    unique: bool = False
    method: str = "btree"
    where: str | None = field(default=None, compare=False)
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    comment: str | None = None
    location: SourceLocation | None = field(default=None, compare=False)
    # Storage parameters (``WITH (fillfactor = 70)``) as sorted (name, text) pairs,
    # the text as Postgres keeps it in ``pg_class.reloptions``.
    storage: tuple[tuple[str, str], ...] = field(default=(), metadata=OMIT_DEFAULT)
    # The parameters' names in the order they were written, when it is not name
    # order: Postgres keeps ``reloptions`` as written, so dibs renders them so (the
    # order never takes part in equality or the fingerprint).
    storage_order: tuple[str, ...] = field(default=(), compare=False, metadata=OMIT_DEFAULT)
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.where))
        written = storage_parameters(self.storage, keep_order=True)
        ordered = tuple(sorted(written))
        object.__setattr__(self, "storage", ordered)
        if not self.storage_order and written != ordered:
            object.__setattr__(self, "storage_order", tuple(name for name, _ in written))
        _no_empty_comment(self)

    def storage_as_written(self) -> tuple[tuple[str, str], ...]:
        """``storage`` in the order it was written (``storage_order``), for rendering."""
        if not self.storage_order:
            return self.storage
        rank = {name: i for i, name in enumerate(self.storage_order)}
        return tuple(sorted(self.storage, key=lambda p: rank.get(p[0], len(rank))))


# Boolean storage parameters of the built-in index methods: Postgres keeps the
# word as written (``on``, ``true``, ``1``…); the model keeps ``on``/``off``.
_BOOLEAN_STORAGE = frozenset({"deduplicate_items", "fastupdate", "autosummarize"})
_TRUE_WORDS = frozenset({"on", "true", "yes", "1", "t", "y"})
_FALSE_WORDS = frozenset({"off", "false", "no", "0", "f", "n"})


def storage_parameters(
    items: Iterable[tuple[str, object]] | Mapping[str, object],
    *,
    keep_order: bool = False,
) -> tuple[tuple[str, str], ...]:
    """Normalise storage parameters: lower-case names, values as text, sorted by name
    (or in the order given, with ``keep_order``).

    ``True``/``False`` and the boolean words become ``on``/``off``.
    """
    pairs = items.items() if isinstance(items, Mapping) else items
    out: dict[str, str] = {}
    for name, value in pairs:
        key = str(name).lower()
        if isinstance(value, bool):
            text = "on" if value else "off"
        else:
            text = str(value)
            if key in _BOOLEAN_STORAGE and text.lower() in _TRUE_WORDS | _FALSE_WORDS:
                text = "on" if text.lower() in _TRUE_WORDS else "off"
        out[key] = text
    return tuple(out.items()) if keep_order else tuple(sorted(out.items()))


@dataclass(frozen=True, slots=True)
class Table:
    """A table with its columns, constraints and indexes.

    Compares columns as a set (see module docstring) through ``_column_key``.
    """

    name: str
    schema: str = DEFAULT_SCHEMA
    columns: tuple[Column, ...] = field(default=(), compare=False)
    primary_key: PrimaryKey | None = None
    uniques: tuple[Unique, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    exclusions: tuple[Exclusion, ...] = ()
    indexes: tuple[Index, ...] = ()
    comment: str | None = None
    partition_by: str | None = None
    partition_of: str | None = None
    partition_bound: str | None = None
    # A partition's indexes attached to its parent's indexes, as sorted (parent
    # index, own index) name pairs. The model keeps an attached index as the
    # parent's; Postgres names the partition's copy itself unless one with that
    # definition exists when the parent's index is built. Read from live
    # databases only, so dibs can build the partition's index under the name the
    # target has; never part of equality (Postgres's own names are no change).
    attached_indexes: tuple[tuple[str, str], ...] = field(
        default=(), compare=False, metadata=OMIT_DEFAULT
    )
    renamed_from: tuple[str, ...] = field(default=(), compare=False)
    label_column: str | None = field(default=None, compare=False)
    location: SourceLocation | None = field(default=None, compare=False)
    _column_key: tuple[Column, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_column_key", tuple(sorted(self.columns, key=lambda c: c.name)))
        _no_empty_comment(self)

    @property
    def qualified_name(self) -> str:
        """``schema.name``, or ``name`` alone in ``public`` (for messages)."""
        return self.name if self.schema == DEFAULT_SCHEMA else f"{self.schema}.{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def normalized(self) -> Table:
        """Return this table with every collection sorted by name (itself when it already is).

        Returning ``self`` keeps ``Schema.normalized`` cheap on large schemas:
        the planner's simulation normalises after every operation.
        """
        if all(
            _sorted_by_name(items)
            for items in (
                self.uniques,
                self.foreign_keys,
                self.checks,
                self.exclusions,
                self.indexes,
            )
        ):
            return self
        return replace(
            self,
            uniques=tuple(sorted(self.uniques, key=lambda c: c.name)),
            foreign_keys=tuple(sorted(self.foreign_keys, key=lambda c: c.name)),
            checks=tuple(sorted(self.checks, key=lambda c: c.name)),
            exclusions=tuple(sorted(self.exclusions, key=lambda c: c.name)),
            indexes=tuple(sorted(self.indexes, key=lambda c: c.name)),
        )


@dataclass(frozen=True, slots=True)
class EnumType:
    """A native Postgres enum; ``values`` keep their declared order."""

    name: str
    values: tuple[str, ...]
    schema: str = DEFAULT_SCHEMA
    comment: str | None = None
    location: SourceLocation | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _no_empty_comment(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Domain:
    """A domain: a named base type with a default, NOT NULL and checks (``VALUE > 0``)."""

    name: str
    type: str
    schema: str = DEFAULT_SCHEMA
    nullable: bool = True
    default: str | None = field(default=None, compare=False)
    checks: tuple[Check, ...] = ()
    collation: str | None = None
    comment: str | None = None
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", _key(self.default))
        _no_empty_comment(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Sequence:
    """A sequence that is not an identity column's (those live on the column).

    ``owned_by`` is ``(schema, table, column)`` for serial-style sequences.
    """

    name: str
    schema: str = DEFAULT_SCHEMA
    type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int | None = None
    max_value: int | None = None
    cache: int = 1
    cycle: bool = False
    owned_by: tuple[str, str, str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Extension:
    name: str
    schema: str = DEFAULT_SCHEMA


@dataclass(frozen=True, slots=True)
class Unmanaged:
    """An object dibs reads but does not manage (view, function, trigger, …).

    It is reported, never dropped; ``depends_on`` lists ``schema.table`` names
    it reads, so the planner can refuse to break it.
    """

    kind: str
    schema: str
    name: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Schema:
    """A whole database schema: the one model every stage of dibs works on.

    ``schemas`` lists namespaces besides ``public``. Build instances through
    ``Schema.build`` (or call ``normalized``) so collections are sorted.
    """

    tables: tuple[Table, ...] = ()
    enums: tuple[EnumType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    extensions: tuple[Extension, ...] = ()
    schemas: tuple[str, ...] = ()
    unmanaged: tuple[Unmanaged, ...] = ()
    domains: tuple[Domain, ...] = ()
    # Set on the result of ``normalized`` so normalising it again is free; any
    # ``replace`` makes a new instance with the flag cleared.
    _normal: bool = field(default=False, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls,
        *,
        tables: tuple[Table, ...] | list[Table] = (),
        enums: tuple[EnumType, ...] | list[EnumType] = (),
        sequences: tuple[Sequence, ...] | list[Sequence] = (),
        extensions: tuple[Extension, ...] | list[Extension] = (),
        schemas: tuple[str, ...] | list[str] | set[str] = (),
        unmanaged: tuple[Unmanaged, ...] | list[Unmanaged] = (),
        domains: tuple[Domain, ...] | list[Domain] = (),
    ) -> Schema:
        """Return a normalized schema from collections in any order."""
        return cls(
            tables=tuple(tables),
            enums=tuple(enums),
            sequences=tuple(sequences),
            extensions=tuple(extensions),
            schemas=tuple(schemas),
            unmanaged=tuple(unmanaged),
            domains=tuple(domains),
        ).normalized()

    def normalized(self) -> Schema:
        """Return this schema with every collection in canonical order."""
        if self._normal:
            return self
        result = Schema(
            tables=tuple(sorted((t.normalized() for t in self.tables), key=lambda t: t.key)),
            enums=tuple(sorted(self.enums, key=lambda e: e.key)),
            sequences=tuple(sorted(self.sequences, key=lambda s: s.key)),
            extensions=tuple(sorted(self.extensions, key=lambda e: e.name)),
            schemas=tuple(sorted(set(self.schemas) - {DEFAULT_SCHEMA})),
            unmanaged=tuple(sorted(set(self.unmanaged), key=lambda u: (u.kind, u.schema, u.name))),
            domains=tuple(
                sorted(
                    (
                        replace(d, checks=tuple(sorted(d.checks, key=lambda c: c.name)))
                        for d in self.domains
                    ),
                    key=lambda d: d.key,
                )
            ),
        )
        object.__setattr__(result, "_normal", True)
        return result

    def managed(self) -> Schema:
        """Return this schema without the objects dibs does not manage."""
        result = replace(self, unmanaged=())
        object.__setattr__(result, "_normal", self._normal)  # still in canonical order
        return result

    def table(self, name: str, schema: str = DEFAULT_SCHEMA) -> Table | None:
        # Tables are sorted by key once normalized: bisect first, scan as a fallback
        # for a schema built without ``build``/``normalized``.
        key = (schema, name)
        i = bisect.bisect_left(self.tables, key, key=_table_key)
        if i < len(self.tables) and self.tables[i].key == key:
            return self.tables[i]
        for t in self.tables:
            if t.name == name and t.schema == schema:
                return t
        return None

    def enum(self, name: str, schema: str = DEFAULT_SCHEMA) -> EnumType | None:
        for e in self.enums:
            if e.name == name and e.schema == schema:
                return e
        return None
