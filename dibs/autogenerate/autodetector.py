"""Turn two schemas into the operations between them: ``diff(source, target)``.

Renames are settled first (hints, then candidates put to the questioner) and
applied to the source with the rename operations' own ``apply``; everything
after that compares the renamed source with the target by name. The output is
in a readable order, not an executable one: ``planner.plan`` orders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dibs.autogenerate.compare import (
    compare_domains,
    compare_enums,
    compare_sequences,
    compare_tables,
)
from dibs.autogenerate.compare.types import enum_type_name
from dibs.autogenerate.questioner import Questioner, RenameDecisionRequired
from dibs.autogenerate.renames import (
    RenameCandidate,
    column_candidates,
    column_hints,
    table_candidates,
    table_hints,
)
from dibs.ops import (
    AddConstraint,
    AlterColumnType,
    CreateExtension,
    CreateSchema,
    DropConstraint,
    DropExtension,
    DropIndex,
    DropPrimaryKey,
    DropSchema,
    Op,
    RenameColumn,
    RenameTable,
    ValidateConstraint,
)
from dibs.ops.base import index_unique_columns
from dibs.performance import gc_paused
from dibs.schema.model import ForeignKey, Schema, Table, Unique

__all__ = ["diff"]


def diff(source: Schema, target: Schema, *, questioner: Questioner) -> list[Op]:
    """Return the operations that turn ``source`` into ``target`` (unordered; see ``plan``).

    Raises:
        RenameDecisionRequired: the questioner could not decide on some renames
            (every undecided candidate is listed).
    """
    with gc_paused():
        return _diff(source.normalized(), target.normalized(), questioner)


def _diff(source: Schema, target: Schema, questioner: Questioner) -> list[Op]:
    renames = _resolve_renames(source, target, questioner)
    renamed = source
    for op in renames:
        renamed = op.apply(renamed)
    # Both sides' enums: a column may leave an enum the target drops.
    enum_types = frozenset(enum_type_name(e) for e in (*renamed.enums, *target.enums))
    ops: list[Op] = [CreateSchema(s) for s in target.schemas if s not in source.schemas]
    old_ext = {e.name: e for e in source.extensions}
    new_ext = {e.name: e for e in target.extensions}
    for name, ext in new_ext.items():
        if old_ext.get(name) != ext:
            if name in old_ext:
                ops.append(DropExtension(old_ext[name]))
            ops.append(CreateExtension(ext))
    ops += renames
    ops += compare_enums(renamed, target)
    ops += compare_sequences(renamed, target)
    ops += compare_domains(renamed, target)
    # Both sides' domains by type name, with their base types (how a column converts).
    domains = {enum_type_name(d): d.type for d in (*renamed.domains, *target.domains)}
    ops += compare_tables(renamed, target, enum_types, domains)
    ops = _rebind_foreign_keys(ops, renamed, target)
    ops += [DropExtension(e) for n, e in old_ext.items() if n not in new_ext]
    ops += [DropSchema(s) for s in source.schemas if s not in target.schemas]
    return ops


def _rebind_foreign_keys(ops: list[Op], source: Schema, target: Schema) -> list[Op]:
    """Return ``ops`` with foreign keys re-created whose referenced unique key is dropped.

    Postgres binds a foreign key to the very index it was created against
    (``pg_constraint.conindid``), not to "some unique key on these columns":
    dropping that index fails while the key exists, even when another unique
    key on the same columns replaces it (a unique constraint turned into the
    primary key). So such a key is dropped first and added again (validated,
    so a pending ``VALIDATE`` of it is dropped) once the new unique key exists;
    the planner orders both around it.
    """
    gone: set[tuple[str, str, frozenset[str]]] = set()
    dropped_fks: set[tuple[str, str, str]] = set()
    # Keys and foreign keys around a type change are the type change's business (it
    # drops and re-adds what reads the column); leave those to it.
    retyped = {(op.schema, op.table, op.column) for op in ops if isinstance(op, AlterColumnType)}
    for op in ops:
        if isinstance(op, DropConstraint) and isinstance(op.constraint, ForeignKey):
            dropped_fks.add((op.schema, op.table, op.constraint.name))
            continue
        if isinstance(op, DropConstraint) and isinstance(op.constraint, Unique):
            columns: tuple[str, ...] | None = op.constraint.columns
        elif isinstance(op, DropPrimaryKey):
            columns = op.primary_key.columns
        elif isinstance(op, DropIndex):
            columns = index_unique_columns(op.index)
        else:
            continue
        if columns:
            gone.add((op.schema, op.table, frozenset(columns)))
    if not gone:
        return ops
    extra: list[Op] = []
    rebound: set[tuple[str, str, str]] = set()
    for table in target.tables:
        old = source.table(table.name, table.schema)
        if old is None:
            continue
        before = {fk.name: fk for fk in old.foreign_keys}
        s, t = table.key
        for fk in table.foreign_keys:
            old_fk = before.get(fk.name)
            if old_fk is None or (s, t, fk.name) in dropped_fks:
                continue  # new, or already dropped and added
            touched = {(s, t, c) for c in fk.columns}
            touched |= {(old_fk.ref_schema, old_fk.ref_table, c) for c in old_fk.ref_columns}
            if touched & retyped:
                continue
            if (old_fk.ref_schema, old_fk.ref_table, frozenset(old_fk.ref_columns)) in gone:
                partitioned = table.partition_by is not None
                extra += [
                    DropConstraint(s, t, old_fk),
                    AddConstraint(s, t, fk, partitioned=partitioned),
                ]
                rebound.add((s, t, fk.name))
    kept = [
        op
        for op in ops
        if not (
            isinstance(op, ValidateConstraint)
            and (op.schema, op.table, op.constraint.name) in rebound
        )
    ]
    return kept + extra


@dataclass
class _Decisions:
    """Asks the questioner, collecting candidates it defers instead of stopping at the first."""

    questioner: Questioner
    deferred: list[RenameCandidate] = field(default_factory=list)

    def ask(self, candidate: RenameCandidate) -> bool:
        try:
            return self.questioner.ask_rename(candidate)
        except RenameDecisionRequired as exc:
            self.deferred.extend(exc.candidates)
            return False


def _resolve_renames(source: Schema, target: Schema, questioner: Questioner) -> list[Op]:
    """Settle table renames, then column renames inside every table kept or renamed."""
    decisions = _Decisions(questioner)
    pairs = table_hints(source, target)
    taken_old = {o.key for o, _ in pairs}
    taken_new = {n.key for _, n in pairs}
    olds = [t for t in source.tables if target.table(t.name, t.schema) is None]
    news = [t for t in target.tables if source.table(t.name, t.schema) is None]
    for cand in table_candidates(
        [t for t in olds if t.key not in taken_old], [t for t in news if t.key not in taken_new]
    ):
        old_key, new_key = (cand.schema, cand.old), (cand.schema, cand.new)
        if old_key in taken_old or new_key in taken_new or not decisions.ask(cand):
            continue
        old, new = source.table(cand.old, cand.schema), target.table(cand.new, cand.schema)
        assert old is not None and new is not None
        pairs.append((old, new))
        taken_old.add(old_key)
        taken_new.add(new_key)
    ops: list[Op] = [RenameTable(o, n.schema, n.name) for o, n in pairs]
    renamed_from = {n.key: o for o, n in pairs}
    for new in target.tables:
        old = renamed_from.get(new.key) or source.table(new.name, new.schema)
        if old is not None:
            ops += _column_renames(old, new, decisions)
    if decisions.deferred:
        raise RenameDecisionRequired(decisions.deferred)
    return ops


def _column_renames(old: Table, new: Table, decisions: _Decisions) -> list[Op]:
    s, t = new.schema, new.name
    pairs = column_hints(old, new)
    new_names = {c.name for c in new.columns}
    old_names = {c.name for c in old.columns}
    removed = [c for c in old.columns if c.name not in new_names and c.name not in dict(pairs)]
    taken_new = {n for _, n in pairs}
    added = [c for c in new.columns if c.name not in old_names and c.name not in taken_new]
    taken_old: set[str] = set()
    for cand in column_candidates(new, removed, added):
        if cand.old in taken_old or cand.new in taken_new or not decisions.ask(cand):
            continue
        pairs.append((cand.old, cand.new))
        taken_old.add(cand.old)
        taken_new.add(cand.new)
    return [RenameColumn(s, t, o, n) for o, n in pairs]
