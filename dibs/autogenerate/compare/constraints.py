"""Compare primary keys, constraints and indexes of one table, by definition.

Objects are matched by name; a changed definition (check expression key, FK
action or columns, index keys…) is a drop and an add. An object that only
changed its name (a table or column rename changes the name Postgres would
pick) is renamed instead. Objects on a column that is dropped and re-added
are always re-created: Postgres dropped them with the column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from dibs.ops import (
    AddConstraint,
    AddPrimaryKey,
    AlterIndexStorage,
    CreateIndex,
    DropConstraint,
    DropIndex,
    DropPrimaryKey,
    Op,
    RenameConstraint,
    RenameIndex,
    SetComment,
    SetConstraintComment,
    ValidateConstraint,
)
from dibs.ops.constraints import Constraint, constraint_columns, index_columns
from dibs.schema.model import Check, Exclusion, ForeignKey, Index, Table, Unique

__all__ = ["compare_constraints", "compare_indexes"]

T = TypeVar("T", Constraint, Index)


def _pair(
    olds: Sequence[T], news: Sequence[T], stale: Callable[[T], bool]
) -> tuple[list[T], list[T], list[tuple[T, T]]]:
    """Split into (dropped, added, renamed (old, new)) lists."""
    old_by = {o.name: o for o in olds}
    new_by = {n.name: n for n in news}
    dropped = [o for o in olds if o.name not in new_by or o != new_by[o.name] or stale(o)]
    added = [n for n in news if n.name not in old_by or n != old_by[n.name] or stale(n)]
    renamed: list[tuple[T, T]] = []
    for new in list(added):
        if new.name in old_by or stale(new):
            continue
        for old in dropped:
            if old.name not in new_by and replace(old, name=new.name) == new:
                renamed.append((old, new))
                dropped.remove(old)
                added.remove(new)
                break
    return dropped, added, renamed


def compare_constraints(old: Table, new: Table, replaced: set[str]) -> list[Op]:
    """Return the operations that turn ``old``'s primary key and constraints into ``new``'s.

    Comments are compared on their own (``COMMENT ON CONSTRAINT``): a changed
    comment is never a drop and re-add.
    """
    s, t = new.schema, new.name

    def stale(con: Constraint) -> bool:
        return bool(replaced & set(constraint_columns(con)))

    ops: list[Op] = _compare_primary_key(old, new, replaced)
    sources: dict[str, Constraint] = {c.name: c for c in _constraints(old)}
    targets: dict[str, Constraint] = {c.name: c for c in _constraints(new)}
    olds: list[Constraint] = [_bare(c) for c in sources.values()]
    news: list[Constraint] = [_bare(c) for c in targets.values()]
    validated = _validated(olds, news, stale)
    ops += [
        ValidateConstraint(s, t, replace(c, comment=targets[c.name].comment)) for c in validated
    ]
    names = {c.name for c in validated}
    olds = [c for c in olds if c.name not in names]
    news = [c for c in news if c.name not in names]
    dropped, added, renamed = _pair(olds, news, stale)
    ops += [DropConstraint(s, t, sources[c.name]) for c in dropped]
    ops += [
        RenameConstraint(s, t, o.name, n.name, has_index=isinstance(o, Unique | Exclusion))
        for o, n in renamed
    ]
    partitioned = new.partition_by is not None
    tree = partitioned or new.partition_of is not None
    ops += [
        AddConstraint(s, t, targets[c.name], partitioned=partitioned, in_partition_tree=tree)
        for c in added
    ]
    # What each constraint's comment is once the others ran: added ones carry theirs.
    current = {name: c.comment for name, c in sources.items()}
    current.update({n.name: current.get(o.name) for o, n in renamed})
    current.update({c.name: targets[c.name].comment for c in added})
    ops += [
        SetConstraintComment(s, t, name, con.comment)
        for name, con in targets.items()
        if current.get(name) != con.comment
    ]
    return ops


def _constraints(table: Table) -> list[Constraint]:
    return [*table.uniques, *table.foreign_keys, *table.checks, *table.exclusions]


def _bare(con: Constraint) -> Constraint:
    return replace(con, comment=None) if con.comment is not None else con


def _validated(
    olds: list[Constraint], news: list[Constraint], stale: Callable[[Constraint], bool]
) -> list[Check | ForeignKey]:
    """The NOT VALID checks and foreign keys that the target declares valid, unchanged else.

    Those are validated in place; any other difference is a drop and re-add.
    """
    before = {c.name: c for c in olds if isinstance(c, Check | ForeignKey) and c.not_valid}
    out: list[Check | ForeignKey] = []
    for con in news:
        old = before.get(con.name)
        if (
            old is not None
            and isinstance(con, Check | ForeignKey)
            and not con.not_valid
            and not stale(old)
            and replace(old, not_valid=False) == con
        ):
            out.append(con)
    return out


def _compare_primary_key(old: Table, new: Table, replaced: set[str]) -> list[Op]:
    s, t = new.schema, new.name
    before, after = old.primary_key, new.primary_key
    if before is not None and replaced & set(before.columns):
        before = None  # dropped by Postgres with the column
    if before is not None and after is not None:
        bare = replace(before, name=after.name, comment=after.comment)
        if bare == after:
            ops: list[Op] = []
            if before.name != after.name:
                ops.append(RenameConstraint(s, t, before.name, after.name, has_index=True))
            if before.comment != after.comment:
                ops.append(SetConstraintComment(s, t, after.name, after.comment))
            return ops
    if before == after:
        return []
    ops = []
    if before is not None:
        ops.append(DropPrimaryKey(s, t, before))
    if after is not None:
        tree = new.partition_by is not None or new.partition_of is not None
        ops.append(AddPrimaryKey(s, t, after, in_partition_tree=tree))
    return ops


def compare_indexes(old: Table, new: Table, replaced: set[str]) -> list[Op]:
    """Return the operations that turn ``old``'s indexes into ``new``'s (and their comments)."""
    s, t = new.schema, new.name

    def stale(index: Index) -> bool:
        return bool(replaced & set(index_columns(index)))

    # Comments and storage parameters are compared on their own: neither is a rebuild.
    def bare(indexes: tuple[Index, ...]) -> list[Index]:
        return [replace(i, comment=None, storage=()) for i in indexes]

    dropped, added, renamed = _pair(bare(old.indexes), bare(new.indexes), stale)
    targets = {i.name: i for i in new.indexes}
    ops: list[Op] = [DropIndex(s, t, i) for i in dropped]
    ops += [RenameIndex(s, t, o.name, n.name) for o, n in renamed]
    ops += [CreateIndex(s, t, targets[i.name]) for i in added]
    storage = {i.name: i.storage for i in old.indexes}
    storage.update({n.name: storage.get(o.name, ()) for o, n in renamed})
    storage.update({i.name: targets[i.name].storage for i in added})
    for index in new.indexes:
        if storage.get(index.name, ()) != index.storage:
            ops.append(AlterIndexStorage(s, t, index.name, storage[index.name], index.storage))
    current = {i.name: i.comment for i in old.indexes}
    current.update({n.name: current.get(o.name) for o, n in renamed})
    current.update({i.name: targets[i.name].comment for i in added})
    for index in new.indexes:
        if current.get(index.name) != index.comment:
            ops.append(SetComment("index", s, index.name, index.comment))
    return ops
