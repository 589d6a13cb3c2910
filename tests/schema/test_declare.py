"""Declaring tables in Python produces the expected canonical model, field by field."""

from __future__ import annotations

import datetime
import enum
import ipaddress
import math
import textwrap
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

import dibs
from dibs.errors import DeclarationError
from dibs.schema import model, naming
from dibs.schema.canonical import fingerprint
from dibs.schema.declare import load_schema, schema_from_classes
from dibs.schema.expressions import canonical_expression

FUTURE = "from __future__ import annotations\n"
HEADER = """\
from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import uuid
from typing import Annotated, Any

import dibs
"""


class Declared:
    """Write schema modules to a temporary directory and load them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.file = ""

    def __call__(self, source: str, *, postponed: bool = True) -> model.Schema:
        """Declare ``source`` (after HEADER) in a fresh module and return its schema.

        ``postponed=False`` drops ``from __future__ import annotations``, so
        annotations (and the markers in them) are evaluated at class creation.
        """
        name = f"decl_{uuid.uuid4().hex}"
        path = self.folder / f"{name}.py"
        header = HEADER if postponed else HEADER.replace(FUTURE, "")
        path.write_text(header + textwrap.dedent(source), encoding="utf-8")
        self.file = str(path)
        return load_schema([name])

    def line_of(self, fragment: str) -> int:
        """1-based line of the first line of the last module containing ``fragment``."""
        lines = Path(self.file).read_text(encoding="utf-8").splitlines()
        hits = [i for i, text in enumerate(lines, 1) if fragment in text]
        assert len(hits) == 1, (fragment, hits)
        return hits[0]


@pytest.fixture
def declare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Declared:
    monkeypatch.syspath_prepend(str(tmp_path))
    return Declared(tmp_path)


def table(schema: model.Schema, name: str, namespace: str = "public") -> model.Table:
    found = [t for t in schema.tables if t.name == name and t.schema == namespace]
    assert len(found) == 1, [t.qualified_name for t in schema.tables]
    return found[0]


def col(t: model.Table, name: str) -> model.Column:
    c = t.column(name)
    assert c is not None, [x.name for x in t.columns]
    return c


def types_of(t: model.Table) -> dict[str, str]:
    return {c.name: c.type for c in t.columns}


def expr(text: str) -> str:
    return canonical_expression(text)


# -- types --------------------------------------------------------------------


def test_python_types_map_to_postgres_types(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table
        class Everything:
            a_int: int
            a_smallint: Annotated[int, dibs.smallint]
            a_integer: Annotated[int, dibs.integer]
            a_text: str
            a_varchar: Annotated[str, dibs.varchar(40)]
            a_char: Annotated[str, dibs.char(2)]
            a_bool: bool
            a_float: float
            a_real: Annotated[float, dibs.real]
            a_numeric: decimal.Decimal
            a_money: Annotated[decimal.Decimal, dibs.numeric(12, 2)]
            a_tstz: datetime.datetime
            a_ts: Annotated[datetime.datetime, dibs.naive]
            a_date: datetime.date
            a_time: datetime.time
            a_interval: datetime.timedelta
            a_uuid: uuid.UUID
            a_bytes: bytes
            a_dict: dict[str, Any]
            a_list: list
            a_any: Any
            a_json: Annotated[dict[str, Any], dibs.json]
            a_text_array: list[str]
            a_int_array: list[int]
            a_inet4: ipaddress.IPv4Address
            a_inet6: ipaddress.IPv6Address
            a_iface: ipaddress.IPv4Interface
            a_cidr4: ipaddress.IPv4Network
            a_cidr6: ipaddress.IPv6Network
            a_override: Annotated[str, dibs.sql_type("tsvector")]
        """
    )
    assert types_of(table(schema, "everything")) == {
        "a_int": "bigint",
        "a_smallint": "smallint",
        "a_integer": "integer",
        "a_text": "text",
        "a_varchar": "varchar(40)",
        "a_char": "char(2)",
        "a_bool": "boolean",
        "a_float": "double precision",
        "a_real": "real",
        "a_numeric": "numeric",
        "a_money": "numeric(12,2)",
        "a_tstz": "timestamptz",
        "a_ts": "timestamp",
        "a_date": "date",
        "a_time": "time",
        "a_interval": "interval",
        "a_uuid": "uuid",
        "a_bytes": "bytea",
        "a_dict": "jsonb",
        "a_list": "jsonb",
        "a_any": "jsonb",
        "a_json": "json",
        "a_text_array": "text[]",
        "a_int_array": "bigint[]",
        "a_inet4": "inet",
        "a_inet6": "inet",
        "a_iface": "inet",
        "a_cidr4": "cidr",
        "a_cidr6": "cidr",
        "a_override": "tsvector",
    }


def test_enum_becomes_native_enum_with_values_in_order(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.enum(schema="shop", name="order_status", comment="Where an order is")
        class Status(enum.Enum):
            PENDING = "pending"
            PAID = "paid"
            CANCELLED = "cancelled"

        class Colour(enum.Enum):
            RED = 1
            GREEN = 2

        @dibs.table(schema="shop")
        class Order:
            id: Annotated[int, dibs.pk]
            status: Status
            history: list[Status]
            colour: Colour | None
        """
    )
    status = next(e for e in schema.enums if e.name == "order_status")
    assert (status.schema, status.values) == ("shop", ("pending", "paid", "cancelled"))
    assert status.comment == "Where an order is"
    colour = next(e for e in schema.enums if e.name == "colour")
    assert (colour.schema, colour.values) == ("public", ("RED", "GREEN"))
    t = table(schema, "order", "shop")
    assert col(t, "status").type == "shop.order_status"
    assert col(t, "history").type == "shop.order_status[]"
    assert col(t, "colour").type == "colour"
    assert schema.schemas == ("shop",)  # namespaces besides public


# -- nullability, identity, generated, defaults ---------------------------------


def test_nullability_identity_and_generated(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table
        class Line:
            id: Annotated[int, dibs.pk, dibs.identity()]
            seq: Annotated[int, dibs.identity(always=True)]
            note: str | None
            optional_int: Annotated[int | None, dibs.integer]
            qty: int
            price: decimal.Decimal
            total: Annotated[decimal.Decimal, dibs.generated("qty * price")]
        """
    )
    t = table(schema, "line")
    assert col(t, "id").identity == "by default" and not col(t, "id").nullable
    assert col(t, "seq").identity == "always"
    assert col(t, "note").nullable and col(t, "note").type == "text"
    assert col(t, "optional_int").nullable and col(t, "optional_int").type == "integer"
    assert not col(t, "qty").nullable and col(t, "qty").identity is None
    assert col(t, "total").generated == expr("qty * price")
    assert col(t, "total").default is None


def test_identity_sequence_options(declare: Declared) -> None:
    s = declare(
        """
        @dibs.table
        class Ticket:
            id: Annotated[int, dibs.pk, dibs.identity(always=True, start=100, increment=5)]
            down: Annotated[int, dibs.identity(increment=-1, max_value=-1, cache=1)]
        """
    )
    t = table(s, "ticket")
    assert col(t, "id").identity_options == model.IdentityOptions(start=100, increment=5)
    # Postgres's defaults are no options at all.
    assert col(t, "down").identity_options == model.IdentityOptions(increment=-1)
    from dibs.schema.codegen import generate_python

    assert "dibs.identity(always=True, start=100, increment=5)" in generate_python(s)


def test_identity_options_postgres_refuses_name_the_column(declare: Declared) -> None:
    with pytest.raises(DeclarationError, match=r"'id'.*START") as info:
        declare(
            """
            @dibs.table
            class Bad:
                id: Annotated[int, dibs.pk, dibs.identity(min_value=10, start=1)]
            """
        )
    assert info.value.hint is not None and "dibs.identity()" in info.value.hint


def test_defaults_as_sql_and_as_python_literals(declare: Declared) -> None:
    schema = declare(
        """
        class Mood(enum.Enum):
            HAPPY = "happy"
            SAD = "sad"

        @dibs.table
        class Prefs:
            created_at: Annotated[datetime.datetime, dibs.default("now()")]
            motto: str = "it's fine"
            count: int = 5
            active: bool = True
            off: bool = False
            rate: decimal.Decimal = decimal.Decimal("1.50")
            mood: Mood = Mood.SAD
            settings: dict[str, Any] = {"theme": "dark"}
            tags: list[str] = ["a", "b"]
            empty: list[int] = []
            nothing: str | None = None
        """
    )
    t = table(schema, "prefs")
    assert col(t, "created_at").default == expr("now()")
    assert col(t, "motto").default == expr("'it''s fine'")
    assert col(t, "count").default == expr("5")
    assert col(t, "active").default == expr("true")
    assert col(t, "off").default == expr("false")
    assert col(t, "rate").default == expr("1.50")
    assert col(t, "mood").default == expr("'sad'")
    assert col(t, "settings").default == expr("""'{"theme": "dark"}'""")
    assert col(t, "tags").default == expr("ARRAY['a', 'b']")
    assert col(t, "empty").default == expr("'{}'")
    assert col(t, "nothing").default is None


# -- keys and constraints --------------------------------------------------------


def test_primary_and_unique_keys(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(
            primary_key=("tenant", "code"),
            unique=[dibs.unique("tenant", "slug", nulls_not_distinct=True)],
        )
        class Item:
            tenant: int
            code: Annotated[str, dibs.varchar(10)]
            slug: str | None
            email: Annotated[str, dibs.unique]
            serial: Annotated[str, dibs.unique(name="item_serial_uq", deferrable=True)]
        """
    )
    t = table(schema, "item")
    assert t.primary_key == model.PrimaryKey("item_pkey", ("tenant", "code"))
    assert not col(t, "tenant").nullable and not col(t, "code").nullable
    uniques = {u.name: u for u in t.uniques}
    assert uniques == {
        "item_email_key": model.Unique("item_email_key", ("email",)),
        "item_serial_uq": model.Unique("item_serial_uq", ("serial",), deferrable=True),
        "item_tenant_slug_key": model.Unique(
            "item_tenant_slug_key", ("tenant", "slug"), nulls_not_distinct=True
        ),
    }


FK_SOURCE = """
@dibs.table(name="users", schema="app")
class User:
    id: Annotated[int, dibs.pk, dibs.identity()]
    handle: Annotated[str, dibs.unique]

@dibs.table(schema="app", primary_key=("tenant", "code"))
class Account:
    tenant: int
    code: str

@dibs.table(
    schema="app",
    foreign_keys=[
        dibs.foreign_key(
            ("tenant", "account_code"), "account", ("tenant", "code"),
            on_delete="cascade", match="full", name="post_account_fk",
        )
    ],
)
class Post:
    id: Annotated[int, dibs.pk]
    author_id: Annotated[int, dibs.fk("users.id", on_delete="cascade", on_update="restrict")]
    editor_id: Annotated[int | None, dibs.fk("app.users.id", on_delete="set null")]
    owner_id: Annotated[int, dibs.fk(User, deferrable=True, initially_deferred=True)]
    handle: Annotated[str, dibs.fk("users.handle", on_delete="set default")]
    tenant: int
    account_code: str
"""


def test_foreign_keys_by_string_qualified_name_class_and_composite(declare: Declared) -> None:
    t = table(declare(FK_SOURCE), "post", "app")
    fks = {f.name: f for f in t.foreign_keys}
    assert fks == {
        "post_author_id_fkey": model.ForeignKey(
            "post_author_id_fkey",
            ("author_id",),
            "app",
            "users",
            ("id",),
            on_delete="CASCADE",
            on_update="RESTRICT",
        ),
        "post_editor_id_fkey": model.ForeignKey(
            "post_editor_id_fkey", ("editor_id",), "app", "users", ("id",), on_delete="SET NULL"
        ),
        "post_owner_id_fkey": model.ForeignKey(
            "post_owner_id_fkey",
            ("owner_id",),
            "app",
            "users",
            ("id",),
            deferrable=True,
            initially_deferred=True,
        ),
        "post_handle_fkey": model.ForeignKey(
            "post_handle_fkey", ("handle",), "app", "users", ("handle",), on_delete="SET DEFAULT"
        ),
        "post_account_fk": model.ForeignKey(
            "post_account_fk",
            ("tenant", "account_code"),
            "app",
            "account",
            ("tenant", "code"),
            on_delete="CASCADE",
            match="FULL",
        ),
    }


def test_checks_column_and_table_with_implicit_names(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(
            checks=[
                dibs.check("low <= high"),
                dibs.check("high < 100", name="range_high_small"),
            ]
        )
        class Range:
            low: Annotated[int, dibs.check("low >= 0")]
            high: int
        """
    )
    checks = {c.name: c.expression for c in table(schema, "range").checks}
    assert checks == {
        "range_low_check": expr("low >= 0"),
        "range_check": expr("low <= high"),
        "range_high_small": expr("high < 100"),
    }


def test_exclusion_constraint(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(
            exclusions=[dibs.exclude(("room", "="), ("during", "&&"), where="not cancelled")]
        )
        class Booking:
            room: int
            during: Annotated[str, dibs.sql_type("tstzrange")]
            cancelled: bool = False
        """
    )
    (excl,) = table(schema, "booking").exclusions
    assert excl.name == "booking_room_during_excl"
    assert excl.method == "gist"
    assert [(e.expression, e.operator) for e in excl.elements] == [
        ("room", "="),
        ("during", "&&"),
    ]
    assert excl.where == expr("NOT cancelled")


def test_indexes(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(
            name="posts",
            indexes=[
                dibs.index("author_id", "created_at"),
                dibs.index("created_at DESC", "score NULLS FIRST", name="posts_recent_idx"),
                dibs.index("author_id", where="published", name="posts_published_idx"),
                dibs.index("lower(title)", unique=True, name="posts_title_ci_key"),
                dibs.index("author_id", include=("title",), name="posts_cover_idx"),
                dibs.index("tags", method="gin"),
                dibs.index("during", method="gist"),
                dibs.index("created_at", method="brin", name="posts_created_brin"),
                dibs.index("slug", method="hash"),
            ],
        )
        class Post:
            id: Annotated[int, dibs.pk]
            author_id: Annotated[int, dibs.index]
            title: str
            slug: str
            score: int | None
            published: bool
            created_at: datetime.datetime
            tags: list[str]
            during: Annotated[str, dibs.sql_type("tstzrange")]
        """
    )
    ix = {i.name: i for i in table(schema, "posts").indexes}
    assert set(ix) == {
        "posts_author_id_idx",
        "posts_author_id_created_at_idx",
        "posts_recent_idx",
        "posts_published_idx",
        "posts_title_ci_key",
        "posts_cover_idx",
        "posts_tags_idx",
        "posts_during_idx",
        "posts_created_brin",
        "posts_slug_idx",
    }
    assert [e.column for e in ix["posts_author_id_created_at_idx"].elements] == [
        "author_id",
        "created_at",
    ]
    recent = ix["posts_recent_idx"].elements
    assert (recent[0].column, recent[0].descending, recent[0].nulls_first) == (
        "created_at",
        True,
        True,
    )
    assert (recent[1].column, recent[1].descending, recent[1].nulls_first) == (
        "score",
        False,
        True,
    )
    assert ix["posts_published_idx"].where == expr("published")
    title = ix["posts_title_ci_key"]
    assert title.unique and title.elements[0].column is None
    assert title.elements[0].expression == expr("lower(title)")
    assert ix["posts_cover_idx"].include == ("title",)
    methods = {n: i.method for n, i in ix.items() if i.method != "btree"}
    assert methods == {
        "posts_tags_idx": "gin",
        "posts_during_idx": "gist",
        "posts_created_brin": "brin",
        "posts_slug_idx": "hash",
    }


# -- comments, schemas, renames, display hints ---------------------------------------


def test_comments_schema_and_rename_hints(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(schema="billing", renamed_from="bills")
        class Invoice:
            \"\"\"Invoices we sent.

            Immutable once issued.
            \"\"\"

            id: Annotated[int, dibs.pk]
            total: Annotated[int, dibs.comment("in cents"), dibs.renamed_from("amount", "sum")]

        @dibs.table(comment="explicit wins")
        class Note:
            \"\"\"Ignored docstring.\"\"\"

            id: Annotated[int, dibs.pk]

        @dibs.table
        class Bare:
            id: Annotated[int, dibs.pk]
        """
    )
    invoice = table(schema, "invoice", "billing")
    assert invoice.comment == "Invoices we sent.\n\nImmutable once issued."
    assert invoice.renamed_from == ("bills",)
    assert col(invoice, "total").comment == "in cents"
    assert col(invoice, "total").renamed_from == ("amount", "sum")
    assert table(schema, "note").comment == "explicit wins"
    assert table(schema, "bare").comment is None
    assert "billing" in schema.schemas


def test_display_hints_do_not_change_equality_or_fingerprint(declare: Declared) -> None:
    plain = declare(
        """
        @dibs.table(name="people")
        class Person:
            id: Annotated[int, dibs.pk]
            name: str
            bio: str
            secret: str
        """
    )
    hinted = declare(
        """
        @dibs.table(name="people")
        class Person:
            id: Annotated[int, dibs.pk]
            name: Annotated[str, dibs.label]
            bio: Annotated[str, dibs.long_text]
            secret: Annotated[str, dibs.hidden]
        """
    )
    t = table(hinted, "people")
    assert col(t, "name").display == model.ColumnDisplay(label=True)
    assert col(t, "bio").display == model.ColumnDisplay(long_text=True)
    assert col(t, "secret").display == model.ColumnDisplay(hidden=True)
    assert t.label_column == "name"
    assert table(plain, "people").label_column is None
    assert plain == hinted
    assert fingerprint(plain) == fingerprint(hinted)


def test_source_locations_point_at_class_and_annotation(declare: Declared) -> None:
    schema = declare(
        """
        @dibs.table(
            name="things",
        )
        class Thing:
            \"\"\"A thing.\"\"\"

            id: Annotated[int, dibs.pk]
            name: Annotated[
                str,
                dibs.varchar(20),
            ]
            size: int = 3
        """
    )
    t = table(schema, "things")
    assert t.location is not None and t.location.file == declare.file
    assert t.location.line == declare.line_of("class Thing:")
    for name, fragment in [("id", "id: "), ("name", "name: "), ("size", "size: ")]:
        where = col(t, name).location
        assert where is not None and where.file == declare.file
        assert where.line == declare.line_of(fragment), name


def test_extension_sequence_and_domain(declare: Declared) -> None:
    schema = declare(
        """
        dibs.extension("citext")
        dibs.sequence("ticket_no", start=1000, increment=10, cycle=True)
        Year = dibs.domain(
            "year", "integer", not_null=True, checks=[dibs.check("VALUE >= 1901")]
        )

        @dibs.table
        class Film:
            id: Annotated[int, dibs.pk]
            released: Annotated[int, dibs.sql_type(Year)]
        """
    )
    assert schema.extensions == (model.Extension("citext"),)
    assert schema.sequences == (model.Sequence("ticket_no", start=1000, increment=10, cycle=True),)
    (year,) = schema.domains
    assert (year.name, year.type, year.nullable) == ("year", "integer", False)
    assert [c.expression for c in year.checks] == [expr("VALUE >= 1901")]
    assert col(table(schema, "film"), "released").type == "year"


# -- names against a real Postgres ------------------------------------------------


LONG_TABLE = "t" * 60
LONG_COLUMN = "c" * 30


def _pg_names(conn: psycopg.Connection[Any], sql: str) -> dict[str, str]:
    conn.execute(sql)
    rows = conn.execute(
        "SELECT contype, conname FROM pg_constraint WHERE conrelid = %s::regclass "
        "UNION ALL SELECT 'i', indexrelid::regclass::text FROM pg_index "
        "WHERE indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT FROM pg_constraint WHERE conindid = indexrelid)",
        (LONG_TABLE, LONG_TABLE),
    ).fetchall()
    return {kind: name for kind, name in rows}


def test_long_implicit_names_truncate_like_postgres(
    declare: Declared, dibs_conn: psycopg.Connection[Any]
) -> None:
    pg = _pg_names(
        dibs_conn,
        f"CREATE TABLE {LONG_TABLE} ({LONG_COLUMN} int UNIQUE CHECK ({LONG_COLUMN} > 0), "
        f"other int); CREATE INDEX ON {LONG_TABLE} ({LONG_COLUMN}, other)",
    )
    assert all(len(name.encode()) == 63 for name in pg.values()), pg
    assert pg["u"] == naming.unique_name(LONG_TABLE, [LONG_COLUMN])
    schema = declare(
        f"""
        @dibs.table(name="{LONG_TABLE}", indexes=[dibs.index("{LONG_COLUMN}", "other")])
        class Long:
            {LONG_COLUMN}: Annotated[
                int, dibs.integer, dibs.unique, dibs.check("{LONG_COLUMN} > 0")
            ]
            other: Annotated[int, dibs.integer]
        """
    )
    t = table(schema, LONG_TABLE)
    assert [u.name for u in t.uniques] == [pg["u"]]
    assert [c.name for c in t.checks] == [pg["c"]]
    assert [i.name for i in t.indexes] == [pg["i"]]


def test_expression_index_name_matches_postgres(
    declare: Declared, dibs_conn: psycopg.Connection[Any]
) -> None:
    dibs_conn.execute("CREATE TABLE users (email text); CREATE INDEX ON users (lower(email))")
    (pg_name,) = dibs_conn.execute(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'users'::regclass"
    ).fetchone() or ("",)
    schema = declare(
        """
        @dibs.table(name="users", indexes=[dibs.index("lower(email)")])
        class User:
            email: str
        """
    )
    assert [i.name for i in table(schema, "users").indexes] == [pg_name]


# -- with and without postponed annotations -----------------------------------------

BOTH_WAYS = """
class Kind(enum.Enum):
    A = "a"
    B = "b"

@dibs.table(name="parents")
class Parent:
    id: Annotated[int, dibs.pk, dibs.identity()]

@dibs.table(indexes=[dibs.index("lower(name)")])
class Child:
    child_id: Annotated[int, dibs.pk]
    parent_id: Annotated[int, dibs.fk(Parent, on_delete="cascade"), dibs.index]
    name: Annotated[str | None, dibs.varchar(30), dibs.check("name <> ''")]
    kind: Kind = Kind.B
    tags: list[str] = []
"""


@pytest.mark.parametrize("postponed", [True, False], ids=["postponed", "eager"])
def test_annotations_work_with_and_without_future_import(
    declare: Declared, postponed: bool
) -> None:
    schema = declare(BOTH_WAYS, postponed=postponed)
    child = table(schema, "child")
    assert child.foreign_keys == (
        model.ForeignKey(
            "child_parent_id_fkey",
            ("parent_id",),
            "public",
            "parents",
            ("id",),
            on_delete="CASCADE",
        ),
    )
    name = col(child, "name")
    assert (name.type, name.nullable) == ("varchar(30)", True)
    assert (col(child, "kind").type, col(child, "kind").default) == ("kind", expr("'b'"))
    assert col(child, "tags").default == expr("'{}'")
    assert {c.name: c.expression for c in child.checks} == {"child_name_check": expr("name <> ''")}
    indexes = {i.name: i for i in child.indexes}
    assert set(indexes) == {"child_parent_id_idx", "child_lower_idx"}
    column_index = indexes["child_parent_id_idx"].location
    assert column_index is not None and column_index.line == declare.line_of("parent_id: ")
    table_index = indexes["child_lower_idx"].location
    assert table_index is not None and table_index.line == declare.line_of("dibs.index(")
    for attr in ("child_id", "parent_id", "name", "kind", "tags"):
        where = col(child, attr).location
        assert where is not None and where.line == declare.line_of(f"    {attr}: "), attr


def test_postponed_and_eager_annotations_give_equal_models(declare: Declared) -> None:
    assert declare(BOTH_WAYS) == declare(BOTH_WAYS, postponed=False)


# -- schema_from_classes ----------------------------------------------------------------


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@dibs.table(name="paints")
class Paint:
    id: Annotated[int, dibs.pk, dibs.identity()]
    shade: Shade


@dibs.table
class PaintPot:
    id: Annotated[int, dibs.pk, dibs.integer]
    paint_id: Annotated[int, dibs.fk(Paint)]


class NotATable(Paint):
    """Inherits ``__dibs_table__`` but is not decorated itself."""


def test_schema_from_classes_builds_just_those_classes() -> None:
    schema = schema_from_classes([Paint, PaintPot])
    assert [t.name for t in schema.tables] == ["paint_pot", "paints"]
    assert schema.enums == (model.EnumType("shade", ("light", "dark")),)
    pot = table(schema, "paint_pot")
    assert pot.foreign_keys == (
        model.ForeignKey("paint_pot_paint_id_fkey", ("paint_id",), "public", "paints", ("id",)),
    )
    assert (col(pot, "id").type, col(pot, "paint_id").type) == ("integer", "bigint")


def test_schema_from_classes_refuses_other_classes() -> None:
    with pytest.raises(DeclarationError, match="not a table class"):
        schema_from_classes([Paint, NotATable])
    with pytest.raises(DeclarationError, match="not part of the loaded schema"):
        schema_from_classes([PaintPot])


# -- Python literal defaults mean the same value in Postgres ------------------------------

LITERALS = r"""
@dibs.table
class Defaults:
    a_text: str = "it's a \\ back"
    a_int: int = -42
    a_float: float = 1.5
    a_nan: float = float("nan")
    a_ninf: float = float("-inf")
    a_dec: decimal.Decimal = decimal.Decimal("1.50")
    a_dec_nan: decimal.Decimal = decimal.Decimal("NaN")
    a_bool: bool = False
    a_date: datetime.date = datetime.date(2024, 2, 29)
    a_ts: Annotated[datetime.datetime, dibs.naive] = datetime.datetime(2024, 2, 29, 13, 14, 15, 6)
    a_tstz: datetime.datetime = datetime.datetime(
        2024, 2, 29, 13, 14, 15, tzinfo=datetime.timezone(datetime.timedelta(hours=5))
    )
    a_time: datetime.time = datetime.time(23, 59, 1)
    a_interval: datetime.timedelta = datetime.timedelta(days=-1, hours=2, microseconds=5)
    a_uuid: uuid.UUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
    a_bytes: bytes = b"\x00\xffA'"
    a_inet: ipaddress.IPv4Address = ipaddress.IPv4Address("10.1.2.3")
    a_iface: ipaddress.IPv6Interface = ipaddress.IPv6Interface("::1/64")
    a_cidr: ipaddress.IPv4Network = ipaddress.IPv4Network("10.0.0.0/8")
    a_json: dict[str, Any] = {"b": [1, "x"], "a": None}
    a_arr: list[str] = ["x", "it's"]
    a_empty: list[int] = []
    a_nested: list[list[int]] = [[1, 2], [3, 4]]
"""

EXPECTED_VALUES: dict[str, Any] = {
    "a_text": "it's a \\ back",
    "a_int": -42,
    "a_float": 1.5,
    "a_nan": math.nan,
    "a_ninf": -math.inf,
    "a_dec": Decimal("1.50"),
    "a_dec_nan": Decimal("NaN"),
    "a_bool": False,
    "a_date": datetime.date(2024, 2, 29),
    "a_ts": datetime.datetime(2024, 2, 29, 13, 14, 15, 6),
    "a_tstz": datetime.datetime(2024, 2, 29, 8, 14, 15, tzinfo=datetime.UTC),
    "a_time": datetime.time(23, 59, 1),
    "a_interval": datetime.timedelta(days=-1, hours=2, microseconds=5),
    "a_uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "a_bytes": b"\x00\xffA'",
    "a_inet": ipaddress.IPv4Address("10.1.2.3"),
    "a_iface": ipaddress.IPv6Interface("::1/64"),
    "a_cidr": ipaddress.IPv4Network("10.0.0.0/8"),
    "a_json": {"a": None, "b": [1, "x"]},
    "a_arr": ["x", "it's"],
    "a_empty": [],
    "a_nested": [[1, 2], [3, 4]],
}


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, float) and math.isnan(want):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(want, Decimal):
        return isinstance(got, Decimal) and str(got) == str(want)  # same value and scale
    return type(got) is type(want) and bool(got == want)


def test_python_literal_defaults_mean_the_same_value_in_postgres(
    declare: Declared, dibs_conn: psycopg.Connection[Any]
) -> None:
    t = table(declare(LITERALS), "defaults")
    assert {c.name for c in t.columns} == set(EXPECTED_VALUES)
    columns = []
    for c in t.columns:
        assert c.default is not None, c.name
        columns.append(
            sql.SQL("{} {} DEFAULT {}").format(
                sql.Identifier(c.name),
                sql.SQL(c.type),
                sql.SQL(c.default),  # type: ignore[arg-type]
            )
        )
    dibs_conn.execute(sql.SQL("CREATE TABLE defaults ({})").format(sql.SQL(", ").join(columns)))
    with dibs_conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("INSERT INTO defaults DEFAULT VALUES RETURNING *").fetchone()
    assert row is not None
    wrong = {k: (row[k], v) for k, v in EXPECTED_VALUES.items() if not _same(row[k], v)}
    assert wrong == {}


# -- the example project ------------------------------------------------------------------

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def test_shop_example_loads_with_its_configured_module(monkeypatch: pytest.MonkeyPatch) -> None:
    config = tomllib.loads((SHOP / "pyproject.toml").read_text(encoding="utf-8"))
    monkeypatch.syspath_prepend(str(SHOP))
    schema = load_schema([config["tool"]["dibs"]["schema"]])
    assert {t.qualified_name for t in schema.tables} == {
        "shop.customers",
        "shop.addresses",
        "shop.categories",
        "shop.products",
        "shop.orders",
        "shop.order_lines",
        "shop.payments",
        "shop.warehouses",
        "shop.stock",
        "shop.stock_moves",
        "audit.events",
    }
    assert schema.schemas == ("audit", "shop")
    assert [(e.schema, e.name) for e in schema.enums] == [
        ("shop", "order_status"),
        ("shop", "payment_method"),
    ]
    shop = {t.name: t for t in schema.tables if t.schema == "shop"}
    lines = shop["order_lines"]
    assert lines.primary_key == model.PrimaryKey("order_lines_pkey", ("order_id", "line_no"))
    assert col(lines, "line_total").generated == expr("quantity * unit_price")
    refs = {(t.name, f.ref_table) for t in shop.values() for f in t.foreign_keys}
    assert {("customers", "addresses"), ("addresses", "customers")} <= refs  # the cycle
    assert ("categories", "categories") in refs  # self-reference
    products = {i.name: i for i in shop["products"].indexes}
    assert products["products_attributes_idx"].method == "gin"
    orders = {i.name: i for i in shop["orders"].indexes}
    assert orders["orders_open_by_customer_idx"].where == expr("status <> 'cancelled'")
    assert col(shop["orders"], "status").type == "shop.order_status"
    assert col(shop["orders"], "id").type == "uuid"
