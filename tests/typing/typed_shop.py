"""The example shop schema (examples/shop/shop_schema.py) spelled for type checkers.

Each column's type is wrapped in ``dibs.Col[...]``; at runtime ``dibs.Col[X]``
is ``X``, so this module declares exactly the same tables as the example
(tests/typing/test_typed_spelling.py checks that). Type checkers then see
``Customer.email`` as a ``Col[str]`` (a column expression for queries) and
``customer.email`` as a ``str``. A Python default is written
``dibs.default_value(x)`` (a bare ``False`` is not a ``Col[bool]``); a column
the database fills (identity, ``DEFAULT``, generated) is ``= dibs.DB_DEFAULT``
so that constructors do not require it.
"""

from __future__ import annotations

import enum
import ipaddress
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import dibs


@dibs.enum(schema="shop")
class OrderStatus(enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


@dibs.enum(schema="shop", comment="How a payment was made")
class PaymentMethod(enum.Enum):
    CARD = "card"
    TRANSFER = "transfer"
    VOUCHER = "voucher"


@dibs.table(schema="shop", name="customers")
class Customer:
    """People who can place orders."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity()] = dibs.DB_DEFAULT
    email: Annotated[
        dibs.Col[str], dibs.varchar(255), dibs.unique, dibs.comment("login and contact")
    ]
    name: Annotated[dibs.Col[str], dibs.label]
    default_address_id: Annotated[
        dibs.Col[int | None], dibs.fk("addresses.id", on_delete="set null", deferrable=True)
    ] = dibs.default_value(None)
    marketing_opt_in: dibs.Col[bool] = dibs.default_value(False)
    tags: dibs.Col[list[str]] = dibs.default_value([])
    created_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT
    password_hash: Annotated[dibs.Col[str | None], dibs.hidden] = dibs.default_value(None)


@dibs.table(
    schema="shop",
    name="addresses",
    checks=[dibs.check("country ~ '^[A-Z]{2}$'", name="addresses_country_check")],
)
class Address:
    """Postal addresses; a customer may have several."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity()] = dibs.DB_DEFAULT
    customer_id: Annotated[dibs.Col[int], dibs.fk(Customer, on_delete="cascade"), dibs.index]
    line1: dibs.Col[str]
    line2: dibs.Col[str | None] = dibs.default_value(None)
    city: Annotated[dibs.Col[str], dibs.label]
    postcode: Annotated[dibs.Col[str], dibs.varchar(16)]
    country: Annotated[dibs.Col[str], dibs.char(2)]


@dibs.table(schema="shop", name="categories")
class Category:
    """Product categories, nested through parent_id."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.integer, dibs.identity(always=True)] = (
        dibs.DB_DEFAULT
    )
    parent_id: Annotated[dibs.Col[int | None], dibs.integer, dibs.fk("categories.id")] = (
        dibs.default_value(None)
    )
    name: Annotated[dibs.Col[str], dibs.label]
    slug: Annotated[dibs.Col[str], dibs.varchar(64), dibs.unique]


@dibs.table(
    schema="shop",
    name="products",
    indexes=[
        dibs.index("attributes", method="gin"),
        dibs.index("lower(name)", where="active", name="products_active_name_idx"),
        dibs.index("category_id", "price DESC NULLS LAST", include=("name",)),
    ],
)
class Product:
    """Things for sale."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity()] = dibs.DB_DEFAULT
    sku: Annotated[dibs.Col[str], dibs.varchar(32), dibs.unique]
    name: Annotated[dibs.Col[str], dibs.label]
    description: Annotated[dibs.Col[str | None], dibs.long_text] = dibs.default_value(None)
    price: Annotated[dibs.Col[Decimal], dibs.numeric(10, 2), dibs.check("price > 0")]
    category_id: Annotated[
        dibs.Col[int | None], dibs.integer, dibs.fk(Category, on_delete="set null")
    ] = dibs.default_value(None)
    attributes: dibs.Col[dict[str, Any]] = dibs.default_value({})
    active: dibs.Col[bool] = dibs.default_value(True)


@dibs.table(
    schema="shop",
    name="orders",
    indexes=[
        dibs.index(
            "customer_id",
            "placed_at DESC",
            where="status <> 'cancelled'",
            name="orders_open_by_customer_idx",
        )
    ],
    checks=[dibs.check("total >= 0")],
)
class Order:
    """An order placed by a customer."""

    id: Annotated[dibs.Col[UUID], dibs.pk, dibs.default("gen_random_uuid()")] = dibs.DB_DEFAULT
    number: Annotated[dibs.Col[str], dibs.varchar(20), dibs.unique(nulls_not_distinct=True)]
    customer_id: Annotated[dibs.Col[int], dibs.fk(Customer, on_delete="restrict")]
    shipping_address_id: Annotated[dibs.Col[int | None], dibs.fk(Address)] = dibs.default_value(
        None
    )
    status: dibs.Col[OrderStatus] = dibs.default_value(OrderStatus.PENDING)
    total: Annotated[dibs.Col[Decimal], dibs.numeric(12, 2)] = dibs.default_value(Decimal("0"))
    placed_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT
    note: Annotated[dibs.Col[str | None], dibs.long_text, dibs.renamed_from("remark")] = (
        dibs.default_value(None)
    )


@dibs.table(schema="shop", name="order_lines", primary_key=("order_id", "line_no"))
class OrderLine:
    """One product in an order; the line total is computed by Postgres."""

    order_id: Annotated[dibs.Col[UUID], dibs.fk(Order, on_delete="cascade")]
    line_no: Annotated[dibs.Col[int], dibs.smallint, dibs.check("line_no > 0")]
    product_id: Annotated[dibs.Col[int], dibs.fk(Product)]
    quantity: Annotated[dibs.Col[int], dibs.integer, dibs.check("quantity > 0")]
    unit_price: Annotated[dibs.Col[Decimal], dibs.numeric(10, 2)]
    line_total: Annotated[
        dibs.Col[Decimal], dibs.numeric(12, 2), dibs.generated("quantity * unit_price")
    ] = dibs.DB_DEFAULT


@dibs.table(schema="shop", name="payments")
class Payment:
    """Money received for an order."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity()] = dibs.DB_DEFAULT
    order_id: Annotated[
        dibs.Col[UUID],
        dibs.fk(Order, on_delete="cascade", deferrable=True, initially_deferred=True),
    ]
    amount: Annotated[dibs.Col[Decimal], dibs.numeric(12, 2), dibs.check("amount > 0")]
    method: dibs.Col[PaymentMethod]
    paid_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT


@dibs.table(schema="shop", name="warehouses")
class Warehouse:
    """Places that hold stock."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.smallint, dibs.identity()] = dibs.DB_DEFAULT
    code: Annotated[dibs.Col[str], dibs.varchar(8), dibs.unique, dibs.label]
    name: dibs.Col[str]


@dibs.table(
    schema="shop",
    name="stock",
    primary_key=("warehouse_id", "product_id"),
    checks=[dibs.check("quantity >= 0 AND reserved <= quantity")],
)
class Stock:
    """How many of each product each warehouse holds."""

    warehouse_id: Annotated[dibs.Col[int], dibs.smallint, dibs.fk(Warehouse)]
    product_id: Annotated[dibs.Col[int], dibs.fk(Product, on_delete="cascade")]
    quantity: Annotated[dibs.Col[int], dibs.integer] = dibs.default_value(0)
    reserved: Annotated[dibs.Col[int], dibs.integer] = dibs.default_value(0)
    updated_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT


@dibs.table(
    schema="shop",
    name="stock_moves",
    foreign_keys=[
        dibs.foreign_key(("warehouse_id", "product_id"), "stock", ("warehouse_id", "product_id"))
    ],
)
class StockMove:
    """Every change of stock, for reconciliation."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity()] = dibs.DB_DEFAULT
    warehouse_id: Annotated[dibs.Col[int], dibs.smallint]
    product_id: dibs.Col[int]
    delta: Annotated[dibs.Col[int], dibs.integer, dibs.check("delta <> 0")]
    reason: Annotated[dibs.Col[str], dibs.varchar(32)]
    moved_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT


@dibs.table(schema="audit", name="events", indexes=[dibs.index("occurred_at", method="brin")])
class AuditEvent:
    """Append-only log of what users and the admin did."""

    id: Annotated[dibs.Col[int], dibs.pk, dibs.identity(always=True)] = dibs.DB_DEFAULT
    occurred_at: Annotated[dibs.Col[datetime], dibs.default("now()")] = dibs.DB_DEFAULT
    actor: dibs.Col[str | None] = dibs.default_value(None)
    action: Annotated[dibs.Col[str], dibs.varchar(64)]
    payload: dibs.Col[dict[str, Any] | None] = dibs.default_value(None)
    client_ip: dibs.Col[ipaddress.IPv4Address | None] = dibs.default_value(None)
