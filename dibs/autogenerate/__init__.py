"""Compare two schemas into operations, asking a questioner about possible renames."""

from __future__ import annotations

from dibs.autogenerate.autodetector import diff
from dibs.autogenerate.hazards import classify_type_change, plan_hazards
from dibs.autogenerate.questioner import (
    CannedQuestioner,
    FailClosedQuestioner,
    Questioner,
    RenameDecisionRequired,
)
from dibs.autogenerate.renames import RenameCandidate

__all__ = [
    "CannedQuestioner",
    "FailClosedQuestioner",
    "Questioner",
    "RenameCandidate",
    "RenameDecisionRequired",
    "classify_type_change",
    "diff",
    "plan_hazards",
]
