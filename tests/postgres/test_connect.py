"""Connection failures are DibsErrors with the password masked."""

from __future__ import annotations

import pytest

from dibs.errors import ConnectionFailed
from dibs.postgres.connect import connect, mask_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://bob:s3cret@db:5432/app", "postgresql://bob:***@db:5432/app"),
        ("postgres://bob:p%40ss@db/app", "postgres://bob:***@db/app"),
        (
            "postgresql://db/app?password=s3cret&sslmode=require",
            "postgresql://db/app?password=***&sslmode=require",
        ),
        ("host=db password=s3cret dbname=app", "host=db password=*** dbname=app"),
        ("postgresql://bob@db/app", "postgresql://bob@db/app"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_refused_port_is_a_clear_error() -> None:
    with pytest.raises(ConnectionFailed) as info:
        connect("postgresql://bob:s3cret@127.0.0.1:1/app")
    text = str(info.value)
    assert "s3cret" not in text and "***" in text
    assert "127.0.0.1" in text
    assert info.value.exit_code == 2


def test_malformed_url_is_a_clear_error() -> None:
    with pytest.raises(ConnectionFailed) as info:
        connect("postgresql://bob:s3cret@db:notaport/app")
    assert "s3cret" not in str(info.value)
    assert "malformed" in str(info.value) or "cannot connect" in str(info.value)


def test_unknown_database_is_a_clear_error(dibs_server: object) -> None:
    url = dibs_server.url_for("no_such_database_here")  # type: ignore[attr-defined]
    with pytest.raises(ConnectionFailed) as info:
        connect(url)
    assert "no_such_database_here" in str(info.value)


def test_connects(dibs_db_url: str) -> None:
    with connect(dibs_db_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
