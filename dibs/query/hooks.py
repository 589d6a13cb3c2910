"""Per-table hooks around create, update and delete, and after-commit callbacks.

Register with decorators (the roadmap's ``orders => before_create: validate;
after_create: send e-mail``)::

    @dibs.hooks.before_create(Order)
    def validate(order: Order, ctx: HookContext) -> None:
        if order.total <= 0:
            raise ValidationError(fields={"total": "must be positive"})

    @dibs.hooks.after_commit_create(Order)
    def send_email(order: Order, ctx: HookContext) -> None: ...

Semantics, the same on sync and async connections (hooks may be ``async def``
on async ones) and for the typed and the dynamic (admin) API:

* **before** hooks run per row before any SQL of the statement. They may change
  the row (in place, or by returning a new one) or raise ``ValidationError``:
  then nothing is written, for any row of the statement.
* **after** hooks run per row, in the same transaction, with the row as the
  database returned it (``RETURNING``: identity, defaults, generated columns);
  an exception rolls the whole statement back.
* **after-commit** hooks are queued and run only once the transaction commits,
  never after a rollback (``transactions.py`` says when dibs learns of a commit).
* A statement with hooks runs atomically: in its own transaction on an
  autocommit connection, in a savepoint inside a caller's transaction.
* Multi-row INSERT: before hooks per row, then one INSERT with every row, then
  after hooks per returned row. With ``ON CONFLICT DO NOTHING`` skipped rows
  get no after hooks; with ``DO UPDATE`` the updated rows count as created.
* Set-based UPDATE: without before hooks, one UPDATE whose ``RETURNING`` rows
  feed the after hooks (``ctx.old`` comes from a ``SELECT … FOR UPDATE`` of the
  same rows first). With before hooks, the rows are locked and read, each is
  shown to the hooks as it will be and written with its own UPDATE by key.
* Set-based DELETE: before hooks see each locked row; one DELETE whose
  ``RETURNING`` rows feed the after hooks.
* ``.without_hooks()`` on a statement skips every hook (bulk maintenance);
  ``raw_sql`` never runs hooks.

``HookContext`` carries the connection (run further SQL in the same
transaction), the acting user and the origin (``"application"``, or
``"admin"`` for writes made through the admin).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

__all__ = [
    "HookContext",
    "Origin",
    "after_commit_create",
    "after_commit_delete",
    "after_commit_update",
    "after_create",
    "after_delete",
    "after_update",
    "before_create",
    "before_delete",
    "before_update",
    "clear",
    "hooks_for",
]

R = TypeVar("R")
Origin = Literal["application", "admin"]
Event = Literal[
    "before_create",
    "after_create",
    "after_commit_create",
    "before_update",
    "after_update",
    "after_commit_update",
    "before_delete",
    "after_delete",
    "after_commit_delete",
]


@dataclass(frozen=True, slots=True)
class HookContext:
    """What a hook knows besides the row: the connection, who acts, from where.

    ``old`` is the row before an update (``None`` for create and delete).
    """

    conn: Any
    actor: Any
    origin: Origin
    table: str
    event: str
    old: Any = None


Hook = Callable[[Any, HookContext], Any]
# A before hook returns the row to write (or ``None``: the row it was given, maybe
# changed in place); an after hook's result is ignored. Either may be ``async def``
# when statements run on an async connection.
BeforeHook = Callable[[R, HookContext], R | Awaitable[R | None] | None]
AfterHook = Callable[[R, HookContext], Awaitable[None] | None]
F = TypeVar("F", bound=Callable[..., Any])
_HOOKS: dict[tuple[str, str], dict[str, list[Hook]]] = {}


def _key(table: Any) -> tuple[str, str]:
    """(schema, table) of a table class or a ``"schema.table"`` / ``"table"`` string."""
    if isinstance(table, str):
        schema, _, name = table.rpartition(".")
        return (schema or "public", name)
    from dibs.schema import markers as m
    from dibs.schema.declare_columns import snake_case

    spec = getattr(table, "__dibs_table__", None)
    if not isinstance(spec, m.TableSpec):
        raise TypeError(f"{table!r} is not a @dibs.table class or a table name")
    return (spec.schema, spec.name or snake_case(spec.cls.__name__))


def _register(event: Event, table: Any) -> Callable[[F], F]:
    key = _key(table)

    def decorator(fn: F) -> F:
        _HOOKS.setdefault(key, {}).setdefault(event, []).append(fn)
        return fn

    return decorator


def hooks_for(key: tuple[str, str], event: str) -> list[Hook]:
    """The hooks registered for a table and event, in registration order."""
    found = _HOOKS.get(key)
    return found.get(event, []) if found else []


def has_hooks(key: tuple[str, str], kind: str) -> bool:
    """Whether any hook of a kind (``create``, ``update``, ``delete``) exists for a table."""
    found = _HOOKS.get(key)
    if not found:
        return False
    return any(found.get(f"{p}_{kind}") for p in ("before", "after", "after_commit"))


def clear() -> None:
    """Forget every hook (tests)."""
    _HOOKS.clear()


def before_create(table: type[R] | str) -> Callable[[BeforeHook[R]], BeforeHook[R]]:
    """Run before each row is inserted; return the (changed) row or raise ValidationError."""
    return _register("before_create", table)


def after_create(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run after each row is inserted, in the same transaction, with the returned row."""
    return _register("after_create", table)


def after_commit_create(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run once the transaction that inserted the row has committed (e-mail, queues)."""
    return _register("after_commit_create", table)


def before_update(table: type[R] | str) -> Callable[[BeforeHook[R]], BeforeHook[R]]:
    """Run before each row is updated with the new row (``ctx.old`` is the old one)."""
    return _register("before_update", table)


def after_update(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run after each row is updated, in the same transaction (``ctx.old``: the row before)."""
    return _register("after_update", table)


def after_commit_update(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run once the transaction that updated the row has committed."""
    return _register("after_commit_update", table)


def before_delete(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run before each row is deleted; raise ValidationError to refuse."""
    return _register("before_delete", table)


def after_delete(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run after each row is deleted, in the same transaction, with the deleted row."""
    return _register("after_delete", table)


def after_commit_delete(table: type[R] | str) -> Callable[[AfterHook[R]], AfterHook[R]]:
    """Run once the transaction that deleted the row has committed."""
    return _register("after_commit_delete", table)
