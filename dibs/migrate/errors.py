"""Errors of ``dibs migrate``, ``dibs status`` and ``dibs baseline``.

Each one says what the database holds, what the repository holds and how to
reconcile them. Exit codes: ``DriftDetected`` exits 1 (a difference was
found, like ``dibs diff``); every other one exits 2.
"""

from __future__ import annotations

from dibs.errors import EXIT_DIFFERENT, DibsError, SourceLocation

__all__ = [
    "DriftDetected",
    "LedgerMismatch",
    "LockTimeoutExceeded",
    "MigrationFailed",
]


class MigrationFailed(DibsError):
    """A statement of a migration failed; its transaction (if any) was rolled back.

    Carries the Postgres details so the CLI, the TUI and tests can show them.
    """

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        hint: str | None = None,
        migration: str = "",
        column: int | None = None,
        sqlstate: str | None = None,
        source_line: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, location=location, hint=hint)
        self.migration = migration
        self.column = column
        self.sqlstate = sqlstate
        self.source_line = source_line
        self.detail = detail

    def __str__(self) -> str:
        where = ""
        if self.location is not None:
            where = f"{self.location}:{self.column}: " if self.column else f"{self.location}: "
        lines = [f"{where}{self.message}"]
        if self.source_line is not None:
            lines.append(f"    {self.source_line}")
            if self.column:
                lines.append("    " + _caret_pad(self.source_line, self.column) + "^")
        if self.sqlstate:
            lines.append(f"  sqlstate: {self.sqlstate}")
        if self.detail:
            lines.append(f"  detail: {self.detail}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _caret_pad(line: str, column: int) -> str:
    """Spaces (tabs kept) up to ``column`` so the caret sits under the character.

    >>> _caret_pad("\\tab", 3)
    '\\t '
    """
    return "".join(c if c == "\t" else " " for c in line[: column - 1])


class LedgerMismatch(DibsError):
    """The database's ledger is not a prefix of the repository's chain."""


class DriftDetected(DibsError):
    """The live schema is not the schema the ledger says it should be."""

    exit_code = EXIT_DIFFERENT

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        expected: str = "",
        actual: str = "",
        differences: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.expected = expected
        self.actual = actual
        self.differences = differences

    def __str__(self) -> str:
        lines = [self.message, *(f"  {d}" for d in self.differences)]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class LockTimeoutExceeded(MigrationFailed):
    """A migration could not take its locks within ``lock_timeout``, after every retry."""
