"""Benchmark: building and rendering queries, and a primary-key fetch end to end.

Three measurements, in one run, with ratios printed:

* **build + render a simple select** (one table, ``WHERE id = value``) and a
  **join + group by + having** query (customers ⋈ orders, two aggregates,
  ``WHERE``, ``HAVING``, ``ORDER BY``), per statement, with a different value
  each time (a real application binds new values into the same shapes):

  - dibs, its shape cache cleared before each statement ("uncached") and warm
    ("cached": ``compiler.SHAPES`` gives the SQL text of a statement of the same
    shape, only the key is built and the values collected);
  - SQLAlchemy Core 2: ``stmt.compile(dialect=postgresql)`` plus its parameters
    ("uncached"), and the compiled cache its engines use
    (``_compile_w_cache`` + ``construct_params``: "cached");
  - PyPika (``PostgreSQLQuery ... .get_sql()``). PyPika renders values into the
    SQL text as literals: it does less (no parameters) and is shown for scale.

* **a primary-key fetch end to end** on the example shop schema
  (examples/shop): ``select(Customer).where(Customer.id == i).fetch_one(conn)``
  (build, render, execute, decode into a ``Customer``) against raw psycopg
  running the same SQL text and returning a tuple, on one connection, in
  interleaved calls so that load on the machine affects both alike.

Goals (issue #6): simple select under 20 µs uncached, join + group under 100 µs,
primary-key fetch within 1.15x of raw psycopg. Figures: docs/queries.md.

Usage::

    .venv/bin/python bench/query.py [--url ADMIN_URL] [--rounds 7] [--fetches 2000]

Without ``--url`` a temporary server is started (``dibs.testing``); the scratch
database is dropped at exit. ``--profile`` prints a cProfile of each dibs case.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "examples" / "shop"))

from introspect import database, server  # type: ignore[import-not-found]  # noqa: E402
from shop_schema import Customer, Order, OrderStatus  # noqa: E402

from dibs.query import compiler as dibs_compiler  # noqa: E402
from dibs.query import count, select, sum_  # noqa: E402
from dibs.render.ddl import render_schema  # noqa: E402
from dibs.schema.declare import load_schema  # noqa: E402

CUSTOMERS = 1000


# -- timing --------------------------------------------------------------------------------


def interleaved(fns: dict[str, Callable[[int], object]], n: int, rounds: int) -> dict[str, float]:
    """Median time of one call of each function (seconds), calls interleaved one by one.

    Each iteration calls every function once, in an order that rotates, and
    times each call: load from other processes then hits all of them alike, and
    the median ignores the calls a context switch landed in.
    """
    names = list(fns)
    for name in names:
        for i in range(min(n, 200)):
            fns[name](i)
    times: dict[str, list[float]] = {k: [] for k in names}
    clock = time.perf_counter
    gc.collect()
    for i in range(n * rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            start = clock()
            fns[name](i)
            times[name].append(clock() - start)
    return {k: statistics.median(v) for k, v in times.items()}


# -- the queries, per tool ------------------------------------------------------------------


def dibs_simple(i: int) -> Any:
    return select(Customer).where(Customer.id == i).compile()


def dibs_group(i: int) -> Any:
    spent = sum_(Order.total)
    orders = count(Order.id)
    return (
        select(Customer.email, orders, spent)
        .join(Order)
        .where(Order.status == OrderStatus.PAID, Customer.marketing_opt_in.eq(i % 2 == 0))
        .group_by(Customer.email)
        .having(orders > i % 5, spent > Decimal(i))
        .order_by(spent.desc())
        .compile()
    )


def uncached(fn: Callable[[int], Any]) -> Callable[[int], Any]:
    shapes = getattr(dibs_compiler, "SHAPES", None)
    if shapes is None:  # no shape cache: every statement renders anyway
        return fn

    def run(i: int) -> Any:
        shapes.clear()
        return fn(i)

    return run


def sqlalchemy_cases() -> dict[str, Callable[[int], Any]]:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    md = sa.MetaData()
    customers = sa.Table(
        "customers",
        md,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.String(255)),
        sa.Column("name", sa.Text),
        sa.Column("default_address_id", sa.BigInteger),
        sa.Column("marketing_opt_in", sa.Boolean),
        sa.Column("tags", postgresql.ARRAY(sa.Text)),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("password_hash", sa.Text),
        schema="shop",
    )
    orders = sa.Table(
        "orders",
        md,
        sa.Column("id", postgresql.UUID, primary_key=True),
        sa.Column("number", sa.String(20)),
        sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("shop.customers.id")),
        sa.Column("shipping_address_id", sa.BigInteger),
        sa.Column("status", sa.Text),
        sa.Column("total", sa.Numeric(12, 2)),
        sa.Column("placed_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
        schema="shop",
    )
    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined, no-untyped-call]
    cache: dict[Any, Any] = {}

    def simple(i: int) -> Any:
        return sa.select(customers).where(customers.c.id == i)

    def group(i: int) -> Any:
        spent = sa.func.sum(orders.c.total)
        n = sa.func.count(orders.c.id)
        return (
            sa.select(customers.c.email, n, spent)
            .join_from(customers, orders)
            .where(orders.c.status == "paid", customers.c.marketing_opt_in == (i % 2 == 0))
            .group_by(customers.c.email)
            .having(sa.and_(n > i % 5, spent > Decimal(i)))
            .order_by(spent.desc())
        )

    def compile_uncached(build: Callable[[int], Any]) -> Callable[[int], Any]:
        def run(i: int) -> Any:
            compiled = build(i).compile(dialect=dialect)
            return compiled.string, compiled.params

        return run

    def compile_cached(build: Callable[[int], Any]) -> Callable[[int], Any]:
        def run(i: int) -> Any:
            compiled, extracted, _, _ = build(i)._compile_w_cache(
                dialect, compiled_cache=cache, column_keys=[]
            )
            return compiled.string, compiled.construct_params(extracted_parameters=extracted)

        return run

    return {
        "simple uncached": compile_uncached(simple),
        "simple cached": compile_cached(simple),
        "group uncached": compile_uncached(group),
        "group cached": compile_cached(group),
    }


def pypika_cases() -> dict[str, Callable[[int], Any]]:
    from pypika import Order as Direction
    from pypika import PostgreSQLQuery, Schema
    from pypika import functions as fn

    shop = Schema("shop")
    customers, orders = shop.customers, shop.orders

    def simple(i: int) -> str:
        return str(PostgreSQLQuery.from_(customers).select("*").where(customers.id == i).get_sql())

    def group(i: int) -> str:
        spent = fn.Sum(orders.total)
        n = fn.Count(orders.id)
        return str(
            PostgreSQLQuery.from_(customers)
            .join(orders)
            .on(orders.customer_id == customers.id)
            .select(customers.email, n, spent)
            .where((orders.status == "paid") & (customers.marketing_opt_in == (i % 2 == 0)))
            .groupby(customers.email)
            .having((n > i % 5) & (spent > Decimal(i)))
            .orderby(spent, order=Direction.desc)
            .get_sql()
        )

    return {"simple": simple, "group": group}


# -- the database ---------------------------------------------------------------------------


def build_shop(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
        for statement in render_schema(load_schema(["shop_schema"])):
            conn.execute(statement)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO shop.customers (email, name, tags) VALUES (%s, %s, %s)",
                [(f"c{i}@example.com", f"Customer {i}", ["bench"]) for i in range(CUSTOMERS)],
            )


def fetch_cases(conn: psycopg.Connection[Any]) -> dict[str, Callable[[int], Any]]:
    sql = select(Customer).where(Customer.id == 1).compile().sql

    def raw(i: int) -> Any:
        return conn.execute(sql, (i % CUSTOMERS + 1,)).fetchone()

    def typed(i: int) -> Any:
        return select(Customer).where(Customer.id == i % CUSTOMERS + 1).fetch_one(conn)

    reused = select(Customer).where(Customer.id == 1)

    def again(i: int) -> Any:
        # One statement object fetched again and again: what a fetch costs without the build.
        return reused.fetch_one(conn)

    return {"psycopg": raw, "dibs": typed, "dibs reused": again}


# -- report ---------------------------------------------------------------------------------


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} µs"


def profile(label: str, fn: Callable[[int], Any], n: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        fn(i)
    prof.disable()
    print(f"\n-- cProfile: {label} ({n} calls)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="admin URL of a server to create the database on")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--builds", type=int, default=5000, help="statements per round")
    parser.add_argument("--fetches", type=int, default=2000, help="fetches per round")
    parser.add_argument("--profile", action="store_true", help="cProfile the dibs cases")
    args = parser.parse_args()

    dibs_cases = {
        "simple uncached": uncached(dibs_simple),
        "simple cached": dibs_simple,
        "group uncached": uncached(dibs_group),
        "group cached": dibs_group,
    }
    sa_cases = sqlalchemy_cases()
    pk_cases = pypika_cases()
    fns: dict[str, Callable[[int], object]] = {}
    for case in dibs_cases:
        fns[f"dibs {case}"] = dibs_cases[case]
        fns[f"SQLAlchemy {case}"] = sa_cases[case]
    for case in ("simple", "group"):
        fns[f"PyPika {case}"] = pk_cases[case]
    medians = interleaved(fns, args.builds, args.rounds)
    built = {tuple(k.split(" ", 1)): v for k, v in medians.items()}

    print("build + render, per statement (median call, all cases interleaved)")
    head = ("query", "dibs", "SQLAlchemy", "SA / dibs", "PyPika", "PyPika / dibs")
    print("{:<18}{:>12}{:>14}{:>11}{:>12}{:>15}".format(*head))
    for case in dibs_cases:
        d, s = built["dibs", case], built["SQLAlchemy", case]
        p = built["PyPika", case.split()[0]]
        print(f"{case:<18}{us(d):>12}{us(s):>14}{s / d:>10.1f}x{us(p):>12}{p / d:>14.1f}x")
    print(
        f"goals: simple uncached < 20 µs: {built['dibs', 'simple uncached'] * 1e6:.1f} µs; "
        f"join + group uncached < 100 µs: {built['dibs', 'group uncached'] * 1e6:.1f} µs"
    )

    with server(args.url) as admin:
        url = database(admin, "query")
        build_shop(url)
        with psycopg.connect(url, autocommit=True) as conn:
            fetched = interleaved(fetch_cases(conn), args.fetches, args.rounds)
    raw, typed, again = fetched["psycopg"], fetched["dibs"], fetched["dibs reused"]
    print(f"\nprimary-key fetch end to end ({CUSTOMERS} customers, one connection, median call)")
    print(f"raw psycopg (tuple) {us(raw)}   dibs (Customer) {us(typed)}", end="   ")
    print(f"dibs / psycopg {typed / raw:.3f}x")
    print(f"(a statement built once and fetched again: {us(again)}, {again / raw:.3f}x)")
    print(f"goal: within 1.15x: {'met' if typed / raw <= 1.15 else 'missed'}")

    if args.profile:
        for case in ("simple uncached", "group uncached"):
            profile(f"dibs {case}", dibs_cases[case], args.builds)


if __name__ == "__main__":
    main()
