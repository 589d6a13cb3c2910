"""CREATE rendering: a hand-built model covering every concept runs in an empty database,
and independent catalog queries find each object as declared."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from dibs.render import ddl
from dibs.render.ddl import Phase, Step, creates, render_object, render_schema, render_script
from dibs.render.literals import string_literal
from dibs.render.validate import validate
from dibs.schema.expressions import canonical_expression as x
from dibs.schema.model import (
    Check,
    Column,
    Domain,
    EnumType,
    Exclusion,
    ExclusionElement,
    Extension,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Schema,
    Sequence,
    Table,
    Unique,
)
from dibs.schema.types import canonical_type as t

Conn = psycopg.Connection[Any]

TRICKY_COMMENT = 'The customer\'s order.\nSecond line with a back\\slash and "quotes".'
STATUS_VALUES = ("pending", "it's shipped", "back\\slash")


def _shop_tables() -> list[Table]:
    customer = Table(
        name="customer",
        schema="shop",
        columns=(
            Column("id", t("bigint"), nullable=False, identity="always"),
            Column("email", t("text"), collation="C"),
            Column("name", t("text"), nullable=False),
            Column("region", t("text"), nullable=False, default=x("'eu'")),
            Column("last_order_id", t("bigint")),
        ),
        primary_key=PrimaryKey("customer_pkey", ("id",)),
        uniques=(
            Unique("customer_email_key", ("email",), nulls_not_distinct=True),
            Unique(
                "customer_name_region_key",
                ("name", "region"),
                deferrable=True,
                initially_deferred=True,
            ),
        ),
        # half of the FK cycle customer <-> "Order"
        foreign_keys=(
            ForeignKey(
                "customer_last_order_id_fkey",
                ("last_order_id",),
                "shop",
                "Order",
                ("id",),
                deferrable=True,
                initially_deferred=True,
            ),
        ),
        indexes=(Index("customer_email_hash_idx", (IndexElement("email"),), method="hash"),),
    )
    order = Table(
        name="Order",
        schema="shop",
        columns=(
            Column("id", t("bigint"), nullable=False, identity="by default"),
            Column("customer_id", t("bigint"), nullable=False),
            Column(
                "status",
                t("shop.order_status"),
                nullable=False,
                default=x("'pending'::shop.order_status"),
            ),
            Column("total", t("numeric(10,2)"), nullable=False, default=x("0")),
            Column("total_with_tax", t("numeric"), generated=x("total * 1.2")),
            Column("select", t("varchar(20)"), comment=TRICKY_COMMENT),
            Column("invoice_no", t("bigint"), default=x("nextval('invoice_number'::regclass)")),
        ),
        primary_key=PrimaryKey("Order_pkey", ("id",)),
        checks=(Check("Order_total_check", x("total >= 0")),),
        foreign_keys=(
            ForeignKey(
                "Order_customer_id_fkey",
                ("customer_id",),
                "shop",
                "customer",
                ("id",),
                on_delete="CASCADE",
            ),
        ),
        indexes=(
            Index(
                "Order_customer_id_status_idx",
                (
                    IndexElement("customer_id"),
                    IndexElement("status", descending=True, nulls_first=True),
                ),
                comment="find a customer's orders",
            ),
            Index(
                "Order_lower_select_key",
                (IndexElement(expression=x('lower("select")')),),
                unique=True,
                where=x("status <> 'pending'::shop.order_status"),
            ),
            Index(
                "Order_customer_id_total_key",
                (IndexElement("customer_id"),),
                unique=True,
                include=("total",),
                nulls_not_distinct=True,
            ),
        ),
        comment=TRICKY_COMMENT,
    )
    legacy = Table(
        name="legacy",
        schema="shop",
        columns=(
            Column(
                "id",
                t("integer"),
                nullable=False,
                default=x("nextval('shop.legacy_id_seq'::regclass)"),
            ),
        ),
        primary_key=PrimaryKey("legacy_pkey", ("id",)),
    )
    return [customer, order, legacy]


def _public_tables(btree_gist: bool) -> list[Table]:
    category = Table(
        name="category",
        columns=(
            Column("id", t("integer"), nullable=False),
            Column("parent_id", t("integer")),
            Column("name", t("text"), nullable=False),
            Column("tags", t("jsonb")),
        ),
        primary_key=PrimaryKey("category_pkey", ("id",)),
        foreign_keys=(
            ForeignKey(
                "category_parent_id_fkey",
                ("parent_id",),
                "public",
                "category",
                ("id",),
                on_delete="SET NULL",
            ),
        ),
        indexes=(
            Index(
                "category_name_id_idx",
                (
                    IndexElement(
                        "name", collation="C", opclass="text_pattern_ops", nulls_first=True
                    ),
                    IndexElement("id", descending=True),
                ),
            ),
            Index("category_name_spgist_idx", (IndexElement("name"),), method="spgist"),
            Index(
                "category_tags_idx", (IndexElement("tags", opclass="jsonb_path_ops"),), method="gin"
            ),
        ),
    )
    order_line = Table(
        name="order_line",
        columns=(
            Column("order_id", t("bigint"), nullable=False),
            Column("line_no", t("integer"), nullable=False),
            Column("amount", t("positive_amount")),
        ),
        primary_key=PrimaryKey("order_line_pkey", ("order_id", "line_no")),
    )
    shipment_line = Table(
        name="shipment_line",
        columns=(Column("order_id", t("bigint")), Column("line_no", t("integer"))),
        uniques=(Unique("shipment_line_order_id_line_no_key", ("order_id", "line_no")),),
        foreign_keys=(
            ForeignKey(
                "shipment_line_order_id_line_no_fkey",
                ("order_id", "line_no"),
                "public",
                "order_line",
                ("order_id", "line_no"),
                on_update="CASCADE",
                on_delete="RESTRICT",
                match="FULL",
            ),
        ),
    )
    booking = Table(
        name="booking",
        columns=(
            Column("room", t("integer"), nullable=False),
            Column("during", t("tstzrange"), nullable=False),
            Column("cancelled", t("boolean"), nullable=False, default=x("false")),
        ),
        exclusions=(
            Exclusion(
                "booking_room_during_excl",
                "gist",
                (
                    *([ExclusionElement("room", "=")] if btree_gist else []),
                    ExclusionElement("during", "&&"),
                ),
                where=x("NOT cancelled"),
            ),
        ),
        indexes=(Index("booking_during_idx", (IndexElement("during"),), method="gist"),),
    )
    return [category, order_line, shipment_line, booking, *_partitioned_tables()]


def _partitioned_tables() -> list[Table]:
    columns = (
        Column("id", t("bigint"), nullable=False),
        Column("logged_at", t("date"), nullable=False),
        Column("note", t("text")),
    )
    # partition names sort before the parent's, so order must come from the partition tree
    parent = Table(
        name="measurement",
        columns=columns,
        primary_key=PrimaryKey("measurement_pkey", ("id", "logged_at")),
        indexes=(Index("measurement_logged_at_idx", (IndexElement("logged_at"),), method="brin"),),
        partition_by="RANGE (logged_at)",
    )
    late = (*columns[:2], Column("note", t("text"), default=x("'late'")))
    return [
        parent,
        Table(
            name="m2024",
            columns=columns,
            partition_of="measurement",
            partition_bound="FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        ),
        Table(
            name="m2025",
            columns=late,
            partition_of="measurement",
            partition_bound="FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
            checks=(Check("m2025_note_check", x("note <> ''")),),
        ),
    ]


def full_schema(btree_gist: bool = True) -> Schema:
    """One model holding every concept ``render_schema`` knows.

    ``btree_gist=False`` leaves out the extension (pgserver's build lacks it)
    and the ``room WITH =`` element of the exclusion constraint that needs it.
    """
    return Schema.build(
        schemas=["shop"],
        extensions=[Extension("btree_gist")] if btree_gist else [],
        enums=[EnumType("order_status", STATUS_VALUES, schema="shop", comment=TRICKY_COMMENT)],
        domains=[
            Domain(
                "positive_amount",
                t("numeric(10,2)"),
                checks=(Check("positive_amount_check", x("VALUE > 0")),),
            )
        ],
        sequences=[
            Sequence(
                "invoice_number",
                start=1000,
                increment=5,
                min_value=1000,
                max_value=999999,
                cache=10,
                cycle=True,
            ),
            Sequence(
                "legacy_id_seq", schema="shop", type="integer", owned_by=("shop", "legacy", "id")
            ),
        ],
        tables=[*_shop_tables(), *_public_tables(btree_gist)],
    )


def has_btree_gist(conn: Conn) -> bool:
    row = conn.execute(
        b"SELECT count(*) FROM pg_available_extensions WHERE name = 'btree_gist'"
    ).fetchone()
    return bool(row and row[0])


@pytest.fixture
def created(dibs_conn: Conn) -> Conn:
    """A database the full schema's script was run in (one transaction, as psql -1 would)."""
    with dibs_conn.transaction():
        dibs_conn.execute(render_script(full_schema(has_btree_gist(dibs_conn))).encode())
    return dibs_conn


def _one(conn: Conn, query: str, *params: object) -> Any:
    row = conn.execute(query.encode(), params or None).fetchone()
    assert row is not None, query
    return row[0] if len(row) == 1 else row


# --- the script runs, and each object is in the catalog as declared ---------------------


def test_constraint_counts(created: Conn) -> None:
    counts = dict(
        created.execute(
            b"SELECT contype::text, count(*) FROM pg_constraint c"
            b" JOIN pg_namespace n ON n.oid = c.connamespace"
            b" WHERE n.nspname IN ('public', 'shop') AND c.conrelid <> 0 AND c.conparentid = 0"
            b" GROUP BY contype"
        ).fetchall()
    )
    # PKs: customer, Order, legacy, category, order_line, measurement
    # checks: "Order_total_check" and the partition's own m2025_note_check
    assert counts == {"p": 6, "u": 3, "f": 4, "c": 2, "x": 1}


def test_foreign_key_options(created: Conn) -> None:
    query = (
        "SELECT confdeltype::text, confupdtype::text, confmatchtype::text, condeferrable,"
        " condeferred, confrelid::regclass::text FROM pg_constraint WHERE conname = %s"
    )
    assert _one(created, query, "customer_last_order_id_fkey") == (
        "a",
        "a",
        "s",
        True,
        True,
        'shop."Order"',
    )
    assert _one(created, query, "Order_customer_id_fkey") == (
        "c",
        "a",
        "s",
        False,
        False,
        "shop.customer",
    )
    assert _one(created, query, "category_parent_id_fkey") == (
        "n",
        "a",
        "s",
        False,
        False,
        "category",
    )
    assert _one(created, query, "shipment_line_order_id_line_no_fkey") == (
        "r",
        "c",
        "f",
        False,
        False,
        "order_line",
    )


def test_unique_and_exclusion_definitions(created: Conn) -> None:
    query = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s"
    assert _one(created, query, "customer_email_key") == "UNIQUE NULLS NOT DISTINCT (email)"
    assert (
        _one(created, query, "customer_name_region_key")
        == "UNIQUE (name, region) DEFERRABLE INITIALLY DEFERRED"
    )
    room = "room WITH =, " if has_btree_gist(created) else ""
    assert (
        _one(created, query, "booking_room_during_excl")
        == f"EXCLUDE USING gist ({room}during WITH &&) WHERE ((NOT cancelled))"
    )
    assert _one(created, query, "Order_total_check") == "CHECK ((total >= (0)::numeric))"


INDEXDEFS = {
    "customer_email_hash_idx": "CREATE INDEX customer_email_hash_idx ON shop.customer"
    " USING hash (email)",
    "Order_customer_id_status_idx": 'CREATE INDEX "Order_customer_id_status_idx" ON shop."Order"'
    " USING btree (customer_id, status DESC)",
    "Order_lower_select_key": 'CREATE UNIQUE INDEX "Order_lower_select_key" ON shop."Order"'
    " USING btree (lower((\"select\")::text)) WHERE (status <> 'pending'::shop.order_status)",
    "Order_customer_id_total_key": 'CREATE UNIQUE INDEX "Order_customer_id_total_key"'
    ' ON shop."Order" USING btree (customer_id) INCLUDE (total) NULLS NOT DISTINCT',
    "category_name_id_idx": "CREATE INDEX category_name_id_idx ON public.category USING btree"
    ' (name COLLATE "C" text_pattern_ops NULLS FIRST, id DESC NULLS LAST)',
    "category_name_spgist_idx": "CREATE INDEX category_name_spgist_idx ON public.category"
    " USING spgist (name)",
    "category_tags_idx": "CREATE INDEX category_tags_idx ON public.category"
    " USING gin (tags jsonb_path_ops)",
    "booking_during_idx": "CREATE INDEX booking_during_idx ON public.booking USING gist (during)",
    "measurement_logged_at_idx": "CREATE INDEX measurement_logged_at_idx"
    " ON ONLY public.measurement USING brin (logged_at)",
}


@pytest.mark.parametrize("name", sorted(INDEXDEFS))
def test_index_definition(created: Conn, name: str) -> None:
    oid = _one(
        created, "SELECT oid FROM pg_class WHERE relname = %s AND relkind IN ('i', 'I')", name
    )
    assert _one(created, "SELECT pg_get_indexdef(%s::oid)", oid) == INDEXDEFS[name]


COLUMNS = [
    # (table, column, format_type, NOT NULL, identity, generated, collation); a collatable
    # column without COLLATE gets the database default ("default"), others none
    ('shop."Order"', "id", "bigint", True, "d", "", None),
    ('shop."Order"', "status", "shop.order_status", True, "", "", None),
    ('shop."Order"', "total", "numeric(10,2)", True, "", "", None),
    ('shop."Order"', "total_with_tax", "numeric", False, "", "s", None),
    ('shop."Order"', "select", "character varying(20)", False, "", "", "default"),
    ("shop.customer", "id", "bigint", True, "a", "", None),
    ("shop.customer", "email", "text", False, "", "", "C"),
    ("public.order_line", "amount", "positive_amount", False, "", "", None),
    ("public.booking", "during", "tstzrange", True, "", "", None),
]


@pytest.mark.parametrize(
    ("table", "column", "type_", "notnull", "identity", "gen", "coll"), COLUMNS
)
def test_column(
    created: Conn,
    table: str,
    column: str,
    type_: str,
    notnull: bool,
    identity: str,
    gen: str,
    coll: str | None,
) -> None:
    row = _one(
        created,
        "SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity::text,"
        " a.attgenerated::text, co.collname FROM pg_attribute a"
        " LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0"
        " WHERE a.attrelid = %s::regclass AND a.attname = %s",
        table,
        column,
    )
    assert row == (type_, notnull, identity, gen, coll)


def test_defaults_and_generated_expressions(created: Conn) -> None:
    query = (
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a"
        " ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " WHERE d.adrelid = %s::regclass AND a.attname = %s"
    )
    assert _one(created, query, 'shop."Order"', "total_with_tax") == "(total * 1.2)"
    assert _one(created, query, 'shop."Order"', "status") == "'pending'::shop.order_status"
    assert _one(created, query, 'shop."Order"', "invoice_no") == (
        "nextval('invoice_number'::regclass)"
    )
    assert _one(created, query, "m2025", "note") == "'late'::text"
    assert created.execute(query.encode(), ("m2024", "note")).fetchone() is None


def test_comments_survive_exactly(created: Conn) -> None:
    assert _one(created, "SELECT obj_description('shop.\"Order\"'::regclass, 'pg_class')") == (
        TRICKY_COMMENT
    )
    assert _one(created, "SELECT col_description('shop.\"Order\"'::regclass, 6)") == TRICKY_COMMENT
    assert _one(created, "SELECT obj_description('shop.order_status'::regtype, 'pg_type')") == (
        TRICKY_COMMENT
    )
    assert _one(
        created, "SELECT obj_description('shop.\"Order_customer_id_status_idx\"'::regclass)"
    ) == ("find a customer's orders")


def test_enum_labels_in_order(created: Conn) -> None:
    labels = created.execute(
        b"SELECT enumlabel FROM pg_enum WHERE enumtypid = 'shop.order_status'::regtype"
        b" ORDER BY enumsortorder"
    ).fetchall()
    assert tuple(r[0] for r in labels) == STATUS_VALUES


def test_sequences(created: Conn) -> None:
    query = (
        "SELECT data_type::text, start_value, min_value, max_value, increment_by, cycle,"
        " cache_size FROM pg_sequences WHERE schemaname = %s AND sequencename = %s"
    )
    assert _one(created, query, "public", "invoice_number") == (
        "bigint",
        1000,
        1000,
        999999,
        5,
        True,
        10,
    )
    assert _one(created, query, "shop", "legacy_id_seq") == (
        "integer",
        1,
        1,
        2147483647,
        1,
        False,
        1,
    )
    assert _one(created, "SELECT pg_get_serial_sequence('shop.legacy', 'id')") == (
        "shop.legacy_id_seq"
    )
    assert _one(created, "SELECT pg_get_serial_sequence('shop.\"Order\"', 'invoice_no')") is None


def test_partitions(created: Conn) -> None:
    rows = created.execute(
        b"SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        b" JOIN pg_class c ON c.oid = i.inhrelid"
        b" WHERE i.inhparent = 'measurement'::regclass ORDER BY 1"
    ).fetchall()
    assert rows == [
        ("m2024", "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')"),
        ("m2025", "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"),
    ]
    assert _one(created, "SELECT pg_get_partkeydef('measurement'::regclass)") == "RANGE (logged_at)"
    assert (
        _one(
            created,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            "m2025_note_check",
        )
        == "CHECK ((note <> ''::text))"
    )


def test_domain_and_extension(created: Conn) -> None:
    assert (
        _one(
            created,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conname = 'positive_amount_check'",
        )
        == "CHECK ((VALUE > (0)::numeric))"
    )
    installed = _one(created, "SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")
    assert installed == (1 if has_btree_gist(created) else 0)


def test_fk_cycle_holds_rows_inserted_in_one_transaction(created: Conn) -> None:
    """The deferred half of the cycle lets both rows go in before the check runs."""
    with created.transaction():
        created.execute(
            b"INSERT INTO shop.customer (name, last_order_id) VALUES ('ann', 1);"
            b'INSERT INTO shop."Order" (id, customer_id) SELECT 1, id FROM shop.customer'
        )
    assert _one(created, 'SELECT count(*) FROM shop."Order"') == 1


# --- order, validation and the registry -------------------------------------------------


def test_foreign_keys_come_after_every_table_and_partitions_after_parents() -> None:
    statements = render_schema(full_schema())
    last_table = max(i for i, s in enumerate(statements) if s.startswith("CREATE TABLE"))
    fks = [i for i, s in enumerate(statements) if "FOREIGN KEY" in s]
    assert len(fks) == 4 and min(fks) > last_table
    assert not any("FOREIGN KEY" in s for s in statements if s.startswith("CREATE TABLE"))
    position = {s.split()[2]: i for i, s in enumerate(statements) if s.startswith("CREATE TABLE")}
    assert position["public.measurement"] < position["public.m2024"]
    owned = next(i for i, s in enumerate(statements) if "OWNED BY" in s)
    assert owned > position["shop.legacy"]


def test_script_validates_and_splits_into_the_rendered_statements() -> None:
    schema = full_schema()
    statements = validate(render_script(schema))
    assert len(statements) == len(render_schema(schema))


def test_identifiers_needing_quotes_are_quoted() -> None:
    script = render_script(full_schema())
    assert 'CREATE TABLE shop."Order"' in script
    assert '"select" varchar(20)' in script
    assert 'CONSTRAINT "Order_pkey" PRIMARY KEY (id)' in script


def test_unknown_kind_and_duplicate_creator_are_refused() -> None:
    with pytest.raises(NotImplementedError, match="int"):
        render_object(42, Schema())
    with pytest.raises(RuntimeError, match="already has a creator"):

        @creates(Table)
        def _again(table: Table, schema: Schema) -> list[Step]:
            return []

    assert Table in ddl._CREATORS


def test_each_creator_tags_its_statements() -> None:
    seq = Sequence("s", owned_by=("public", "t", "id"))
    phases = [step.phase for step in render_object(seq, Schema())]
    assert phases == [Phase.SEQUENCES, Phase.SEQUENCE_OWNERSHIP]


@pytest.mark.parametrize(
    "text",
    ["plain", "it's", "back\\slash", "two\nlines\ttab", "quote ' and \\' mixed", "é ü 漢字", ""],
)
@pytest.mark.parametrize("conforming", ["on", "off"])
def test_string_literal_reads_back_exactly(dibs_conn: Conn, text: str, conforming: str) -> None:
    dibs_conn.execute(f"SET standard_conforming_strings = {conforming}".encode())
    dibs_conn.execute(b"SET escape_string_warning = off")
    assert _one(dibs_conn, "SELECT " + string_literal(text)) == text
