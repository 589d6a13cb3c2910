"""Postgres errors as dibs errors: integrity violations with their names, and schema drift."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from shop_schema import Customer, Order, Product, Stock, Warehouse

from dibs.query import (
    CheckViolation,
    ForeignKeyViolation,
    IntegrityError,
    NotNullViolation,
    QueryError,
    SchemaDrift,
    UniqueViolation,
    delete,
    insert,
    raw_sql,
    select,
    update,
)
from tests.query.support import on_async


def _customer(email: str = "ann@example.org") -> Customer:
    return Customer(email=email, name="Ann")


# -- integrity violations ---------------------------------------------------------------


def test_unique_violation_names_table_column_and_constraint(
    conn: psycopg.Connection[Any],
) -> None:
    insert(_customer()).fetch(conn)

    with pytest.raises(UniqueViolation) as info:
        insert(_customer()).fetch(conn)

    err = info.value
    assert (err.table, err.column, err.columns) == ("shop.customers", "email", ("email",))
    assert err.constraint == "customers_email_key"
    assert err.sqlstate == "23505"
    assert err.hint is not None and "ann@example.org" in err.hint  # Postgres's detail
    assert isinstance(err.__cause__, psycopg.errors.UniqueViolation)


def test_foreign_key_violation_on_insert_and_on_delete(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(ForeignKeyViolation) as info:
        insert(Order(number="A-1", customer_id=999)).fetch(conn)
    assert (info.value.table, info.value.column) == ("shop.orders", "customer_id")
    assert info.value.constraint == "orders_customer_id_fkey"

    customer = insert(_customer()).fetch_one(conn)
    insert(Order(number="A-1", customer_id=customer.id)).fetch(conn)
    with pytest.raises(ForeignKeyViolation) as info:
        delete(customer).fetch(conn)
    assert info.value.constraint == "orders_customer_id_fkey"
    assert info.value.columns == ("customer_id",)


def test_check_violation_names_the_columns_of_the_check(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(CheckViolation) as info:
        insert(Product(sku="P", name="Free", price=Decimal(0))).fetch(conn)
    assert (info.value.table, info.value.constraint) == ("shop.products", "products_price_check")
    assert (info.value.column, info.value.columns) == ("price", ("price",))

    warehouse = insert(Warehouse(code="W1", name="Main")).fetch_one(conn)
    product = insert(Product(sku="P", name="Pen", price=Decimal(1))).fetch_one(conn)
    with pytest.raises(CheckViolation) as info:
        insert(
            Stock(warehouse_id=warehouse.id, product_id=product.id, quantity=1, reserved=5)
        ).fetch(conn)
    assert info.value.column is None  # a table check over two columns
    assert set(info.value.columns) == {"quantity", "reserved"}


def test_not_null_violation_names_the_column(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(NotNullViolation) as info:
        insert(Customer).values(email="x@example.org").fetch(conn)

    assert (info.value.table, info.value.column) == ("shop.customers", "name")
    assert not isinstance(info.value, SchemaDrift)  # name is NOT NULL in the schema too


def test_integrity_errors_on_async_connections(shop_url: str) -> None:
    async def work(aconn: psycopg.AsyncConnection[Any]) -> IntegrityError:
        await insert(_customer()).afetch(aconn)
        try:
            await update(Customer).set(Customer.email, "ann@example.org").all_rows().afetch(aconn)
            await insert(_customer()).afetch(aconn)
        except IntegrityError as exc:
            return exc
        raise AssertionError("no error")

    err = on_async(shop_url, work)
    assert isinstance(err, UniqueViolation)
    assert err.constraint == "customers_email_key"


def test_integrity_error_inside_hooks_path_is_translated_too(
    conn: psycopg.Connection[Any],
) -> None:
    import dibs

    dibs.hooks.after_create(Customer)(lambda row, ctx: None)
    insert(_customer()).fetch(conn)

    with pytest.raises(UniqueViolation):
        insert(_customer()).fetch(conn)
    assert conn.execute("SELECT count(*) FROM shop.customers").fetchone() == (1,)


# -- schema drift -------------------------------------------------------------------------


def test_changed_column_type_is_reported_as_drift(conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE shop.customers ALTER COLUMN name TYPE integer USING 0")

    with pytest.raises(SchemaDrift) as info:
        insert(_customer()).fetch(conn)

    assert str(info.value).startswith(
        "shop.customers.name is integer in the database but text in the schema: run `dibs migrate`"
    )
    assert (info.value.table, info.value.column) == ("shop.customers", "name")
    [drift] = info.value.differences
    assert (drift.in_database, drift.in_schema) == ("integer", "text")


def test_changed_column_type_in_a_where_clause_async(
    shop_url: str, conn: psycopg.Connection[Any]
) -> None:
    conn.execute("ALTER TABLE shop.customers ALTER COLUMN email TYPE bigint USING 0")
    stmt = select(Customer).where(Customer.email == "ann@example.org")

    async def work(aconn: psycopg.AsyncConnection[Any]) -> SchemaDrift:
        with pytest.raises(SchemaDrift) as info:
            await stmt.afetch(aconn)
        return info.value

    message = str(on_async(shop_url, work))
    assert (
        "shop.customers.email is bigint in the database but varchar(255) in the schema" in message
    )
    with pytest.raises(SchemaDrift, match="run `dibs migrate`"):
        stmt.fetch(conn)


def test_missing_column_is_reported_as_drift(conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE shop.customers DROP COLUMN tags")

    with pytest.raises(SchemaDrift) as info:
        select(Customer).fetch(conn)

    assert str(info.value).startswith(
        "shop.customers.tags (text[]) is missing in the database but declared in the schema"
    )


def test_missing_table_is_reported_as_drift(conn: psycopg.Connection[Any]) -> None:
    conn.execute("DROP TABLE shop.stock_moves, shop.stock, shop.warehouses CASCADE")

    with pytest.raises(SchemaDrift, match=r"^shop\.warehouses is missing in the database"):
        select(Warehouse).fetch(conn)


def test_extra_not_null_column_in_the_database_is_drift(conn: psycopg.Connection[Any]) -> None:
    conn.execute("ALTER TABLE shop.customers ADD COLUMN nickname text NOT NULL")

    with pytest.raises(SchemaDrift) as info:
        insert(_customer()).fetch(conn)

    assert str(info.value).startswith(
        "shop.customers.nickname (NOT NULL) is in the database but not in the schema"
    )


def test_not_null_in_the_database_on_a_nullable_column_is_drift(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute("ALTER TABLE shop.customers ALTER COLUMN password_hash SET NOT NULL")

    with pytest.raises(SchemaDrift, match="password_hash is NOT NULL in the database but nullable"):
        insert(_customer()).fetch(conn)


def test_a_bad_value_without_drift_is_not_called_drift(conn: psycopg.Connection[Any]) -> None:
    customer = insert(_customer()).fetch_one(conn)

    with pytest.raises(QueryError) as info:
        insert(Order).values(number="A-1", customer_id=customer.id, status="bogus").fetch(conn)

    assert not isinstance(info.value, SchemaDrift)
    assert info.value.sqlstate == "22P02"
    assert "bogus" in info.value.message


def test_raw_sql_errors_are_never_called_drift(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(QueryError) as info:
        raw_sql("SELECT no_such_column FROM shop.customers").fetch(conn)

    assert not isinstance(info.value, SchemaDrift)
    assert info.value.sqlstate == "42703"
