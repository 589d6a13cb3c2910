"""Who decides whether a proposed rename is one: the library never asks a person itself.

``CannedQuestioner`` answers from a mapping (tests, ``--rename``/``--no-rename``
flags), ``FailClosedQuestioner`` refuses to guess (CI, ``dibs check``); the
interactive questioner lives in the CLI. A questioner that cannot decide
raises ``RenameDecisionRequired``; ``diff`` keeps going, collects every
undecided candidate and raises once with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from dibs.autogenerate.renames import RenameCandidate
from dibs.errors import DibsError

__all__ = [
    "CannedQuestioner",
    "FailClosedQuestioner",
    "Questioner",
    "RenameDecisionRequired",
]


class Questioner(Protocol):
    def ask_rename(self, candidate: RenameCandidate) -> bool:
        """Return True when ``candidate`` is a rename, False for drop + add."""
        ...


class RenameDecisionRequired(DibsError):
    """Possible renames need a decision; ``candidates`` lists every one of them."""

    def __init__(self, candidates: Iterable[RenameCandidate]) -> None:
        self.candidates = tuple(candidates)
        lines = [f"  {c.describe()}\n    fix: {c.hint}" for c in self.candidates]
        super().__init__(
            "cannot tell whether these are renames or drop + add:\n" + "\n".join(lines),
            hint="declare renamed_from=(...) for renames, or pass --rename/--no-rename "
            "for each candidate (a 'no' drops the old object and its data)",
        )


class CannedQuestioner:
    """Answer from ``answers`` keyed by ``RenameCandidate.spec`` (``users.name=display_name``).

    Args:
        answers: spec → decision; a subject alone (``users.name``) answers every
            candidate for that old name.
        default: the answer for candidates not in ``answers``; ``None`` defers
            them (``RenameDecisionRequired``).
    """

    def __init__(self, answers: Mapping[str, bool] | None = None, default: bool | None = None):
        self.answers = dict(answers or {})
        self.default = default
        self.asked: list[RenameCandidate] = []

    def ask_rename(self, candidate: RenameCandidate) -> bool:
        self.asked.append(candidate)
        for key in (candidate.spec, candidate.subject):
            if key in self.answers:
                return self.answers[key]
        if self.default is None:
            raise RenameDecisionRequired((candidate,))
        return self.default


class FailClosedQuestioner:
    """Never guess: every candidate needs an explicit hint or flag."""

    def ask_rename(self, candidate: RenameCandidate) -> bool:
        raise RenameDecisionRequired((candidate,))
