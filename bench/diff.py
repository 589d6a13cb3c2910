"""Benchmark: from two live databases to migration SQL, dibs against migra.

Database A holds the generated schema of ``bench/introspect.py`` (``--tables``
tables with 10 columns, 2 indexes, a check and a foreign key each); B is a copy
with about 5% of its objects changed: columns added, dropped and widened,
defaults and nullability changed, checks rewritten, indexes dropped and added,
foreign key actions changed.

Timed, median of ``--runs`` after a warm-up, connections opened beforehand:

* dibs end to end: introspect A and B (side by side, as ``dibs diff --from
  --to`` does), ``diff``, ``plan``, render (with
  pglast validation of every statement); and the diff + plan + render part alone;
* migra end to end: ``Migration(A, B)`` (its schemainspect reads both),
  ``add_all_changes()``, ``sql``.

Usage::

    .venv/bin/python bench/diff.py [--url ADMIN_URL] [--runs 5] [--tables 1000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from introspect import build_generated, database, server  # type: ignore[import-not-found]  # noqa: E402

from dibs.autogenerate import CannedQuestioner, diff  # noqa: E402
from dibs.planner import plan  # noqa: E402
from dibs.postgres.introspect import introspect, introspect_all  # noqa: E402
from dibs.render.alter import render_plan  # noqa: E402
from dibs.schema.model import Schema  # noqa: E402


def changes(tables: int, share: float, seed: int = 7) -> Iterator[sql.Composed]:
    """ALTER statements touching about ``share`` of the objects (11 per table)."""
    rng = random.Random(seed)
    objects = tables * 11
    picked = rng.sample(range(tables), k=max(1, round(objects * share)) // 2)
    for i in picked:
        t = sql.Identifier(f"t{i:04d}")
        kind = rng.randrange(8)
        if kind == 0:
            yield sql.SQL("ALTER TABLE {} ADD COLUMN note text").format(t)
            yield sql.SQL("ALTER TABLE {} ADD COLUMN rank integer NOT NULL DEFAULT 0").format(t)
        elif kind == 1:
            yield sql.SQL("ALTER TABLE {} DROP COLUMN tags").format(t)
            yield sql.SQL("ALTER TABLE {} ALTER COLUMN code TYPE varchar(64)").format(t)
        elif kind == 2:
            yield sql.SQL("ALTER TABLE {} ALTER COLUMN title DROP DEFAULT").format(t)
            yield sql.SQL("ALTER TABLE {} ALTER COLUMN payload SET NOT NULL").format(t)
        elif kind == 3:
            yield sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                t, sql.Identifier(f"t{i:04d}_amount_check")
            )
            yield sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (amount > 0)").format(
                t, sql.Identifier(f"t{i:04d}_amount_check")
            )
        elif kind == 4:
            yield sql.SQL("DROP INDEX {}").format(sql.Identifier(f"t{i:04d}_parent_id_idx"))
            yield sql.SQL("CREATE INDEX ON {} (active, created_at)").format(t)
        elif kind == 5 and i > 0:
            fk = sql.Identifier(f"t{i:04d}_parent_id_fkey")
            yield sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(t, fk)
            yield sql.SQL(
                "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY (parent_id) REFERENCES {} (id)"
                " ON DELETE SET NULL"
            ).format(t, fk, sql.Identifier(f"t{i - 1:04d}"))
        elif kind == 6:
            yield sql.SQL("ALTER TABLE {} ALTER COLUMN amount TYPE numeric(14, 2)").format(t)
            yield sql.SQL("COMMENT ON TABLE {} IS 'changed'").format(t)
        else:
            yield sql.SQL("ALTER TABLE {} ALTER COLUMN updated_at TYPE timestamptz").format(t)
            yield sql.SQL("ALTER TABLE {} ADD COLUMN flags smallint").format(t)


def median(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dibs_sql(a: Schema, b: Schema) -> list[str]:
    ops = diff(a.managed(), b.managed(), questioner=CannedQuestioner(default=False))
    return render_plan(plan(ops, a, b.managed()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="admin URL of a server to create databases on")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.05)
    args = parser.parse_args()
    with server(args.url) as admin:
        url_a, url_b = database(admin, "diff_a"), database(admin, "diff_b")
        build_generated(url_a, args.tables)
        build_generated(url_b, args.tables)
        with psycopg.connect(url_b, autocommit=True) as conn, conn.transaction():
            altered = 0
            for stmt in changes(args.tables, args.share):
                conn.execute(stmt)
                altered += 1
        with (
            psycopg.connect(url_a, autocommit=True) as ca,
            psycopg.connect(url_b, autocommit=True) as cb,
        ):
            a, b = introspect(ca), introspect(cb)
            statements = dibs_sql(a, b)
            # Proof the plan is right: apply it to a scratch copy of A.
            check_url = database(admin, "diff_check")
            build_generated(check_url, args.tables)
            with psycopg.connect(check_url, autocommit=True) as cc:
                with cc.transaction():
                    for stmt in statements:
                        cc.execute(stmt.encode())
                assert introspect(cc).managed() == b.managed(), "dibs's plan did not reach B"
            part = median(lambda: dibs_sql(a, b), args.runs)
            whole = median(lambda: dibs_sql(*introspect_all([ca, cb])), args.runs)
        migra_t, migra_n = time_migra(url_a, url_b, args.runs)
    print(
        f"{args.tables} tables, {altered} ALTER statements on B; dibs plan: "
        f"{len(statements)} statements (applied to a copy of A: reaches B); "
        f"migra: {migra_n} statements"
    )
    print(f"{'step':<40}{'median':>10}{'migra/dibs':>12}")
    print(f"{'dibs diff + plan + render':<40}{part * 1000:>8.0f}ms")
    label = "dibs end to end (introspect A and B)"
    print(f"{label:<40}{whole * 1000:>8.0f}ms{migra_t / whole:>11.1f}x")
    print(f"{'migra end to end':<40}{migra_t * 1000:>8.0f}ms")


def time_migra(url_a: str, url_b: str, runs: int) -> tuple[float, int]:
    import sqlalchemy as sa
    from migra import Migration  # type: ignore[import-untyped]

    ea = sa.create_engine(url_a.replace("postgresql://", "postgresql+psycopg://", 1))
    eb = sa.create_engine(url_b.replace("postgresql://", "postgresql+psycopg://", 1))
    counts: list[int] = []
    with ea.connect() as ca, eb.connect() as cb:

        def run() -> None:
            m: Any = Migration(ca, cb)
            m.set_safety(False)
            m.add_all_changes()
            counts.append(len(m.statements))

        result = median(run, runs)
    ea.dispose()
    eb.dispose()
    return result, counts[-1]


if __name__ == "__main__":
    main()
