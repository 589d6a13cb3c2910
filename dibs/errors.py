"""The one error hierarchy of dibs: every user-facing failure is a ``DibsError``.

Each error carries structured fields (where, what, how to fix) so the CLI, the
TUI and the tests can read them without parsing messages. The CLI maps
``exit_code`` to the process exit status and never shows a traceback for these.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConnectionFailed",
    "DeclarationError",
    "DibsError",
    "ExpressionError",
    "IntrospectionError",
    "SourceLocation",
    "SqlSyntaxError",
    "UsageError",
]

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_ERROR = 2


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """A place in a user's file: what error messages and the TUI point at."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class DibsError(Exception):
    """Base of every error dibs reports to a user.

    Args:
        message: what went wrong, in the user's terms.
        location: the file and line the problem is at, when known.
        hint: how to fix it.
    """

    exit_code: int = EXIT_ERROR

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(DibsError, ValueError):
    """The command line or an API call was used wrongly."""


class ConfigError(DibsError):
    """``[tool.dibs]`` or the environment does not say what dibs needs."""


class DeclarationError(DibsError, ValueError):
    """A schema declared in Python is invalid (names the file and line)."""


class ExpressionError(DeclarationError):
    """A SQL expression (default, check, index, generated) does not parse."""


class ConnectionFailed(DibsError, ConnectionError):
    """The database URL is malformed or the server cannot be reached."""


class IntrospectionError(DibsError):
    """The live database holds something dibs could not read."""


class SqlSyntaxError(DibsError, ValueError):
    """SQL text does not parse with Postgres's grammar.

    ``line`` and ``column`` are 1-based positions in ``file`` (or in the text
    given, when there is no file), so editors can jump to the spot.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int = 1,
        column: int = 1,
        hint: str | None = None,
    ) -> None:
        location = SourceLocation(file, line) if file else None
        super().__init__(message, location=location, hint=hint)
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = (
            f"{self.file}:{self.line}:{self.column}: "
            if self.file
            else (f"line {self.line}, column {self.column}: ")
        )
        text = where + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text
