"""Order a diff's operations into an executable plan and prove it reaches the target.

Ordering comes only from the keys each operation declares (``creates``,
``drops``, ``requires``, ``releases``; see ``dibs.ops.base``):

* an op that requires a key runs after the ops creating it, or, when the key
  is only dropped (or the op is itself a drop and the key is being
  re-created), before the ops dropping it;
* an op that releases a key (stops using its old version) runs before its droppers;
* a key both dropped and created: the drop runs first;
* extensions are created before, and dropped after, everything else (which
  types an extension provides is not in the model);
* ops that merely alter the same column keep their diff order;
* indexes and keys of a partitioned table and of its partitions are ordered
  so that Postgres attaches a partition's index to the parent's exactly when
  the target has it so (``_partition_indexes``).

Ties are broken by the diff's order, so plans are deterministic. The plan is
then simulated on the source with each op's ``apply``; a result that differs
from the target is a bug in dibs and raises ``PlanError``.
"""

from __future__ import annotations

import graphlib
from collections import defaultdict
from collections.abc import Sequence

from dibs.errors import DibsError
from dibs.ops import (
    AddConstraint,
    AddPrimaryKey,
    AlterIndexStorage,
    CreateExtension,
    CreateIndex,
    CreateTable,
    DetachPartition,
    DropColumn,
    DropConstraint,
    DropExtension,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    Op,
    RenameIndex,
    RenameTable,
    SetComment,
    SetConstraintComment,
)
from dibs.ops.base import Key, index_key
from dibs.ops.tables import partition_parent, table_objects
from dibs.performance import gc_paused
from dibs.schema.model import Check, Exclusion, Schema, Unique
from dibs.schema.types import quote_ident

__all__ = ["PlanError", "UnsafePlan", "plan", "simulate"]


class PlanError(DibsError):
    """dibs produced a plan that does not reach the target: an internal error."""


class UnsafePlan(DibsError):
    """The plan would break an object dibs does not manage (a view, a trigger…)."""


def plan(ops: Sequence[Op], source: Schema, target: Schema) -> list[Op]:
    """Return ``ops`` in an order Postgres can execute, checked by simulation.

    Raises:
        UnsafePlan: an unmanaged object depends on a table the plan drops,
            renames or retypes.
        PlanError: the operations cannot be ordered or do not reach ``target``.
    """
    _check_unmanaged(ops, source)
    with gc_paused():
        ordered = [ops[i] for i in _order(ops, _existing_keys(source), target)]
        result = simulate(ordered, source)
    if result.managed() != target.normalized().managed():
        raise PlanError(
            "the planned operations do not turn the source schema into the target: "
            + _difference(result, target.normalized()),
            hint="this is a bug in dibs; please report it with both schemas",
        )
    return ordered


def simulate(ops: Sequence[Op], source: Schema) -> Schema:
    """Return ``source`` after applying ``ops`` in order to the model."""
    schema = source.normalized()
    for op in ops:
        try:
            schema = op.apply(schema)
        except (KeyError, ValueError, AssertionError) as exc:
            raise PlanError(
                f"cannot simulate {op.describe()!r}: {exc}",
                hint="this is a bug in dibs; please report it with both schemas",
            ) from exc
    return schema


def _existing_keys(schema: Schema) -> frozenset[Key]:
    """Keys of the objects in the source: they are dropped before being created again."""
    keys: set[Key] = {("schema", s) for s in schema.schemas}
    keys |= {("extension", e.name) for e in schema.extensions}
    keys |= {("type", e.schema, e.name) for e in schema.enums}
    keys |= {("relation", q.schema, q.name) for q in schema.sequences}
    for table in schema.tables:
        keys |= table_objects(table)
        keys |= {index_key(table.schema, i.name) for i in table.indexes}
    return frozenset(keys)


def _edges(ops: Sequence[Op], existing: frozenset[Key]) -> dict[int, set[int]]:
    """Return, for each op index, the indexes of the ops that must run before it.

    A key both dropped and created is dropped first (a rebuilt index), unless
    a rename brings a name in that is not in the source (a rename chain):
    the rename runs first.
    """
    creators: dict[Key, list[int]] = defaultdict(list)
    droppers: dict[Key, list[int]] = defaultdict(list)
    for i, op in enumerate(ops):
        for key in op.creates():
            creators[key].append(i)
        for key in op.drops():
            droppers[key].append(i)
    before: dict[int, set[int]] = {i: set() for i in range(len(ops))}
    for key in droppers.keys() & creators.keys():
        for d in droppers[key]:
            for c in creators[key]:
                if ops[c].moves and key not in existing:
                    before[d].add(c)  # a rename brings the name in, then it goes
                else:
                    before[c].add(d)  # the old object goes, then the new one comes
    for i, op in enumerate(ops):
        for key in op.requires():
            made, gone = creators.get(key, []), droppers.get(key, [])
            if op.removes:
                # A drop needs what exists now, never what this plan creates (a unique key
                # re-added after a type change must not hold back the drop of a foreign
                # key that the type change waits for); only a rename that brings the
                # name in comes first.
                before[i].update(c for c in made if ops[c].moves and key not in existing)
                for d in gone:
                    before[d].add(i)
            else:
                before[i].update(made)
        for key in op.releases():
            for d in droppers.get(key, []):
                before[d].add(i)
    _extensions_first(ops, before)
    _detaches_first(ops, before)
    _same_column_in_order(ops, before)
    for i in before:
        before[i].discard(i)
    return before


def _extensions_first(ops: Sequence[Op], before: dict[int, set[int]]) -> None:
    creates = [i for i, op in enumerate(ops) if isinstance(op, CreateExtension)]
    drops = [i for i, op in enumerate(ops) if isinstance(op, DropExtension)]
    for i, op in enumerate(ops):
        if isinstance(op, CreateExtension | DropExtension):
            continue
        if not any(k[0] == "schema" for k in op.creates()):
            before[i].update(creates)
        if not any(k[0] == "schema" for k in op.drops()):
            for d in drops:
                before[d].add(i)


def _detaches_first(ops: Sequence[Op], before: dict[int, set[int]]) -> None:
    """A partition leaves its tree before anything else changes: a column added to the
    parent must not reach it, and what follows is planned from the detached table."""
    detaches = [i for i, op in enumerate(ops) if isinstance(op, DetachPartition) and not before[i]]
    for i, op in enumerate(ops):
        if not isinstance(op, DetachPartition):
            before[i].update(detaches)


def _same_column_in_order(ops: Sequence[Op], before: dict[int, set[int]]) -> None:
    """Chain ops that alter one column without creating or dropping it, in diff order."""
    last: dict[Key, int] = {}
    for i, op in enumerate(ops):
        if op.creates() or op.drops():
            continue
        for key in op.requires():
            if key[0] == "column":
                if key in last:
                    before[i].add(last[key])
                last[key] = i


def _partition_indexes(ops: Sequence[Op], before: dict[int, set[int]], target: Schema) -> None:
    """Order index and key changes between a partitioned table and its partitions.

    Postgres attaches a partition's matching index to an index or key built
    on the parent, and a partition's index attached that way can neither be
    dropped nor stay the partition's own. So, for each index or key built on
    a partitioned table: the partitions' index and key drops run before it;
    the partitions (created) and their new keys run before a parent *index*
    (whose build then reuses the keys' indexes instead of adding duplicates);
    the partitions' new plain indexes and unique constraints run after it (a
    parent key would take a partition's unique constraint over).
    """
    partitioned = {(t.schema, t.name) for t in target.tables if t.partition_by is not None}
    on_parent: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, op in enumerate(ops):
        where = _table_of(op)
        if _builds_index(op) and where in partitioned:
            on_parent[where].append(i)
    if not on_parent:
        return
    parents = {(t.schema, t.name): partition_parent(t) for t in target.tables}
    for i, op in enumerate(ops):
        if isinstance(op, CreateTable):
            parent = partition_parent(op.table)
        else:
            where = _table_of(op)
            parent = parents.get(where) if where else None
        for p in on_parent.get(parent, []) if parent else []:
            if _drops_index(op):
                before[p].add(i)  # the partition's index or key goes first
            elif isinstance(op, CreateTable | AddPrimaryKey):
                if isinstance(ops[p], CreateIndex):
                    before[p].add(i)
            elif _builds_index(op):
                before[i].add(p)


def _partition_keys_after_parent(
    ops: Sequence[Op], before: dict[int, set[int]], target: Schema
) -> None:
    """A new primary key in a partition tree waits for the tree's keys to go.

    A partitioned table's key is inherited by every partition, and a
    partition has one key at most ("multiple primary keys are not allowed"):
    a key added anywhere in a tree waits for the primary keys dropped in it,
    on their own or with a column (a dropped column takes the keys of the
    partitions along).
    """
    adds = [(i, op) for i, op in enumerate(ops) if isinstance(op, AddPrimaryKey)]
    if not adds:
        return
    root: dict[tuple[str, str], tuple[str, str]] = {}
    parents = {(t.schema, t.name): partition_parent(t) for t in target.tables}
    for key in parents:
        top = key
        while (up := parents.get(top)) is not None:
            top = up
        root[key] = top
    drops: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, op in enumerate(ops):
        if isinstance(op, DropPrimaryKey | DropColumn):
            where = (op.schema, op.table)
            drops[root.get(where, where)].append(i)
    in_tree = {
        (t.schema, t.name)
        for t in target.tables
        if t.partition_by is not None or t.partition_of is not None
    }
    for i, op in adds:
        where = (op.schema, op.table)
        if where in in_tree:
            before[i].update(drops.get(root.get(where, where), []))


def _table_of(op: Op) -> tuple[str, str] | None:
    if isinstance(op, CreateIndex | DropIndex | AddPrimaryKey | DropPrimaryKey):
        return (op.schema, op.table)
    if isinstance(op, AddConstraint | DropConstraint):
        return (op.schema, op.table)
    return None


def _drops_index(op: Op) -> bool:
    """An index, primary key, unique or exclusion constraint is dropped."""
    if isinstance(op, DropIndex | DropPrimaryKey):
        return True
    return isinstance(op, DropConstraint) and isinstance(op.constraint, Unique | Exclusion)


def _builds_index(op: Op) -> bool:
    """An index, primary key, unique or exclusion constraint is created."""
    if isinstance(op, CreateIndex | AddPrimaryKey):
        return True
    return isinstance(op, AddConstraint) and isinstance(op.constraint, Unique | Exclusion)


def _order(ops: Sequence[Op], existing: frozenset[Key], target: Schema) -> list[int]:
    edges = _edges(ops, existing)
    _partition_indexes(ops, edges, target)
    _partition_keys_after_parent(ops, edges, target)
    sorter = graphlib.TopologicalSorter(edges)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(ops[i].describe() for i in exc.args[1])
        raise PlanError(
            f"the operations depend on each other in a cycle: {cycle}",
            hint="this is a bug in dibs; please report it with both schemas",
        ) from exc
    order: list[int] = []
    ready: list[int] = []
    while sorter.is_active():
        ready = sorted([*ready, *sorter.get_ready()])
        node = ready.pop(0)
        order.append(node)
        sorter.done(node)
    return order


# Operations that leave table inheritance alone: indexes, keys and foreign keys
# are not inherited, comments are the table's own.
_INHERITANCE_NEUTRAL = (
    CreateIndex,
    DropIndex,
    RenameIndex,
    AlterIndexStorage,
    SetComment,
    SetConstraintComment,
    AddPrimaryKey,
    DropPrimaryKey,
)


def _op_table(op: Op) -> str | None:
    """The table an operation changes, as ``schema.table`` (quoted), if it names one."""
    if isinstance(op, CreateTable | DropTable | RenameTable):
        return f"{quote_ident(op.table.schema)}.{quote_ident(op.table.name)}"
    schema, table = getattr(op, "schema", None), getattr(op, "table", None)
    if isinstance(schema, str) and isinstance(table, str):
        return f"{quote_ident(schema)}.{quote_ident(table)}"
    return None


def _inheritance_touched(op: Op) -> str | None:
    """The table whose inherited shape ``op`` may change (columns, checks, the table)."""
    if isinstance(op, _INHERITANCE_NEUTRAL):
        return None
    constraint = getattr(op, "constraint", None)
    if constraint is not None and not isinstance(constraint, Check):
        return None  # unique, foreign key, exclusion: not inherited
    return _op_table(op)


def _check_unmanaged(ops: Sequence[Op], source: Schema) -> None:
    touched: dict[str, Op] = {}
    for op in ops:
        for schema, table in op.rewrites_tables():
            touched.setdefault(f"{quote_ident(schema)}.{quote_ident(table)}", op)
    inherited: dict[str, Op] = dict(touched)  # a rewrite reaches inheriting tables too
    for op in ops:
        if (name := _inheritance_touched(op)) is not None:
            inherited.setdefault(name, op)
    for obj in source.unmanaged:
        if obj.kind != "table inheritance":
            continue
        child = f"{quote_ident(obj.schema)}.{quote_ident(obj.name)}"
        for name in (child, *obj.depends_on):
            if name in inherited:
                raise UnsafePlan(
                    f"table {child} inherits from {', '.join(obj.depends_on)} (INHERITS), "
                    f"which dibs does not manage, and the plan changes {name} "
                    f"({inherited[name].describe()}): Postgres would pass the change on "
                    "along the inheritance, or refuse it",
                    hint="make this change in a hand-written migration (`dibs generate "
                    "--empty`); dibs still plans indexes, keys, foreign keys and comments of "
                    "these tables, and everything else",
                )
    for obj in source.unmanaged:
        for dep in obj.depends_on:
            if dep in touched:
                raise UnsafePlan(
                    f"{obj.kind} {obj.schema}.{obj.name} depends on {dep}, which the plan "
                    f"changes ({touched[dep].describe()})",
                    hint=f"drop the {obj.kind} in a migration before this one and re-create "
                    "it after, or keep the table as it is",
                )


def _difference(result: Schema, target: Schema) -> str:
    """Name the first objects that differ, to make the internal error actionable."""
    parts: list[str] = []
    res = {t.key: t for t in result.tables}
    tgt = {t.key: t for t in target.tables}
    for key in sorted(res.keys() | tgt.keys()):
        if res.get(key) != tgt.get(key):
            parts.append(f"table {key[0]}.{key[1]}: got {res.get(key)!r}, want {tgt.get(key)!r}")
    for name in ("enums", "sequences", "extensions", "schemas", "domains"):
        if getattr(result, name) != getattr(target, name):
            parts.append(f"{name}: got {getattr(result, name)!r}, want {getattr(target, name)!r}")
    return "; ".join(parts[:3]) or "(no visible difference)"
