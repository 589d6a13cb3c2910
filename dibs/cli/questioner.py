"""Rename decisions on the command line: flags first, then a person at a terminal, else refuse.

The library never prompts (``dibs.autogenerate.questioner``); this module is
where the CLI decides *who* answers. ``--rename``/``--no-rename`` flags become
canned answers; candidates they do not cover are asked on the terminal when
both stdin and stderr are one, and otherwise left undecided so ``diff``
raises ``RenameDecisionRequired`` listing each of them with its fix.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from dibs.autogenerate.questioner import (
    CannedQuestioner,
    FailClosedQuestioner,
    Questioner,
    RenameDecisionRequired,
)
from dibs.autogenerate.renames import RenameCandidate
from dibs.errors import UsageError

__all__ = [
    "InteractiveQuestioner",
    "build_questioner",
    "parse_rename_flags",
    "question",
    "stdio_is_terminal",
]


def question(candidate: RenameCandidate) -> str:
    """Return the question put to a person, e.g. ``Was users.name renamed to users.display_name?``.

    >>> c = RenameCandidate("column", "public", "users", "name", "display_name", 0.5, "")
    >>> question(c)
    'Was users.name renamed to users.display_name?'
    >>> question(RenameCandidate("table", "public", "users", "users", "people", 0.6, ""))
    'Was table users renamed to people?'
    """
    if candidate.kind == "table":
        return f"Was table {candidate.subject} renamed to {candidate.new}?"
    table = candidate.subject.rsplit(".", 1)[0]
    return f"Was {candidate.subject} renamed to {table}.{candidate.new}?"


class InteractiveQuestioner:
    """Answer from ``canned`` where it can, and ask on the terminal (stderr) otherwise.

    The default answer is "no" (drop + add) only because a person chose it
    by pressing Enter after reading the question and the candidate's reason.
    """

    def __init__(self, canned: CannedQuestioner) -> None:
        self.canned = canned

    def ask_rename(self, candidate: RenameCandidate) -> bool:
        try:
            return self.canned.ask_rename(candidate)
        except RenameDecisionRequired:
            pass
        click.echo(f"possible rename: {candidate.describe()}", err=True)
        answer = click.confirm(question(candidate), default=False, err=True)
        if not answer:
            click.echo(
                f"  -> {candidate.subject} will be dropped (with its data) "
                f"and {candidate.new} added",
                err=True,
            )
        return answer


def parse_rename_flags(renames: Iterable[str], no_renames: Iterable[str]) -> dict[str, bool]:
    """Turn ``--rename users.name=display_name`` and ``--no-rename users.name`` into answers.

    >>> parse_rename_flags(["users.name=display_name"], ["users.bio"])
    {'users.name=display_name': True, 'users.bio': False}

    Raises:
        UsageError: a ``--rename`` value without ``=``, or a ``--no-rename`` value with one.
    """
    answers: dict[str, bool] = {}
    for spec in renames:
        subject, eq, new = spec.partition("=")
        if not eq or not subject.strip() or not new.strip():
            raise UsageError(
                f"--rename {spec!r} does not say the new name",
                hint="write --rename table.old_column=new_column (or --rename old_table=new_table)",
            )
        answers[f"{subject.strip()}={new.strip()}"] = True
    for subject in no_renames:
        if "=" in subject or not subject.strip():
            raise UsageError(
                f"--no-rename {subject!r} should name only the old object",
                hint="write --no-rename table.old_column (or --no-rename old_table)",
            )
        answers[subject.strip()] = False
    return answers


def stdio_is_terminal() -> bool:
    """Whether a person can answer: stdin and stderr (where questions go) are terminals."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def build_questioner(answers: dict[str, bool], *, interactive: bool) -> Questioner:
    """Return the questioner for a command: canned answers, then a person or refusal."""
    if not answers and not interactive:
        return FailClosedQuestioner()
    canned = CannedQuestioner(answers, default=None)
    if interactive:
        return InteractiveQuestioner(canned)
    return canned
