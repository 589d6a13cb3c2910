"""Compare dibs's hazard classes with pg-schema-diff's expected hazard types.

For every pg-schema-diff acceptance case that lists ``expectedHazardTypes``:
load ``old.sql`` and ``new.sql`` into two fresh databases, introspect both,
``diff`` (rename candidates declined) and ``plan``, then compare the hazard
classes of the planned operations with the case's expected types, translated
through ``PSD_TO_DIBS`` (the mapping documented in ``docs/diff.md``,
"Hazards compared with pg-schema-diff"). No migration is applied, so this is
much faster than ``test_diff_suites``.

A case is compared only when it loads, holds no object dibs does not manage,
expects no hazard type about such objects (``OUT_OF_SCOPE_TYPES``) and dibs
can plan it; every other case is listed with its reason, never dropped
silently. The test prints each disagreement and the agreement percentage; it asserts
the measured agreement as a floor, and a strict ``xfail`` test holds issue 3's
90 % target, which honest hazard classes do not reach (docs/diff.md says why).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from dibs.autogenerate import CannedQuestioner, diff
from dibs.errors import DibsError
from dibs.ops import Hazard
from dibs.planner import plan
from dibs.testing import TestServer
from tests.external.suites import CORPUS_ROOT, DiffCase, pg_schema_diff_cases
from tests.external.test_diff_suites import (
    _ensure_roles,
    _introspect,
    _load,
    _short,
    unmanaged_kinds,
)

TARGET = 0.90  # issue 3's acceptance point, not met yet: see the xfail test below
FLOOR = 0.55  # measured 72/124 = 58.1 % on 2026-11-25, rounded down: a regression guard
CASES_DIR = CORPUS_ROOT / "pg-schema-diff" / "cases"

# pg-schema-diff hazard type -> the dibs class that flags the same risk (docs/diff.md).
PSD_TO_DIBS: dict[str, Hazard] = {
    "DeletesData": Hazard.DATA_LOSS,
    "AcquiresAccessExclusiveLock": Hazard.ACCESS_EXCLUSIVE_LOCK,
    # pg-schema-diff builds CONCURRENTLY (IndexBuild) unless told not to, then the
    # build takes a SHARE lock (AcquiresShareLock); dibs builds in the migration's
    # transaction, which is the SHARE-lock form: it blocks writes.
    "IndexBuild": Hazard.INDEX_BUILD_BLOCKS_WRITES,
    "AcquiresShareLock": Hazard.INDEX_BUILD_BLOCKS_WRITES,
    "IndexDropped": Hazard.INDEX_DROPPED,
    "ImpactsDatabasePerformance": Hazard.STATISTICS_RESET,
}

# Hazard types whose presence takes a case out of this comparison, with the reason.
OUT_OF_SCOPE_TYPES: dict[str, str] = {
    "AuthzUpdate": "privileges / row-level security: dibs does not manage them",
    "HasUntrackableDependencies": "functions, sequences or extensions others may use "
    "invisibly: dibs does not manage functions, so it cannot see such dependencies",
    "Correctness": "replica identity: not part of dibs's model",
    "ExtensionVersionUpgrade": "extension versions: not part of dibs's model",
    "AcquiresShareRowExclusiveLock": "a lock level dibs has no class for (foreign key "
    "added to a partitioned table in one step; dibs flags its scan as CONSTRAINT_SCAN)",
}

# The dibs classes compared; the others (TABLE_REWRITE, CONSTRAINT_SCAN, NOT_NULL_SCAN)
# have no pg-schema-diff type and are left out (shown as "not compared" in the report).
COMPARED = frozenset(PSD_TO_DIBS.values())


@dataclass(frozen=True, slots=True)
class Comparison:
    case_id: str
    status: str  # "compared" or the reason the case is not compared
    expected: frozenset[Hazard] = frozenset()
    found: frozenset[Hazard] = frozenset()
    detail: str = ""

    @property
    def agrees(self) -> bool:
        return self.status == "compared" and self.expected == self.found


def expected_types(case: DiffCase) -> list[str] | None:
    """The case's ``expectedHazardTypes`` without the Go prefix, or ``None`` if it has none."""
    meta: dict[str, Any] = json.loads((CASES_DIR / case.case_id / "case.json").read_text())
    types = meta.get("expectedHazardTypes")
    if types is None:
        return None
    return [str(t).removeprefix("diff.MigrationHazardType") for t in types]


def hazard_cases() -> list[tuple[DiffCase, list[str]]]:
    """pg-schema-diff cases that list expected hazard types, with those types."""
    found = []
    for case in pg_schema_diff_cases():
        types = expected_types(case)
        if types is not None:
            found.append((case, types))
    return found


def dibs_hazards(ops: Iterable[Any]) -> frozenset[Hazard]:
    return frozenset(h for op in ops for h in op.hazards)


def compare_case(server: TestServer, case: DiffCase, types: Sequence[str]) -> Comparison:
    """Classify one case and, when in scope, compare its hazards; never raises."""
    unmapped = sorted(t for t in set(types) if t not in PSD_TO_DIBS)
    if unmapped:
        reasons = "; ".join(f"{t}: {OUT_OF_SCOPE_TYPES.get(t, 'unknown type')}" for t in unmapped)
        return Comparison(case.case_id, "out-of-scope:hazard-type", detail=reasons)
    url_a, url_b = server.create_database(), server.create_database()
    try:
        for url, script, side in ((url_a, case.before, "old"), (url_b, case.after, "new")):
            try:
                _load(url, script)
            except psycopg.Error as exc:
                return Comparison(case.case_id, "unloadable", detail=f"{side}: {_short(exc)}")
        try:
            a, b = _introspect(url_a), _introspect(url_b)
        except DibsError as exc:
            return Comparison(case.case_id, "out-of-scope:introspection", detail=_short(exc))
        kinds = sorted(unmanaged_kinds(a, b))
        if kinds:
            return Comparison(case.case_id, "out-of-scope:unmanaged", detail=",".join(kinds))
        try:
            decline = CannedQuestioner(default=False)
            ops = plan(diff(a.managed(), b.managed(), questioner=decline), a, b)
        except Exception as exc:
            return Comparison(case.case_id, "plan-error", detail=_short(exc))
        expected = frozenset(PSD_TO_DIBS[t] for t in types)
        found = dibs_hazards(ops) & COMPARED
        ignored = sorted(h.name for h in dibs_hazards(ops) - COMPARED)
        detail = "; ".join(o.describe() for o in ops)[:400]
        if ignored:
            detail = f"[not compared: {', '.join(ignored)}] {detail}"
        return Comparison(case.case_id, "compared", expected, found, detail)
    finally:
        for url in (url_a, url_b):
            server.drop_database(url)


def run_comparison(
    server: TestServer, cases: Sequence[tuple[DiffCase, list[str]]]
) -> list[Comparison]:
    _ensure_roles(server, [c for c, _ in cases])
    server.template()  # made once, before the threads race for it
    workers = int(os.environ.get("DIBS_EXTERNAL_WORKERS", "4"))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda ct: compare_case(server, *ct), cases))


def _names(hazards: Iterable[Hazard]) -> str:
    return "{" + ", ".join(sorted(h.name for h in hazards)) + "}"


def report(results: Sequence[Comparison]) -> tuple[int, int, str]:
    """Return (agreeing, compared, printable report)."""
    compared = [r for r in results if r.status == "compared"]
    agreeing = sum(r.agrees for r in compared)
    lines = [f"pg-schema-diff cases with expectedHazardTypes: {len(results)}"]
    for status, n in Counter(r.status for r in results).most_common():
        lines.append(f"    {n:4d}  {status}")
    lines.append("not compared:")
    lines += [f"    {r.case_id}: {r.status}: {r.detail}" for r in results if r.status != "compared"]
    lines.append("disagreements (expected = pg-schema-diff mapped, found = dibs):")
    differences: Counter[str] = Counter()
    for r in compared:
        if r.agrees:
            continue
        missing, extra = r.expected - r.found, r.found - r.expected
        differences.update([f"dibs lacks {h.name}" for h in missing])
        differences.update([f"dibs adds {h.name}" for h in extra])
        lines.append(
            f"    {r.case_id}: missing {_names(missing)} extra {_names(extra)} :: {r.detail}"
        )
    lines.append("differences, by class (a case may have several):")
    lines += [f"    {n:4d}  {d}" for d, n in differences.most_common()]
    pct = 100.0 * agreeing / len(compared) if compared else 0.0
    lines.append(f"hazard agreement with pg-schema-diff: {agreeing}/{len(compared)} = {pct:.1f} %")
    return agreeing, len(compared), "\n".join(lines)


@pytest.fixture(scope="module")
def comparison(dibs_server: TestServer) -> tuple[int, int]:
    cases = hazard_cases()
    if not cases:
        pytest.skip(f"pg-schema-diff corpus not found under {CASES_DIR}")
    results = run_comparison(dibs_server, cases)
    agreeing, compared, text = report(results)
    print("\n" + text)
    assert len(results) == len(cases)
    return agreeing, compared


def test_hazard_agreement_with_pg_schema_diff(comparison: tuple[int, int]) -> None:
    """Every case is classified, and agreement does not fall below the measured floor."""
    agreeing, compared = comparison
    assert compared, "no case could be compared"
    assert agreeing / compared >= FLOOR, f"agreement fell to {agreeing}/{compared}"


@pytest.mark.xfail(
    strict=True,
    reason="issue 3's target is not met: the remaining differences are plan differences "
    "and pg-schema-diff flagging brief ACCESS EXCLUSIVE locks (docs/diff.md)",
)
def test_hazard_agreement_reaches_target(comparison: tuple[int, int]) -> None:
    agreeing, compared = comparison
    assert agreeing / compared >= TARGET
