"""An online shop: customers, catalogue, orders, payments, stock and an audit log.

Exercises what a real schema has: a non-public schema for most tables and a
second one for auditing, enums, identity and UUID keys, a composite primary
key, a composite foreign key, a foreign-key cycle (customers ↔ addresses), a
self-reference (categories), a generated column, checks, partial, GIN, BRIN
and expression indexes, comments and admin display hints.
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

    id: Annotated[int, dibs.pk, dibs.identity()]
    email: Annotated[str, dibs.varchar(255), dibs.unique, dibs.comment("login and contact")]
    name: Annotated[str, dibs.label]
    default_address_id: Annotated[
        int | None, dibs.fk("addresses.id", on_delete="set null", deferrable=True)
    ]
    marketing_opt_in: bool = False
    tags: list[str] = []
    created_at: Annotated[datetime, dibs.default("now()")]
    password_hash: Annotated[str | None, dibs.hidden]


@dibs.table(
    schema="shop",
    name="addresses",
    checks=[dibs.check("country ~ '^[A-Z]{2}$'", name="addresses_country_check")],
)
class Address:
    """Postal addresses; a customer may have several."""

    id: Annotated[int, dibs.pk, dibs.identity()]
    customer_id: Annotated[int, dibs.fk(Customer, on_delete="cascade"), dibs.index]
    line1: str
    line2: str | None
    city: Annotated[str, dibs.label]
    postcode: Annotated[str, dibs.varchar(16)]
    country: Annotated[str, dibs.char(2)]


@dibs.table(schema="shop", name="categories")
class Category:
    """Product categories, nested through parent_id."""

    id: Annotated[int, dibs.pk, dibs.integer, dibs.identity(always=True)]
    parent_id: Annotated[int | None, dibs.integer, dibs.fk("categories.id")]
    name: Annotated[str, dibs.label]
    slug: Annotated[str, dibs.varchar(64), dibs.unique]


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

    id: Annotated[int, dibs.pk, dibs.identity()]
    sku: Annotated[str, dibs.varchar(32), dibs.unique]
    name: Annotated[str, dibs.label]
    description: Annotated[str | None, dibs.long_text]
    price: Annotated[Decimal, dibs.numeric(10, 2), dibs.check("price > 0")]
    category_id: Annotated[int | None, dibs.integer, dibs.fk(Category, on_delete="set null")]
    attributes: dict[str, Any] = {}
    active: bool = True


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

    id: Annotated[UUID, dibs.pk, dibs.default("gen_random_uuid()")]
    number: Annotated[str, dibs.varchar(20), dibs.unique(nulls_not_distinct=True)]
    customer_id: Annotated[int, dibs.fk(Customer, on_delete="restrict")]
    shipping_address_id: Annotated[int | None, dibs.fk(Address)]
    status: OrderStatus = OrderStatus.PENDING
    total: Annotated[Decimal, dibs.numeric(12, 2)] = Decimal("0")
    placed_at: Annotated[datetime, dibs.default("now()")]
    note: Annotated[str | None, dibs.long_text, dibs.renamed_from("remark")]


@dibs.table(schema="shop", name="order_lines", primary_key=("order_id", "line_no"))
class OrderLine:
    """One product in an order; the line total is computed by Postgres."""

    order_id: Annotated[UUID, dibs.fk(Order, on_delete="cascade")]
    line_no: Annotated[int, dibs.smallint, dibs.check("line_no > 0")]
    product_id: Annotated[int, dibs.fk(Product)]
    quantity: Annotated[int, dibs.integer, dibs.check("quantity > 0")]
    unit_price: Annotated[Decimal, dibs.numeric(10, 2)]
    line_total: Annotated[Decimal, dibs.numeric(12, 2), dibs.generated("quantity * unit_price")]


@dibs.table(schema="shop", name="payments")
class Payment:
    """Money received for an order."""

    id: Annotated[int, dibs.pk, dibs.identity()]
    order_id: Annotated[
        UUID, dibs.fk(Order, on_delete="cascade", deferrable=True, initially_deferred=True)
    ]
    amount: Annotated[Decimal, dibs.numeric(12, 2), dibs.check("amount > 0")]
    method: PaymentMethod
    paid_at: Annotated[datetime, dibs.default("now()")]


@dibs.table(schema="shop", name="warehouses")
class Warehouse:
    """Places that hold stock."""

    id: Annotated[int, dibs.pk, dibs.smallint, dibs.identity()]
    code: Annotated[str, dibs.varchar(8), dibs.unique, dibs.label]
    name: str


@dibs.table(
    schema="shop",
    name="stock",
    primary_key=("warehouse_id", "product_id"),
    checks=[dibs.check("quantity >= 0 AND reserved <= quantity")],
)
class Stock:
    """How many of each product each warehouse holds."""

    warehouse_id: Annotated[int, dibs.smallint, dibs.fk(Warehouse)]
    product_id: Annotated[int, dibs.fk(Product, on_delete="cascade")]
    quantity: Annotated[int, dibs.integer] = 0
    reserved: Annotated[int, dibs.integer] = 0
    updated_at: Annotated[datetime, dibs.default("now()")]


@dibs.table(
    schema="shop",
    name="stock_moves",
    foreign_keys=[
        dibs.foreign_key(("warehouse_id", "product_id"), "stock", ("warehouse_id", "product_id"))
    ],
)
class StockMove:
    """Every change of stock, for reconciliation."""

    id: Annotated[int, dibs.pk, dibs.identity()]
    warehouse_id: Annotated[int, dibs.smallint]
    product_id: int
    delta: Annotated[int, dibs.integer, dibs.check("delta <> 0")]
    reason: Annotated[str, dibs.varchar(32)]
    moved_at: Annotated[datetime, dibs.default("now()")]


@dibs.table(schema="audit", name="events", indexes=[dibs.index("occurred_at", method="brin")])
class AuditEvent:
    """Append-only log of what users and the admin did."""

    id: Annotated[int, dibs.pk, dibs.identity(always=True)]
    occurred_at: Annotated[datetime, dibs.default("now()")]
    actor: str | None
    action: Annotated[str, dibs.varchar(64)]
    payload: dict[str, Any] | None
    client_ip: ipaddress.IPv4Address | None
