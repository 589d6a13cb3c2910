"""The dynamic (by-name) API on the shop schema: validation, statements, decoding, hooks."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
import pytest

import dibs
from dibs.query.dynamic import Catalog
from dibs.query.errors import (
    JoinError,
    QueryError,
    UniqueViolation,
    UnknownName,
    UnsafeStatement,
    ValidationError,
)
from dibs.query.hooks import HookContext

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return Catalog.from_modules(["shop_schema"])


@pytest.fixture
def shop(conn: Conn, cat: Catalog) -> dict[str, Any]:
    """Three customers, two products, four orders (ids by name)."""
    customers = cat.insert(
        "shop.customers",
        {"email": "ann@example.com", "name": "Ann", "tags": ["vip", "early"]},
        {"email": "bob@example.org", "name": "Bob", "marketing_opt_in": True},
        {"email": "cy@example.com", "name": "Cy", "password_hash": "x"},
    ).fetch(conn)
    ids = {c["name"]: c["id"] for c in customers}
    cat.insert(
        "shop.products",
        {"sku": "P1", "name": "Pen", "price": Decimal("1.50"), "attributes": {"color": "red"}},
        {"sku": "P2", "name": "Pad", "price": Decimal("3.00"), "attributes": {"size": "A5"}},
    ).fetch(conn)
    orders = cat.insert(
        "shop.orders",
        {"number": "A1", "customer_id": ids["Ann"], "total": Decimal("10.00"), "status": "paid"},
        {"number": "A2", "customer_id": ids["Ann"], "total": Decimal("5.50")},
        {"number": "B1", "customer_id": ids["Bob"], "total": Decimal("7.25"), "note": "gift"},
        {"number": "B2", "customer_id": ids["Bob"], "total": Decimal("0"), "status": "cancelled"},
    ).fetch(conn)
    return {"customers": ids, "orders": {o["number"]: o["id"] for o in orders}}


def sql_rows(conn: Conn, query: str, *params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


# -- names -----------------------------------------------------------------------------


def test_unknown_table_is_refused_with_the_closest_names(cat: Catalog) -> None:
    with pytest.raises(UnknownName) as exc:
        cat.select("shop.custmers")
    assert "shop.customers" in exc.value.suggestions
    assert "did you mean" in (exc.value.hint or "")
    assert isinstance(exc.value, LookupError)
    with pytest.raises(UnknownName):
        cat.insert("shop.nothing", {"a": 1})


@pytest.mark.parametrize(
    "build",
    [
        lambda c: c.select("shop.customers", ["emial"]),
        lambda c: c.select("shop.customers", where=[("emial", "=", "x")]),
        lambda c: c.select("shop.customers").order_by("-emial"),
        lambda c: c.select("shop.customers").group_by("emial"),
        lambda c: c.insert("shop.customers", {"emial": "x", "name": "n"}),
        lambda c: c.update("shop.customers", {"emial": "x"}),
        lambda c: c.update("shop.customers", {"name": "x"}).where(("emial", "=", "x")),
        lambda c: c.delete("shop.customers").where(("emial", "=", "x")),
        lambda c: c.insert("shop.customers", {"email": "x"}).on_conflict_do_nothing("emial"),
    ],
)
def test_unknown_column_is_refused_wherever_a_name_is_given(cat: Catalog, build: Any) -> None:
    with pytest.raises(UnknownName) as exc:
        build(cat)
    assert exc.value.name == "emial"
    assert exc.value.suggestions[0] == "email"


def test_unknown_operator_and_direction_are_refused(cat: Catalog) -> None:
    with pytest.raises(UnknownName) as exc:
        cat.select("shop.customers", where=[("email", "==", "x")])
    assert exc.value.kind == "operator" and "=" in exc.value.suggestions
    with pytest.raises(UnknownName):
        cat.select("shop.customers").order_by(("email", "downwards"))
    with pytest.raises(UnknownName):
        cat.select("shop.customers").order_by(("email", "asc", "middle"))


def test_bare_table_names_resolve_when_unique(cat: Catalog) -> None:
    assert cat.table("events").name == "audit.events"
    assert cat.table(("shop", "orders")).name == "shop.orders"
    assert "shop.orders" in cat.table_names() and "audit.events" in cat.table_names()


def test_identifiers_are_quoted_and_values_bound(cat: Catalog) -> None:
    stmt = cat.select("shop.customers", ["email"], [("name", "=", "x'; DROP TABLE y; --")])
    compiled = stmt.compile()
    assert compiled.sql == (
        'SELECT "customers"."email" FROM "shop"."customers" WHERE ("customers"."name" = %s)'
    )
    assert compiled.params == ("x'; DROP TABLE y; --",)


def test_generated_and_always_identity_columns_cannot_be_written(cat: Catalog) -> None:
    with pytest.raises(QueryError, match="generated"):
        cat.insert("shop.order_lines", {"line_total": Decimal("1")})
    with pytest.raises(QueryError, match="identity"):
        cat.insert("shop.categories", {"id": 1, "name": "n", "slug": "s"})


# -- select ------------------------------------------------------------------------------


def test_rows_are_dicts_with_python_types(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    order = cat.select("shop.orders", where=[("number", "=", "A1")]).fetch_one(conn)
    assert isinstance(order["id"], UUID) and order["id"] == shop["orders"]["A1"]
    assert order["total"] == Decimal("10.00") and isinstance(order["total"], Decimal)
    assert isinstance(order["placed_at"], datetime) and order["placed_at"].tzinfo is not None
    assert order["status"] == "paid"  # enums as their database value (documented choice)
    ann = cat.select("shop.customers", where=[("name", "=", "Ann")]).fetch_one(conn)
    assert ann["tags"] == ["vip", "early"] and ann["marketing_opt_in"] is False
    product = cat.select("shop.products", where=[("sku", "=", "P1")]).fetch_one(conn)
    assert product["attributes"] == {"color": "red"} and product["active"] is True
    event = cat.insert(
        "audit.events", {"action": "login", "client_ip": ipaddress.IPv4Address("10.0.0.1")}
    ).fetch_one(conn)
    assert event["client_ip"] == ipaddress.IPv4Address("10.0.0.1")
    assert list(order) == [c.name for c in cat.table("shop.orders").info.columns]


def test_enum_filters_take_the_member_or_its_value(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    from shop_schema import OrderStatus

    by_member = cat.select("shop.orders", ["number"], [("status", "=", OrderStatus.PAID)])
    by_value = cat.select("shop.orders", ["number"], [("status", "in", ["paid", "cancelled"])])
    assert by_member.fetch(conn) == [{"number": "A1"}]
    assert sorted(r["number"] for r in by_value.fetch(conn)) == ["A1", "B2"]


CONDITIONS: list[tuple[tuple[Any, ...], str, tuple[Any, ...]]] = [
    (("total", ">", Decimal("5.50")), "total > %s", (Decimal("5.50"),)),
    (("total", "<=", Decimal("5.50")), "total <= %s", (Decimal("5.50"),)),
    (("status", "!=", "pending"), "status <> %s", ("pending",)),
    (("number", "in", ["A1", "B1", "Z9"]), "number IN ('A1', 'B1', 'Z9')", ()),
    (("number", "not in", ("A1",)), "number <> 'A1'", ()),
    (("total", "between", (Decimal("5"), Decimal("8"))), "total BETWEEN 5 AND 8", ()),
    (("number", "like", "A%"), "number LIKE 'A%%'", ()),
    (("number", "ilike", "b%"), "number ILIKE 'b%%'", ()),
    (("note", "is null"), "note IS NULL", ()),
    (("note", "is not null"), "note IS NOT NULL", ()),
]


@pytest.mark.parametrize(("condition", "sql", "params"), CONDITIONS)
def test_each_operator_matches_hand_written_sql(
    conn: Conn,
    cat: Catalog,
    shop: dict[str, Any],
    condition: tuple[Any, ...],
    sql: str,
    params: tuple[Any, ...],
) -> None:
    got = cat.select("shop.orders", ["number"], [condition]).order_by("number").fetch(conn)
    expected = sql_rows(
        conn, f"SELECT number FROM shop.orders WHERE {sql} ORDER BY number", *params
    )
    assert [r["number"] for r in got] == [r[0] for r in expected]
    assert 0 < len(expected) < 4  # each case keeps some rows and drops some


def test_json_and_array_operators(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    red = cat.select("shop.products", ["sku"], [("attributes", "contains", {"color": "red"})])
    sized = cat.select("shop.products", ["sku"], [("attributes", "has key", "size")])
    vip = cat.select("shop.customers", ["name"], [("tags", "any", "vip")])
    tagged = cat.select("shop.customers", ["name"], [("tags", "contains", ["early"])])
    assert red.fetch(conn) == [{"sku": "P1"}]
    assert sized.fetch(conn) == [{"sku": "P2"}]
    assert vip.fetch(conn) == [{"name": "Ann"}]
    assert tagged.fetch(conn) == [{"name": "Ann"}]


def test_or_and_not_through_cond(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    q = cat.select("shop.orders", ["number"])
    q = q.where(q.cond("status", "=", "paid") | ~q.cond("note", "is null"))
    assert sorted(r["number"] for r in q.fetch(conn)) == ["A1", "B1"]


def test_order_limit_offset_and_keyset(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    base = cat.select("shop.orders", ["number", "total"])
    by_total = base.order_by("-total", "number").fetch(conn)
    assert [r["number"] for r in by_total] == ["A1", "B1", "A2", "B2"]
    page = base.order_by(("total", "asc"), "number").limit(2).offset(1).fetch(conn)
    assert [r["number"] for r in page] == ["A2", "B1"]
    after = base.order_by("number").after("A2").limit(2).fetch(conn)
    assert [r["number"] for r in after] == ["B1", "B2"]
    nulls = cat.select("shop.orders", ["number"]).order_by(("note", "asc", "first"), "number")
    assert [r["number"] for r in nulls.fetch(conn)][-1] == "B1"


def test_join_inferred_from_the_one_foreign_key(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    q = (
        cat.select("shop.orders")
        .join("shop.customers")
        .columns("number", "customers.email", "shop.customers.name")
        .where(("customers.name", "=", "Bob"))
        .order_by("number")
    )
    assert 'INNER JOIN "shop"."customers" ON ("orders"."customer_id" = "customers"."id")' in q.sql
    assert q.fetch(conn) == [
        {"number": "B1", "customers.email": "bob@example.org", "shop.customers.name": "Bob"},
        {"number": "B2", "customers.email": "bob@example.org", "shop.customers.name": "Bob"},
    ]
    # an unqualified name found only in the joined table resolves to it
    emails = cat.select("shop.orders").join("shop.customers").columns("email").distinct()
    assert sorted(r["email"] for r in emails.fetch(conn)) == ["ann@example.com", "bob@example.org"]


def test_left_join_keeps_rows_without_a_match(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    q = (
        cat.select("shop.customers")
        .left_join("shop.orders")
        .columns("name", "count(orders.id)")
        .group_by("name")
        .order_by("name")
    )
    assert q.fetch(conn) == [
        {"name": "Ann", "count(orders.id)": 2},
        {"name": "Bob", "count(orders.id)": 2},
        {"name": "Cy", "count(orders.id)": 0},
    ]


def test_ambiguous_join_names_the_candidates(conn: Conn, cat: Catalog) -> None:
    with pytest.raises(JoinError) as exc:
        cat.select("shop.customers").join("shop.addresses")
    assert "customers_default_address_id_fkey" in str(exc.value)
    fk = next(
        fk.name
        for fk in cat.table("shop.addresses").info.table.foreign_keys
        if fk.ref_table == "customers"
    )
    q = cat.select("shop.customers").join("shop.addresses", fk=fk)
    assert '"addresses"."customer_id" = "customers"."id"' in q.sql
    on = cat.select("shop.customers").join(
        "shop.addresses", on=("default_address_id", "addresses.id")
    )
    assert '"customers"."default_address_id" = "addresses"."id"' in on.sql
    assert on.fetch(conn) == []
    with pytest.raises(QueryError, match="already in the query"):
        cat.select("shop.categories").join("shop.categories")


def test_aggregates_group_by_having_match_sql(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    q = (
        cat.select("shop.orders")
        .columns("customer_id", "count(*)", "sum(total)", "max(total)", "avg(total)")
        .group_by("customer_id")
        .having(("count(*)", ">=", 2), ("sum(total)", ">", Decimal("8")))
        .order_by("customer_id")
    )
    expected = sql_rows(
        conn,
        "SELECT customer_id, count(*), sum(total), max(total), avg(total) FROM shop.orders"
        " GROUP BY customer_id HAVING count(*) >= 2 AND sum(total) > 8 ORDER BY customer_id",
    )
    got = q.fetch(conn)
    assert [tuple(r.values()) for r in got] == expected
    assert got[0]["customer_id"] == shop["customers"]["Ann"] and len(got) == 1  # Bob: 7.25
    assert got[0]["sum(total)"] == Decimal("15.50") and got[0]["count(*)"] == 2
    agg = cat.select("shop.orders").columns(
        "count(distinct customer_id)", "array_agg(number)", "json_agg(total)", "min(number)"
    )
    row = agg.fetch_one(conn)
    assert row["count(distinct customer_id)"] == 2
    assert sorted(row["array_agg(number)"]) == ["A1", "A2", "B1", "B2"]
    assert len(row["json_agg(total)"]) == 4 and row["min(number)"] == "A1"
    with pytest.raises(UnknownName):
        cat.select("shop.orders").columns("median(total)")


def test_count_ignores_paging(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    q = cat.select("shop.orders", where=[("status", "!=", "cancelled")]).order_by("number")
    assert q.limit(1).count().fetch_one(conn) == {"count": 3}
    grouped = cat.select("shop.orders").columns("customer_id").group_by("customer_id")
    assert grouped.count().fetch_one(conn) == {"count": 2}


def test_distinct_on(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    latest = (
        cat.select("shop.orders", ["customer_id", "number"])
        .distinct("customer_id")
        .order_by("customer_id", "-number")
    )
    assert [r["number"] for r in latest.fetch(conn)] == ["A2", "B2"]


# -- writes ------------------------------------------------------------------------------


def test_insert_many_is_one_statement_returning_rows_in_order(conn: Conn, cat: Catalog) -> None:
    stmt = cat.insert("shop.warehouses", *({"code": f"W{i}", "name": f"n{i}"} for i in range(5)))
    assert stmt.sql.count("INSERT") == 1 and stmt.sql.count("(%s, %s)") == 5
    rows = stmt.fetch(conn)
    assert [r["code"] for r in rows] == [f"W{i}" for i in range(5)]
    assert sql_rows(conn, "SELECT count(*) FROM shop.warehouses") == [(5,)]
    with pytest.raises(QueryError):
        cat.insert("shop.warehouses")


def test_upsert_updates_or_skips(conn: Conn, cat: Catalog, shop: dict[str, Any]) -> None:
    row = {"email": "ann@example.com", "name": "Ann B."}
    with pytest.raises(UniqueViolation) as exc:
        cat.insert("shop.customers", row).fetch(conn)
    assert exc.value.constraint and "email" in exc.value.constraint
    skipped = cat.insert("shop.customers", row).on_conflict_do_nothing("email").fetch(conn)
    assert skipped == []
    updated = cat.insert("shop.customers", row).on_conflict_do_update("email", set=["name"])
    assert updated.fetch_one(conn)["id"] == shop["customers"]["Ann"]
    assert sql_rows(conn, "SELECT name FROM shop.customers WHERE email = %s", row["email"]) == [
        ("Ann B.",)
    ]
    assert sql_rows(conn, "SELECT count(*) FROM shop.customers") == [(3,)]


def test_update_returns_rows_and_needs_where(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    with pytest.raises(UnsafeStatement):
        cat.update("shop.orders", {"status": "shipped"}).fetch(conn)
    rows = (
        cat.update("shop.orders", {"status": "shipped"})
        .set("note", "sent")
        .where(("customer_id", "=", shop["customers"]["Ann"]))
        .fetch(conn)
    )
    assert sorted(r["number"] for r in rows) == ["A1", "A2"]
    assert {r["status"] for r in rows} == {"shipped"} and {r["note"] for r in rows} == {"sent"}
    assert sql_rows(conn, "SELECT count(*) FROM shop.orders WHERE status = 'shipped'") == [(2,)]
    every = cat.update("shop.products", {"active": False}).all_rows().fetch(conn)
    assert len(every) == 2
    assert sql_rows(conn, "SELECT bool_or(active) FROM shop.products") == [(False,)]


def test_delete_returns_rows_and_needs_where(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    with pytest.raises(UnsafeStatement):
        cat.delete("shop.orders").fetch(conn)
    gone = cat.delete("shop.orders").where(("number", "like", "B%")).fetch(conn)
    assert sorted(r["number"] for r in gone) == ["B1", "B2"]
    assert isinstance(gone[0]["id"], UUID)
    assert sql_rows(conn, "SELECT number FROM shop.orders ORDER BY number") == [("A1",), ("A2",)]
    assert len(cat.delete("shop.order_lines").all_rows().fetch(conn)) == 0


# -- hooks -----------------------------------------------------------------------------------


def test_class_hooks_fire_for_dynamic_insert_with_admin_origin(conn: Conn, cat: Catalog) -> None:
    from shop_schema import Customer

    seen: list[tuple[Any, HookContext]] = []

    @dibs.hooks.before_create(Customer)
    def normalise(customer: Customer, ctx: HookContext) -> Customer:
        seen.append((customer, ctx))
        customer.email = customer.email.lower()
        return customer

    after: list[Any] = []

    @dibs.hooks.after_create(Customer)
    def record(customer: Customer, ctx: HookContext) -> None:
        after.append((customer.id, ctx.origin))

    row = cat.insert("shop.customers", {"email": "ANN@Example.COM", "name": "Ann"}).fetch_one(
        conn, actor="root", origin="admin"
    )
    ((customer, ctx),) = seen
    assert isinstance(customer, Customer)
    assert customer.marketing_opt_in is False and customer.tags == []  # defaults filled
    assert ctx.origin == "admin" and ctx.actor == "root" and ctx.table == "shop.customers"
    assert row["email"] == "ann@example.com"
    assert after == [(row["id"], "admin")]
    assert sql_rows(conn, "SELECT email FROM shop.customers") == [("ann@example.com",)]
    cat.insert("shop.customers", {"email": "b@x", "name": "B"}).fetch(conn)
    assert seen[-1][1].origin == "application"


def test_hooks_see_enum_members_and_can_reject(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    from shop_schema import Order, OrderStatus

    statuses: list[Any] = []

    @dibs.hooks.before_create(Order)
    def check(order: Order, ctx: HookContext) -> None:
        statuses.append(order.status)
        if order.total < 0:
            raise ValidationError(fields={"total": "must not be negative"})

    ann = shop["customers"]["Ann"]
    cat.insert("shop.orders", {"number": "C1", "customer_id": ann, "status": "paid"}).fetch(conn)
    cat.insert("shop.orders", {"number": "C2", "customer_id": ann}).fetch(conn)
    assert statuses == [OrderStatus.PAID, OrderStatus.PENDING]
    with pytest.raises(ValidationError) as exc:
        cat.insert(
            "shop.orders", {"number": "C3", "customer_id": ann, "total": Decimal("-1")}
        ).fetch(conn, origin="admin")
    assert exc.value.fields == {"total": ["must not be negative"]}
    assert sql_rows(conn, "SELECT count(*) FROM shop.orders WHERE number = 'C3'") == [(0,)]


def test_update_and_delete_hooks_run_per_row(
    conn: Conn, cat: Catalog, shop: dict[str, Any]
) -> None:
    from shop_schema import Order

    updates: list[tuple[str, str, str]] = []
    deletes: list[str] = []

    @dibs.hooks.after_update(Order)
    def on_update(order: Order, ctx: HookContext) -> None:
        updates.append((order.number, ctx.old.note, order.note))

    @dibs.hooks.before_delete(Order)
    def on_delete(order: Order, ctx: HookContext) -> None:
        deletes.append(order.number)

    cat.update("shop.orders", {"note": "n"}).where(("number", "like", "A%")).fetch(conn)
    assert sorted(updates) == [("A1", None, "n"), ("A2", None, "n")]

    @dibs.hooks.before_update(Order)
    def stamp(order: Order, ctx: HookContext) -> Order:
        order.note = f"{order.note} by {ctx.actor} via {ctx.origin}"
        return order

    cat.update("shop.orders", {"note": "m"}).where(("number", "=", "A1")).fetch(
        conn, actor="ann", origin="admin"
    )
    assert sql_rows(conn, "SELECT note FROM shop.orders WHERE number = 'A1'") == [
        ("m by ann via admin",)
    ]
    cat.delete("shop.orders").where(("number", "in", ["B1", "B2"])).fetch(conn, origin="admin")
    assert sorted(deletes) == ["B1", "B2"]


def test_after_commit_hooks_wait_for_the_commit(conn: Conn, cat: Catalog) -> None:
    from shop_schema import Warehouse

    sent: list[str] = []

    @dibs.hooks.after_commit_create(Warehouse)
    def announce(warehouse: Warehouse, ctx: HookContext) -> None:
        sent.append(warehouse.code)

    with dibs.query.transaction(conn):
        cat.insert("shop.warehouses", {"code": "W1", "name": "one"}).fetch(conn, origin="admin")
        assert sent == []
    assert sent == ["W1"]
    with pytest.raises(RuntimeError), dibs.query.transaction(conn):
        cat.insert("shop.warehouses", {"code": "W2", "name": "two"}).fetch(conn)
        raise RuntimeError("roll back")
    assert sent == ["W1"]
    assert sql_rows(conn, "SELECT code FROM shop.warehouses") == [("W1",)]


# -- async ------------------------------------------------------------------------------------


@pytest.fixture
def aconnect(shop_url: str) -> Iterator[Any]:
    async def connect() -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(shop_url, autocommit=True)

    yield connect


def test_async_statements_and_hooks(cat: Catalog, aconnect: Any) -> None:
    from shop_schema import Customer

    origins: list[str] = []

    @dibs.hooks.before_create(Customer)
    async def hook(customer: Customer, ctx: HookContext) -> None:
        origins.append(ctx.origin)

    async def main() -> None:
        async with await aconnect() as aconn:
            rows = await cat.insert(
                "shop.customers",
                {"email": "a@x", "name": "A"},
                {"email": "b@x", "name": "B", "tags": ["t"]},
            ).afetch(aconn, origin="admin")
            assert [r["email"] for r in rows] == ["a@x", "b@x"]
            assert origins == ["admin", "admin"]
            found = await cat.select("shop.customers", ["name"], [("tags", "any", "t")]).afetch(
                aconn
            )
            assert found == [{"name": "B"}]
            changed = await (
                cat.update("shop.customers", {"name": "AA"}).where(("email", "=", "a@x"))
            ).afetch_one(aconn)
            assert changed["name"] == "AA" and isinstance(changed["created_at"], datetime)
            count = await cat.select("shop.customers").count().afetch_one(aconn)
            assert count == {"count": 2}
            gone = await cat.delete("shop.customers").where(("name", "=", "B")).afetch(aconn)
            assert [g["email"] for g in gone] == ["b@x"]
            with pytest.raises(UnsafeStatement):
                await cat.delete("shop.customers").afetch(aconn)
            left = await cat.select("shop.customers", ["email"]).afetch(aconn)
            assert left == [{"email": "a@x"}]

    asyncio.run(main())
