"""Compare domains: create, drop, or alter in place (default, NOT NULL, checks, comment)."""

from __future__ import annotations

from dibs.autogenerate.unsupported import UnsupportedChange
from dibs.ops import AlterDomain, CreateDomain, DropDomain, Op
from dibs.schema.model import Domain, Schema

__all__ = ["UnsupportedChange", "compare_domains"]


def _in_place(old: Domain, new: Domain) -> bool:
    return old.type == new.type and old.collation == new.collation


def compare_domains(old: Schema, new: Schema) -> list[Op]:
    """Operations turning ``old``'s domains into ``new``'s.

    Raises:
        UnsupportedChange: a domain's base type or collation changed (Postgres
            has no ``ALTER DOMAIN … TYPE``).
    """
    before = {d.key: d for d in old.domains}
    after = {d.key: d for d in new.domains}
    ops: list[Op] = []
    for key, domain in after.items():
        previous = before.get(key)
        if previous is None:
            ops.append(CreateDomain(domain))
        elif previous != domain or previous._key != domain._key:
            if not _in_place(previous, domain):
                name = (
                    domain.name if domain.schema == "public" else f"{domain.schema}.{domain.name}"
                )
                raise UnsupportedChange(
                    f"domain {name} changes its base type or collation "
                    f"({previous.type} -> {domain.type}); Postgres cannot alter that in place",
                    hint="create a domain under a new name, move the columns to it with "
                    "ALTER COLUMN … TYPE, then drop the old one (three declarations, or a "
                    "hand-written migration)",
                )
            ops.append(AlterDomain(previous, domain))
    ops += [DropDomain(d) for k, d in before.items() if k not in after]
    return ops
