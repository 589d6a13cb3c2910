"""Load the real-world schemas in /work/shared/corpora into a database, for tests and benchmarks.

The corpus files are written for ``psql``: they hold meta-commands (``\\c``,
``\\copy``, ``\\pset``), ``COPY … FROM stdin`` blocks and ``CREATE DATABASE``.
``load_corpus`` feeds Postgres one statement at a time, leaving those out, and
also leaves out ``INSERT`` data: only the schema matters here, and skipping the
rows keeps every corpus under a second. Statements that fail are collected
(each in its own savepoint-free autocommit step) and compared with the
failures the corpus is known to have, so a new failure is an error.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

__all__ = [
    "CORPORA",
    "CORPUS_ROOT",
    "Corpus",
    "LoadFailure",
    "corpus_statements",
    "load_corpus",
    "missing_extensions",
]

CORPUS_ROOT = Path(os.environ.get("DIBS_CORPORA", "/work/shared/corpora"))
_SYNAPSE = "synapse/synapse/storage/schema/{}/full_schemas/72/full.sql.postgres"
_CHINOOK = "chinook/ChinookDatabase/DataSources/Chinook_PostgreSql{}.sql"


@dataclass(frozen=True, slots=True)
class Corpus:
    """A corpus: its SQL files in load order and the failures it is known to have.

    ``known_failures`` are substrings of the failing statements' text.
    """

    name: str
    files: tuple[str, ...]
    known_failures: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoadFailure:
    statement: str
    error: str


_CORPORA = (
    Corpus("pagila", ("pagila/v3.1.0/pagila-schema.sql",)),
    Corpus("chinook", (_CHINOOK.format(""),)),
    Corpus("chinook-serial", (_CHINOOK.format("_SerialPKs"),)),
    Corpus("chinook-identity", (_CHINOOK.format("_AutoIncrementPKs"),)),
    Corpus("sakila", ("sakila-jooq/postgres-sakila-db/postgres-sakila-schema.sql",)),
    Corpus("northwind", ("northwind/northwind.sql",)),
    # Without its CSV data (\\copy lines are dropped) every statement loads on
    # PostgreSQL 15/16; it needs two contrib extensions (see missing_extensions).
    Corpus(
        "adventureworks", ("adventureworks/install.sql",), extensions=("uuid-ossp", "tablefunc")
    ),
    Corpus(
        "synapse",
        tuple(_SYNAPSE.format(part) for part in ("common", "main", "state")),
    ),
    Corpus("django-contrib", ("django-contrib/django_contrib_schema.pgdump.sql",)),
)
_BY_NAME = {c.name: c for c in _CORPORA}
CORPORA: tuple[str, ...] = tuple(_BY_NAME)

_COPY_STDIN = re.compile(r"^\s*COPY\b.*\bFROM\s+stdin\b", re.IGNORECASE | re.DOTALL)
_SKIPPED = re.compile(r"^(INSERT\b|(CREATE|DROP)\s+DATABASE\b)", re.IGNORECASE)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.DOTALL)


def _strip_psql(text: str) -> str:
    """Remove psql meta-command lines and the data lines of ``COPY … FROM stdin``."""
    out: list[str] = []
    in_copy = False
    for line in text.splitlines():
        if in_copy:
            in_copy = line != "\\."
            continue
        if line.lstrip().startswith("\\"):
            continue
        out.append(line)
        if _COPY_STDIN.match(line):
            in_copy = True
    return "\n".join(out)


def corpus_statements(name: str) -> list[str]:
    """Return the schema statements of corpus ``name``, in order, ready to execute."""
    from pglast.parser import split

    corpus = _BY_NAME[name]
    statements: list[str] = []
    for rel in corpus.files:
        text = _strip_psql((CORPUS_ROOT / rel).read_text(encoding="utf-8"))
        for stmt in split(text, with_parser=False):
            head = _LEADING_COMMENTS.sub("", stmt, count=1)
            if not head or _SKIPPED.match(head) or _COPY_STDIN.match(head):
                continue
            statements.append(stmt)
    return statements


def missing_extensions(name: str, conn: psycopg.Connection[Any]) -> list[str]:
    """Return the extensions corpus ``name`` needs that this server cannot install."""
    wanted = list(_BY_NAME[name].extensions)
    rows = conn.execute(
        "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)", (wanted,)
    ).fetchall()
    available = {str(r[0]) for r in rows}
    return [e for e in wanted if e not in available]


def load_corpus(name: str, conn: psycopg.Connection[Any]) -> list[LoadFailure]:
    """Load corpus ``name`` into the (autocommit) connection's database.

    Returns the failures that were expected for this corpus; raises
    ``AssertionError`` listing any other failure. The session is reset
    afterwards (pg_dump files change ``search_path``).
    """
    corpus = _BY_NAME[name]
    failures: list[LoadFailure] = []
    for stmt in corpus_statements(name):
        try:
            conn.execute(stmt.encode())
        except psycopg.Error as exc:
            failures.append(LoadFailure(stmt, str(exc).strip()))
    conn.execute(b"RESET ALL")
    unexpected = [f for f in failures if not any(k in f.statement for k in corpus.known_failures)]
    if unexpected:
        detail = "\n".join(f"{f.error}\n    in: {f.statement[:200]}" for f in unexpected)
        raise AssertionError(f"corpus {name}: {len(unexpected)} statements failed:\n{detail}")
    return failures
