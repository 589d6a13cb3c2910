"""Fixtures for query tests: the example shop schema in a fresh database per test.

The schema is created once per session in a template database; each test gets
a clone (``CREATE DATABASE … TEMPLATE``), so tests never see each other's rows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import conninfo

from dibs.query import hooks
from dibs.query.compiler import SHAPES
from dibs.render.ddl import render_schema
from dibs.schema.declare import load_schema
from dibs.testing import TestServer
from tests.query.shop_data import Fetch, fetcher, seed

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
if str(SHOP) not in sys.path:
    sys.path.insert(0, str(SHOP))


@pytest.fixture(scope="session")
def shop_template(dibs_server: TestServer) -> Iterator[str]:
    url = dibs_server.create_database()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in render_schema(load_schema(["shop_schema"])):
            conn.execute(statement)  # type: ignore[arg-type]
    name = str(conninfo.conninfo_to_dict(url)["dbname"])
    yield name
    dibs_server.drop_database(name)


@pytest.fixture
def shop_url(dibs_server: TestServer, shop_template: str) -> Iterator[str]:
    url = dibs_server.create_database(template=shop_template)
    yield url
    dibs_server.drop_database(url)


@pytest.fixture
def conn(shop_url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to a fresh database holding the shop schema."""
    with psycopg.connect(shop_url, autocommit=True) as c:
        yield c


@pytest.fixture(autouse=True)
def _no_hooks_left() -> Iterator[None]:
    hooks.clear()
    yield
    hooks.clear()


@pytest.fixture(autouse=True)
def _verify_shapes() -> Iterator[None]:
    """Re-render every statement whose SQL comes from the shape cache, and compare:
    a node whose shape key leaves out something its SQL depends on fails at once."""
    SHAPES.verify = True
    yield
    SHAPES.verify = False


@pytest.fixture(params=["sync", "async"])
def fetch(
    request: pytest.FixtureRequest, conn: psycopg.Connection[Any], shop_url: str
) -> Iterator[Fetch]:
    """Run a statement with ``fetch`` on a sync connection or ``afetch`` on an async one."""
    seed(conn)
    with fetcher(request.param, conn, shop_url) as run:
        yield run
