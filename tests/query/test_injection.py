"""Injection properties: hostile strings as values and as dynamic names never change a statement.

Values (typed and dynamic API) must round-trip exactly and leave every other
row of the database as it was; names not in the schema are refused while the
statement is built (no connection is involved, so no SQL can have been sent);
names in the schema — even hostile ones — are quoted, and statements using
them do what they say, checked against SQL written independently with
``psycopg.sql.Identifier``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg import sql

from dibs.query import delete, insert, select, update
from dibs.query.compiler import quote
from dibs.query.dynamic import Catalog
from dibs.query.errors import QueryError, UnknownName
from dibs.schema import model

Conn = psycopg.Connection[Any]

FRAGMENTS = [
    "'", "''", '"', '""', ";", "--", "/*", "*/", "$$", "$tag$", "%s", "%(x)s", "%%", "%",
    "{}", "{0}", "\\", "\\'", "E'", "\n", "\r\n", "\t", " ", ",", "(", ")", "NULL", "null",
    "DROP TABLE shop.customers", "DELETE FROM shop.orders", "' OR '1'='1", "' OR 1=1 --",
    "'); TRUNCATE shop.customers; --", '"; DROP SCHEMA shop CASCADE; --', "SELECT pg_sleep(5)",
    "::text", "?", "$1", "é", "😀", "ß", "\u202e", "\ufeff", "\u0301", "\\x00", "\\0",
]  # fmt: skip

_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
hostile = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(_CHARS, max_size=6)), max_size=7
).map("".join)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CANARY_EMAILS = {"canary1@example.com", "canary2@example.com"}


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.from_modules(["shop_schema"])


@pytest.fixture
def canary(conn: Conn) -> Iterator[Conn]:
    """The shop database with rows in several tables that no example may touch."""
    conn.execute(
        "INSERT INTO shop.customers (email, name, tags) VALUES"
        " ('canary1@example.com', 'Canary', '{a,b}'), ('canary2@example.com', 'O''Hara', '{}')"
    )
    conn.execute(
        "INSERT INTO shop.products (sku, name, price, attributes)"
        """ VALUES ('C1', 'Canary', 2.5, '{"k": "v"}')"""
    )
    conn.execute(
        "INSERT INTO shop.orders (number, customer_id, total)"
        " SELECT 'C-' || id, id, 1 FROM shop.customers"
    )
    conn.execute("INSERT INTO audit.events (action, payload) VALUES ('seed', '{\"x\": 1}')")
    yield conn


def snapshot(conn: Conn, schemas: tuple[str, ...] = ("shop", "audit")) -> dict[str, Any]:
    """Row count and a digest of the contents of every table in these schemas."""
    names = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema = ANY(%s) ORDER BY 1, 2",
        (list(schemas),),
    ).fetchall()
    out: dict[str, Any] = {}
    for schema, table in names:
        query = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
            " FROM {}.{} AS t"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        out[f"{schema}.{table}"] = conn.execute(query).fetchone()
    return out


def outcome(conn: Conn, run: Callable[[], list[Any]]) -> tuple[str, Any]:
    """Rows (sorted) or the SQLSTATE of the error, inside a savepoint."""
    try:
        with conn.transaction():
            return ("rows", sorted(run(), key=repr))
    except QueryError as exc:
        return ("error", exc.sqlstate)
    except psycopg.Error as exc:
        return ("error", exc.sqlstate)


def by_sql(conn: Conn, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


# -- values ---------------------------------------------------------------------------

OPERATOR_SQL = {
    "=": "SELECT id FROM shop.customers WHERE name = %s",
    "<": "SELECT id FROM shop.customers WHERE name < %s",
    ">=": "SELECT id FROM shop.customers WHERE name >= %s",
    "like": "SELECT id FROM shop.customers WHERE name LIKE %s",
    "ilike": "SELECT id FROM shop.customers WHERE name ILIKE %s",
}


@SETTINGS
@given(email=hostile, name=hostile, extra=hostile)
def test_typed_api_values_round_trip_and_change_nothing_else(
    canary: Conn, email: str, name: str, extra: str
) -> None:
    from shop_schema import Customer, Product

    conn = canary
    assume(email not in CANARY_EMAILS)
    with conn.transaction(force_rollback=True):
        before = snapshot(conn)
        row = insert(
            Customer(email=email, name=name, tags=[email, extra, name], password_hash=extra)
        ).fetch_one(conn)
        assert (row.email, row.name, row.tags, row.password_hash) == (
            email, name, [email, extra, name], extra,
        )  # fmt: skip
        stored = by_sql(
            conn,
            "SELECT email, name, tags, password_hash FROM shop.customers WHERE id = %s",
            row.id,
        )
        assert stored == [(email, name, [email, extra, name], extra)]
        middle = snapshot(conn)
        assert middle["shop.customers"][0] == before["shop.customers"][0] + 1
        assert {k: v for k, v in middle.items() if k != "shop.customers"} == {
            k: v for k, v in before.items() if k != "shop.customers"
        }

        assert select(Customer).where(Customer.email == email).fetch(conn) == [row]
        ids = select(Customer.id).where(Customer.name.in_([name, extra])).fetch(conn)
        assert sorted(ids) == by_sql(
            conn, "SELECT id FROM shop.customers WHERE name = ANY(%s) ORDER BY id", [name, extra]
        )
        tagged = select(Customer.id).where(Customer.tags.any_eq(extra)).fetch(conn)
        assert (row.id,) in tagged
        assert outcome(
            conn, lambda: select(Customer.id).where(Customer.name.like(extra)).fetch(conn)
        ) == outcome(
            conn, lambda: by_sql(conn, "SELECT id FROM shop.customers WHERE name LIKE %s", extra)
        )

        product = insert(
            Product(
                sku="HOSTILE", name=name, description=extra, price=Decimal("1.00"),
                category_id=None, attributes={email: name, "list": [extra, {"n": None}]},
            )
        ).fetch_one(conn)  # fmt: skip
        assert product.attributes == {email: name, "list": [extra, {"n": None}]}
        # Only the example's product: the canary's attributes are {"k": "v"}, so a
        # hostile email "k" is a key of both (found by hypothesis).
        mine = Product.sku == "HOSTILE"
        by_key = select(Product.id).where(Product.attributes.has_key(email), mine).fetch(conn)
        by_pair = (
            select(Product.id).where(Product.attributes.contains({email: name}), mine).fetch(conn)
        )
        by_text = (
            select(Product.id).where(Product.attributes.json_text(email) == name, mine).fetch(conn)
        )
        assert by_key == by_pair == by_text == [(product.id,)]

        changed = update(Customer).set(Customer.name, extra).where(Customer.email == email)
        assert [c.id for c in changed.fetch(conn)] == [row.id]
        assert by_sql(conn, "SELECT name FROM shop.customers WHERE id = %s", row.id) == [(extra,)]
        assert [c.id for c in delete(Customer).where(Customer.email == email).fetch(conn)] == [
            row.id
        ]
        assert delete(Product).where(Product.name == name).fetch(conn)[0].id == product.id
        assert snapshot(conn) == before


@SETTINGS
@given(email=hostile, name=hostile, extra=hostile)
def test_dynamic_api_values_round_trip_and_change_nothing_else(
    canary: Conn, cat: Catalog, email: str, name: str, extra: str
) -> None:
    conn = canary
    assume(email not in CANARY_EMAILS)
    with conn.transaction(force_rollback=True):
        before = snapshot(conn)
        row = cat.insert(
            "shop.customers",
            {"email": email, "name": name, "tags": [extra, email], "password_hash": extra},
        ).fetch_one(conn, origin="admin")
        assert (row["email"], row["name"], row["tags"], row["password_hash"]) == (
            email, name, [extra, email], extra,
        )  # fmt: skip
        assert by_sql(conn, "SELECT email, name FROM shop.customers WHERE id = %s", row["id"]) == [
            (email, name)
        ]
        customers = "shop.customers"
        assert cat.select(customers, where=[("email", "=", email)]).fetch(conn) == [row]
        for op, query in OPERATOR_SQL.items():
            stmt = cat.select(customers, ["id"], [("name", op, extra)])
            got = outcome(conn, lambda s=stmt: s.fetch(conn))  # type: ignore[misc]
            want = outcome(conn, lambda q=query: [{"id": i} for (i,) in by_sql(conn, q, extra)])  # type: ignore[misc]
            assert got == want, op
        tagged = cat.select(customers, ["id"], [("tags", "any", extra)]).fetch(conn)
        assert {"id": row["id"]} in tagged

        a = cat.insert(
            "audit.events", {"action": "x", "actor": email, "payload": {extra: [name, email]}}
        ).fetch_one(conn)
        assert a["payload"] == {extra: [name, email]} and a["actor"] == email
        keyed = cat.select("audit.events", ["id"], [("payload", "has key", extra)]).fetch(conn)
        assert keyed == [{"id": a["id"]}]

        updated = cat.update(customers, {"name": email}).where(("email", "=", email)).fetch(conn)
        assert [(u["id"], u["name"]) for u in updated] == [(row["id"], email)]
        upserted = (
            cat.insert(customers, {"email": email, "name": extra})
            .on_conflict_do_update("email", set=["name"])
            .fetch_one(conn)
        )
        assert (upserted["id"], upserted["name"]) == (row["id"], extra)
        gone = cat.delete(customers).where(("email", "=", email), ("name", "=", extra)).fetch(conn)
        assert [g["id"] for g in gone] == [row["id"]]
        assert (
            cat.delete("audit.events").where(("actor", "=", email)).fetch(conn)[0]["id"] == a["id"]
        )
        assert snapshot(conn) == before


# -- names not in the schema ------------------------------------------------------------

ENTRY_POINTS: dict[str, Callable[[Catalog, str], Any]] = {
    "select table": lambda c, n: c.select(n),
    "insert table": lambda c, n: c.insert(n, {"email": "x"}),
    "update table": lambda c, n: c.update(n, {"name": "x"}),
    "delete table": lambda c, n: c.delete(n),
    "join table": lambda c, n: c.select("shop.orders").join(n),
    "column": lambda c, n: c.select("shop.customers", [n]),
    "where": lambda c, n: c.select("shop.customers", where=[(n, "=", 1)]),
    "order by": lambda c, n: c.select("shop.customers").order_by(n),
    "order by tuple": lambda c, n: c.select("shop.customers").order_by((n, "desc")),
    "group by": lambda c, n: c.select("shop.customers").group_by(n),
    "having": lambda c, n: c.select("shop.customers").having((n, ">", 1)),
    "distinct on": lambda c, n: c.select("shop.customers").distinct(n),
    "join on": lambda c, n: c.select("shop.orders").join("shop.customers", on=(n, "id")),
    "joined column": lambda c, n: c.select("shop.orders").join("shop.customers").columns(n),
    "insert column": lambda c, n: c.insert("shop.customers", {n: 1}),
    "update column": lambda c, n: c.update("shop.customers", {n: 1}),
    "update set": lambda c, n: c.update("shop.customers", {"name": "x"}).set(n, 1),
    "update where": lambda c, n: c.update("shop.customers", {"name": "x"}).where((n, "=", 1)),
    "delete where": lambda c, n: c.delete("shop.customers").where((n, "=", 1)),
    "conflict target": lambda c, n: c.insert(
        "shop.customers", {"email": "x"}
    ).on_conflict_do_nothing(n),
    "conflict set": lambda c, n: c.insert("shop.customers", {"email": "x"}).on_conflict_do_update(
        "email", set=[n]
    ),
}
AGGREGATE_NAMES = ("count", "sum", "avg", "min", "max", "array_agg", "json_agg")


def _known_names(cat: Catalog) -> set[str]:
    """Every spelling of a table or column of the shop schema (independent of the resolver)."""
    names: set[str] = set()
    for table in cat.schema.tables:
        names |= {table.name, f"{table.schema}.{table.name}"}
        for col in table.columns:
            names |= {
                col.name,
                f"{table.name}.{col.name}",
                f"{table.schema}.{table.name}.{col.name}",
            }
    return names


def _could_be_valid(cat: Catalog, name: str) -> bool:
    """Whether ``name`` (or ``-name``) is a column, table or aggregate of a known column."""
    known = _known_names(cat)
    bare = name[1:] if name.startswith("-") else name
    m = re.fullmatch(r"(?is)([a-z_]+)\((distinct )?(.*)\)", bare)
    aggregate = bool(m and m.group(1).lower() in AGGREGATE_NAMES)
    return bare in known or (aggregate and m is not None and m.group(3) in known | {"*"})


near_misses = st.tuples(
    st.sampled_from(["email", "shop.customers", "customers.email", "name", "shop.orders"]), hostile
).map("".join)


@SETTINGS
@given(name=st.one_of(hostile, near_misses), entry=st.sampled_from(sorted(ENTRY_POINTS)))
def test_names_not_in_the_schema_are_refused_while_building(
    canary: Conn, cat: Catalog, name: str, entry: str
) -> None:
    assume(not _could_be_valid(cat, name))
    before = snapshot(canary)
    # The builders are given no connection: the refusal happens before any SQL exists.
    with pytest.raises(UnknownName) as exc:
        ENTRY_POINTS[entry](cat, name)
    assert exc.value.name in (name, name[1:])
    assert all(s in _known_names(cat) for s in exc.value.suggestions)
    assert snapshot(canary) == before


@SETTINGS
@given(op=st.one_of(hostile, st.sampled_from(["= ", "=;", "IN (", "= 1 OR 1=1 --"])))
def test_operators_and_directions_not_known_are_refused(cat: Catalog, op: str) -> None:
    known_ops = {"=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "ilike",
                 "is null", "is not null", "between", "contains", "has key", "any"}  # fmt: skip
    assume(op.lower() not in known_ops)
    with pytest.raises(UnknownName):
        cat.select("shop.customers", where=[("email", op, "x")])
    assume(op.lower() not in ("asc", "desc"))
    with pytest.raises(UnknownName):
        cat.select("shop.customers").order_by(("email", op))


# -- names in the schema -------------------------------------------------------------------

_QUOTED = re.compile(r'"(?:[^"]|"")*"')
_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "NULL", "ORDER", "BY", "DESC", "GROUP",
    "HAVING", "INSERT", "INTO", "VALUES", "RETURNING", "UPDATE", "SET", "DELETE", "ON", "CONFLICT",
    "DO", "NOTHING", "EXCLUDED", "LIMIT", "OFFSET", "DISTINCT", "count", "max", "ANY",
}  # fmt: skip


def unquoted_words(text: str) -> set[str]:
    """The words of an SQL text outside quoted identifiers and placeholders."""
    return set(re.findall(r"[^\W\d]\w*", _QUOTED.sub(" ", text).replace("%s", " ")))


def test_every_schema_name_is_quoted_in_every_statement(conn: Conn, cat: Catalog) -> None:
    checked = 0
    for table in cat.schema.tables:
        qualified = f"{table.schema}.{table.name}"
        target = f"{quote(table.schema)}.{quote(table.name)}"
        writable = [c.name for c in table.columns if not c.generated and c.identity != "always"]
        for col in table.columns:
            ref = f"{quote(table.name)}.{quote(col.name)}"  # how SELECT names a column
            stmt = (
                cat.select(qualified, [col.name, f"count({col.name})"], [(col.name, "is null")])
                .group_by(col.name)
                .having(("count(*)", ">", 0))
                .order_by(f"-{col.name}")
                .limit(1)
            )
            assert ref in stmt.sql
            statements = [stmt.sql, cat.delete(qualified).where((col.name, "=", 1)).sql]
            if col.name in writable:
                statements.append(
                    cat.update(qualified, {col.name: None}).where((col.name, "is null")).sql
                )
                statements.append(
                    cat.insert(qualified, {col.name: None}).on_conflict_do_nothing(col.name).sql
                )
            for text in statements:
                assert target in text and quote(col.name) in text
                assert unquoted_words(text) <= _KEYWORDS, text
                checked += 1
            assert conn.execute(stmt.sql, stmt.compile().params).fetchall() == []  # type: ignore[arg-type]
    assert checked > 150


_NAME_CHARS = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(_CHARS, min_size=1, max_size=4)),
    min_size=1,
    max_size=5,
).map("".join)
identifier = _NAME_CHARS.filter(lambda n: 0 < len(n.encode()) <= 63)


@SETTINGS
@given(
    schema_name=identifier,
    table_name=identifier,
    columns=st.lists(identifier, min_size=3, max_size=3, unique=True),
    v1=hostile,
    v2=hostile,
)
def test_hostile_names_in_the_schema_are_quoted_and_keep_their_meaning(
    canary: Conn, schema_name: str, table_name: str, columns: list[str], v1: str, v2: str
) -> None:
    assume(not schema_name.startswith("pg_"))
    assume(schema_name not in ("public", "shop", "audit", "information_schema"))
    assume(v1 != v2)
    assume(f"count({columns[2]})" not in columns)
    conn = canary
    pk, a, b = columns
    ids = [sql.Identifier(n) for n in (schema_name, table_name, pk, a, b)]
    s, t, pk_id, a_id, b_id = ids
    with conn.transaction(force_rollback=True):
        before = snapshot(conn)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
        conn.execute(
            sql.SQL(
                "CREATE TABLE {}.{} ({} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
                " {} text, {} text)"
            ).format(s, t, pk_id, a_id, b_id)
        )
        declared = model.Table(
            name=table_name,
            schema=schema_name,
            columns=(
                model.Column(pk, "bigint", nullable=False, identity="by default"),
                model.Column(a, "text"),
                model.Column(b, "text"),
            ),
            primary_key=model.PrimaryKey("pk", (pk,)),
        )
        cat = Catalog(model.Schema.build(tables=[declared]))
        key = (schema_name, table_name)

        inserted = cat.insert(key, {a: v1, b: v2}, {a: v2, b: v1}, {a: v1}).fetch(conn)
        assert [(r[a], r[b]) for r in inserted] == [(v1, v2), (v2, v1), (v1, None)]
        independent = sql.SQL("SELECT {}, {} FROM {}.{} ORDER BY {}").format(
            a_id, b_id, s, t, pk_id
        )
        assert conn.execute(independent).fetchall() == [(v1, v2), (v2, v1), (v1, None)]

        select = cat.select(key, [b, pk], [(a, "=", v1)]).order_by(pk)
        text = select.sql
        assert f"{quote(schema_name)}.{quote(table_name)}" in text
        assert f"{quote(table_name)}.{quote(a)}" in text
        assert unquoted_words(text) <= _KEYWORDS
        assert [r[b] for r in select.fetch(conn)] == [v2, None]
        counted = cat.select(key).columns(f"count({b})", a).group_by(a).fetch(conn)
        assert sorted((r[a], r[f"count({b})"]) for r in counted) == sorted([(v1, 1), (v2, 1)])

        changed = cat.update(key, {b: v1}).where((b, "is null")).fetch(conn)
        assert [(r[a], r[b]) for r in changed] == [(v1, v1)]
        gone = cat.delete(key).where((a, "=", v2)).fetch(conn)
        assert [(r[a], r[b]) for r in gone] == [(v2, v1)]
        assert sorted(conn.execute(independent).fetchall()) == sorted([(v1, v2), (v1, v1)])
        assert snapshot(conn) == before  # the shop tables did not notice
