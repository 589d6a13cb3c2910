"""SQL string literals that mean the same text whatever the session's settings.

A plain ``'…'`` literal with doubled quotes is exact while
``standard_conforming_strings`` is on (the default since Postgres 9.1). A
backslash is the one character whose meaning depends on that setting, so
text holding one is written as an escape string ``E'…'`` with the backslash
doubled, which reads the same under either setting. Newlines, tabs and any
other Unicode character are legal inside ``'…'`` and are kept as they are, so
comments stay readable in ``dibs sql`` output.

>>> string_literal("it's")
"'it''s'"
>>> string_literal("C:\\\\temp")
"E'C:\\\\\\\\temp'"
>>> string_literal("two\\nlines")
"'two\\nlines'"
"""

from __future__ import annotations

from dibs.errors import UsageError

__all__ = ["string_literal"]


def string_literal(text: str) -> str:
    """Return ``text`` as a Postgres string literal.

    Raises:
        UsageError: ``text`` holds a NUL character, which no Postgres text value can.
    """
    if "\x00" in text:
        raise UsageError(
            f"{text[:40]!r} contains a NUL character, which Postgres text cannot hold",
            hint="remove the \\x00 character from the comment or enum value",
        )
    quoted = text.replace("'", "''")
    if "\\" in text:
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"
