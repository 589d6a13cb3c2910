"""Apply a migration repository to a database: ``migrate``, ``status`` and ``baseline``.

See docs/migrate.md. The ledger lives in the database's ``dibs`` schema
(``ledger.py``); the apply loop is ``executor.py``.
"""

from __future__ import annotations

from dibs.migrate.command import (
    BaselineResult,
    MigrateResult,
    Planned,
    StatusResult,
    baseline,
    migrate,
    status,
)
from dibs.migrate.drift import Drift
from dibs.migrate.errors import DriftDetected, LedgerMismatch, LockTimeoutExceeded, MigrationFailed
from dibs.migrate.executor import Applied, Reporter
from dibs.migrate.ledger import LEDGER_SCHEMA, user_schemas
from dibs.migrate.state import MigrationState

__all__ = [
    "LEDGER_SCHEMA",
    "Applied",
    "BaselineResult",
    "Drift",
    "DriftDetected",
    "LedgerMismatch",
    "LockTimeoutExceeded",
    "MigrateResult",
    "MigrationFailed",
    "MigrationState",
    "Planned",
    "Reporter",
    "StatusResult",
    "baseline",
    "migrate",
    "status",
    "user_schemas",
]
