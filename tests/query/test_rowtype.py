"""A ``@dibs.table`` class is its own row type: a checked constructor and columns at class level."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import pytest
from shop_schema import Customer, Order, OrderStatus, Product

import dibs
from dibs.query.expr import ColumnExpr
from dibs.query.rowtype import DB_DEFAULT, TableType, is_table_class
from dibs.schema.declare import load_schema


def test_constructor_fills_python_defaults_and_nulls() -> None:
    c = Customer(email="ann@example.org", name="Ann")

    assert (c.email, c.name) == ("ann@example.org", "Ann")
    assert c.marketing_opt_in is False
    assert c.tags == []
    assert c.default_address_id is None and c.password_hash is None


def test_mutable_defaults_are_not_shared_between_rows() -> None:
    a = Customer(email="a@example.org", name="A")
    b = Customer(email="b@example.org", name="B")

    a.tags.append("vip")

    assert b.tags == []
    assert Product(sku="P", name="Pen", price=Decimal(1)).attributes == {}


def test_columns_the_database_fills_are_unset_until_returned() -> None:
    c = Customer(email="ann@example.org", name="Ann")

    with pytest.raises(AttributeError, match="the database fills it in"):
        _ = c.id
    with pytest.raises(AttributeError, match="has no attribute 'nickname'"):
        _ = c.nickname  # type: ignore[attr-defined]


def test_missing_required_column_is_an_error() -> None:
    with pytest.raises(TypeError, match=r"Customer\(\) missing required column\(s\): name"):
        Customer(email="ann@example.org")  # type: ignore[call-arg]


def test_unknown_keyword_is_an_error() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword argument.*emial"):
        Customer(emial="ann@example.org", name="Ann")  # type: ignore[call-arg]


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Customer("ann@example.org", "Ann")  # type: ignore[misc]


def test_class_attribute_is_a_column_and_instance_attribute_a_value() -> None:
    c = Customer(email="ann@example.org", name="Ann")

    assert isinstance(Customer.email, ColumnExpr)
    assert Customer.email.name == "email"
    assert repr(Customer.email) == "Customer.email"
    assert isinstance(c.email, str)
    # A column with a Python default is still a column at class level.
    assert isinstance(Customer.marketing_opt_in, ColumnExpr)
    assert c.marketing_opt_in is False


def test_columns_cannot_be_replaced_on_the_class() -> None:
    with pytest.raises(AttributeError, match="cannot assign"):
        Customer.email = "x"  # type: ignore[assignment]
    assert isinstance(Customer.email, ColumnExpr)


def test_equality_and_repr() -> None:
    a = Customer(email="ann@example.org", name="Ann")
    b = Customer(email="ann@example.org", name="Ann")
    c = Customer(email="ann@example.org", name="Bea")

    assert a == b
    assert a != c
    assert a != Order(number="A-1", customer_id=1)
    assert repr(a) == (
        "Customer(email='ann@example.org', name='Ann', default_address_id=None, "
        "marketing_opt_in=False, tags=[], password_hash=None)"
    )
    with pytest.raises(TypeError):
        hash(a)  # mutable rows are not hashable


def test_enum_default_and_class_metadata_are_kept() -> None:
    o = Order(number="A-1", customer_id=1)

    assert o.status is OrderStatus.PENDING
    assert o.total == Decimal("0")
    assert Customer.__doc__ == "People who can place orders."
    assert Customer.__module__ == "shop_schema"
    assert Customer.__dibs_table__.cls is Customer  # type: ignore[attr-defined]
    assert is_table_class(Customer) and isinstance(Customer, TableType)
    assert not is_table_class(OrderStatus)


def test_declaration_reader_still_sees_python_defaults() -> None:
    schema = load_schema(["shop_schema"])
    tables = {t.key: t for t in schema.tables}
    customers = {c.name: c for c in tables["shop", "customers"].columns}
    orders = {c.name: c for c in tables["shop", "orders"].columns}

    assert customers["marketing_opt_in"].default == "FALSE"
    assert customers["tags"].default == "'{}'"
    assert orders["status"].default == "'pending'"
    assert orders["total"].default == "0"


def test_db_default_sentinel_is_invisible_to_the_schema() -> None:
    @dibs.table(schema="rowtype_test", name="tickets")
    class Ticket:
        id: Annotated[int, dibs.pk, dibs.identity()] = DB_DEFAULT
        title: str

    t = Ticket(title="x")

    assert "id" not in t.__dict__  # left for the database
    assert "id" not in Ticket.__dict__
    assert repr(t) == "Ticket(title='x')"
    assert isinstance(Ticket.id, ColumnExpr)
