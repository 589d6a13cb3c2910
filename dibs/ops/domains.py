"""Operations on domains: create, drop, and change default, NOT NULL, checks and comment.

A domain is a type: columns use it by name, so its key is the same ``type``
key enums have and the planner orders columns after the domain they use.
Changing a domain's base type or collation in place is not something
Postgres offers (``ALTER DOMAIN`` has no ``TYPE``); the diff refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dibs.ops.base import Hazard, Key, Op, schema_key, type_keys
from dibs.schema.model import Domain, Schema

__all__ = ["AlterDomain", "CreateDomain", "DropDomain"]


def _domain_key(domain: Domain) -> Key:
    return ("type", domain.schema, domain.name)


def _qualified(domain: Domain) -> str:
    return domain.name if domain.schema == "public" else f"{domain.schema}.{domain.name}"


def _replace_domain(schema: Schema, key: tuple[str, str], domain: Domain | None) -> Schema:
    domains = [d for d in schema.domains if d.key != key]
    if domain is not None:
        domains.append(domain)
    return replace(schema, domains=tuple(domains)).normalized()


@dataclass(frozen=True, slots=True)
class CreateDomain(Op):
    domain: Domain

    def describe(self) -> str:
        return f"create domain {_qualified(self.domain)} as {self.domain.type}"

    def apply(self, schema: Schema) -> Schema:
        return _replace_domain(schema, self.domain.key, self.domain)

    def creates(self) -> frozenset[Key]:
        return frozenset({_domain_key(self.domain)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.domain.schema) | (
            type_keys(self.domain.type) - {_domain_key(self.domain)}
        )


@dataclass(frozen=True, slots=True)
class DropDomain(Op):
    domain: Domain
    removes = True

    def describe(self) -> str:
        return f"drop domain {_qualified(self.domain)}"

    def apply(self, schema: Schema) -> Schema:
        return _replace_domain(schema, self.domain.key, None)

    def drops(self) -> frozenset[Key]:
        return frozenset({_domain_key(self.domain)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.domain.schema)


@dataclass(frozen=True, slots=True)
class AlterDomain(Op):
    """``ALTER DOMAIN``: default, NOT NULL, checks (dropped and added by name), comment."""

    old: Domain
    new: Domain

    @property
    def dropped_checks(self) -> tuple[str, ...]:
        kept = set(self.new.checks)
        return tuple(c.name for c in self.old.checks if c not in kept)

    @property
    def added_checks(self) -> tuple[str, ...]:
        had = set(self.old.checks)
        return tuple(c.name for c in self.new.checks if c not in had)

    @property
    def default_changed(self) -> bool:
        return self.old._key != self.new._key

    def describe(self) -> str:
        what = []
        if self.default_changed:
            what.append("default")
        if self.old.nullable != self.new.nullable:
            what.append("NOT NULL" if not self.new.nullable else "drop NOT NULL")
        what += [f"drop check {n}" for n in self.dropped_checks]
        what += [f"add check {n}" for n in self.added_checks]
        if self.old.comment != self.new.comment:
            what.append("comment")
        return f"alter domain {_qualified(self.new)}: {', '.join(what)}"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        found: list[Hazard] = []
        if self.added_checks:
            found.append(Hazard.CONSTRAINT_SCAN)  # every column of the domain is checked
        if self.old.nullable and not self.new.nullable:
            found.append(Hazard.NOT_NULL_SCAN)
        return tuple(found)

    def apply(self, schema: Schema) -> Schema:
        return _replace_domain(schema, self.old.key, self.new)

    def requires(self) -> frozenset[Key]:
        return frozenset({_domain_key(self.new)})
