"""Connections: URL checking, password masking, and connection errors users can act on."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from psycopg import conninfo

from dibs.errors import ConnectionFailed

__all__ = ["connect", "mask_url"]

DEFAULT_CONNECT_TIMEOUT = 5
_URL_PASSWORD = re.compile(r"(?P<head>^[a-z][a-z0-9+.-]*://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@)", re.I)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def mask_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``.

    >>> mask_url("postgresql://bob:s3cret@db:5432/app")
    'postgresql://bob:***@db:5432/app'
    >>> mask_url("host=db password=s3cret dbname=app")
    'host=db password=*** dbname=app'
    """
    if "://" in url:
        masked = _URL_PASSWORD.sub(lambda m: m["head"] + "***" + m["tail"], url)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", masked, flags=re.I)
    return _KV_PASSWORD.sub(r"\1***", url)


def _check(url: str) -> dict[str, Any]:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    try:
        return conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConnectionFailed(
            f"malformed database URL {mask_url(url)}: {_first_line(exc)}",
            hint="use postgresql://user:password@host:5432/dbname",
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(url: str, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection[Any]:
    """Open a psycopg connection, turning every failure into ``ConnectionFailed``.

    The message names the masked URL and Postgres's reason (refused, timed out,
    authentication failed, unknown database) and the hint says what to check.
    """
    params = _check(url)
    params.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    if not params.get("dbname") and not params.get("host") and not params.get("user"):
        raise ConnectionFailed(
            f"malformed database URL {mask_url(url)}: it names no host and no database",
            hint="use postgresql://user:password@host:5432/dbname",
        )
    try:
        return psycopg.connect(conninfo.make_conninfo(**params), autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        reason = _first_line(exc)
        raise ConnectionFailed(
            f"cannot connect to {mask_url(url)}: {reason}",
            hint="check that the server runs and accepts connections, and the user, "
            "password and database name (or unset the URL to use the embedded server)",
        ) from exc
