"""One migration file: its header, its content id, and how it is written.

A migration is a SQL file whose first lines are a header in SQL comments::

    -- dibs migration
    -- parent: 3f1c…   (or "root" for the first one)
    -- fingerprint: 9ab2…   (schema fingerprint after this migration)
    -- message: add posts
    -- transaction: true
    -- kind: generated       (optional; "manual" for hand-written migrations)

followed by a blank line and the SQL body. The id of a migration is the
SHA-256 of its *normalised* text: line endings become ``\\n``, trailing
whitespace is removed from every line, and the text ends with exactly one
newline. A checkout with ``core.autocrlf`` therefore has the same ids. Because
the header names the parent's id, the ids form a hash chain: changing any
byte that matters changes that id and breaks every later link.

This module imports only the standard library: ``dibs check`` reads every
migration on its fast path.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from dibs.errors import DibsError, SourceLocation

__all__ = [
    "ROOT",
    "HeaderError",
    "Migration",
    "content_id",
    "normalise",
    "parse_migration",
    "render_migration",
]

ROOT = "root"
MAGIC = "-- dibs migration"
_FIELD = re.compile(r"^-- (parent|fingerprint|message|transaction|kind): ?(.*)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
REQUIRED = ("parent", "fingerprint", "message", "transaction")


class HeaderError(DibsError, ValueError):
    """A migration's header is missing, truncated or malformed."""


def normalise(text: str) -> str:
    """Return ``text`` with LF line endings, no trailing spaces and one final newline.

    >>> normalise("a  \\r\\nb\\r\\n\\r\\n")
    'a\\nb\\n'
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def content_id(text: str) -> str:
    """Return the migration id: SHA-256 (hex) of the normalised text."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Migration:
    """A parsed migration file."""

    path: Path
    id: str
    parent: str
    fingerprint: str
    message: str
    transactional: bool
    body: str
    body_line: int
    manual: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def short_id(self) -> str:
        return self.id[:12]


def _header_error(path: Path, line: int, what: str) -> HeaderError:
    return HeaderError(
        f"migration header {what}",
        location=SourceLocation(str(path), line),
        hint="a migration starts with '-- dibs migration' and the lines "
        "'-- parent:', '-- fingerprint:', '-- message:', '-- transaction:'; "
        "restore the header from git or recreate the file with `dibs generate`",
    )


def parse_migration(path: Path, text: str | None = None) -> Migration:
    """Read and parse a migration file.

    Raises:
        HeaderError: the header is missing, truncated or malformed (names file:line).
    """
    raw = path.read_text(encoding="utf-8") if text is None else text
    norm = normalise(raw)
    lines = norm.split("\n")
    if not lines or lines[0] != MAGIC:
        raise _header_error(path, 1, f"is missing (expected {MAGIC!r} on line 1)")
    fields: dict[str, str] = {}
    lineno = 1
    body_index = len(lines)
    for lineno, line in enumerate(lines[1:], start=2):
        match = _FIELD.match(line)
        if not match:
            body_index = lineno - 1
            break
        key, value = match.groups()
        if key in fields:
            raise _header_error(path, lineno, f"repeats '{key}'")
        fields[key] = value.strip()
    missing = [k for k in REQUIRED if k not in fields]
    if missing:
        raise _header_error(path, lineno, f"is truncated: no {', '.join(missing)}")
    parent, fingerprint = fields["parent"], fields["fingerprint"]
    if parent != ROOT and not _HEX64.match(parent):
        raise _header_error(path, 2, f"has an invalid parent id {parent!r}")
    if not _HEX64.match(fingerprint):
        raise _header_error(path, 3, f"has an invalid fingerprint {fingerprint!r}")
    if fields["transaction"] not in ("true", "false"):
        raise _header_error(path, 5, "says 'transaction:' neither true nor false")
    if fields.get("kind", "generated") not in ("generated", "manual"):
        raise _header_error(path, 6, "says 'kind:' neither generated nor manual")
    return Migration(
        path=path,
        id=hashlib.sha256(norm.encode()).hexdigest(),
        parent=parent,
        fingerprint=fingerprint,
        message=fields["message"],
        transactional=fields["transaction"] == "true",
        body="\n".join(lines[body_index:]),
        body_line=body_index + 1,
        manual=fields.get("kind") == "manual",
    )


def render_migration(
    *,
    parent: str,
    fingerprint: str,
    message: str,
    body: str,
    transactional: bool = True,
    manual: bool = False,
) -> str:
    """Return the normalised text of a new migration."""
    fields = [
        MAGIC,
        f"-- parent: {parent}",
        f"-- fingerprint: {fingerprint}",
        f"-- message: {' '.join(message.split())}",
        f"-- transaction: {'true' if transactional else 'false'}",
    ]
    if manual:
        fields.append("-- kind: manual")
    header = "\n".join(fields)
    return normalise(f"{header}\n\n{body}")


def slugify(message: str) -> str:
    """Return a file-name slug for a migration message.

    >>> slugify("Add posts & comments!")
    'add_posts_comments'
    """
    slug = re.sub(r"[^0-9a-z]+", "_", message.lower()).strip("_")
    return slug[:60] or "migration"
