"""Canonical JSON form of a ``Schema`` and its fingerprint.

``to_json`` writes every field a user declared (including rename and display
hints, which never change SQL) in a stable order, leaving out fields that hold
their default value so that a new optional field does not change old files.
``from_json(to_json(m)) == m``. Source locations are not written: moving a
class in its file must not change ``schema.json``.

``fingerprint`` is the SHA-256 of a second JSON form that holds only what
decides the database's shape: fields that take part in equality, with SQL
expressions replaced by their comparison keys and columns in name order. Two
schemas that compare equal have the same fingerprint, and the fingerprint does
not depend on the Python version (plain JSON, sorted keys, ASCII only).
Fields added to the model later are marked ``model.OMIT_DEFAULT`` and left
out of the fingerprint while they hold their default, so recorded
fingerprints of schemas that do not use them stay valid.

This module imports nothing heavy: ``dibs check`` computes fingerprints on
its fast path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from dibs.schema import model

__all__ = ["FORMAT", "fingerprint", "from_dict", "from_json", "to_dict", "to_json"]

FORMAT = "dibs-schema/1"

# Nested dataclass types, by (class, field): what from_json rebuilds.
_NESTED: dict[tuple[type, str], type] = {
    (model.Schema, "tables"): model.Table,
    (model.Schema, "enums"): model.EnumType,
    (model.Schema, "sequences"): model.Sequence,
    (model.Schema, "extensions"): model.Extension,
    (model.Schema, "unmanaged"): model.Unmanaged,
    (model.Schema, "domains"): model.Domain,
    (model.Domain, "checks"): model.Check,
    (model.Table, "columns"): model.Column,
    (model.Table, "primary_key"): model.PrimaryKey,
    (model.Table, "uniques"): model.Unique,
    (model.Table, "foreign_keys"): model.ForeignKey,
    (model.Table, "checks"): model.Check,
    (model.Table, "exclusions"): model.Exclusion,
    (model.Table, "indexes"): model.Index,
    (model.Column, "display"): model.ColumnDisplay,
    (model.Column, "identity_options"): model.IdentityOptions,
    (model.Exclusion, "elements"): model.ExclusionElement,
    (model.Index, "elements"): model.IndexElement,
}
_SKIP = frozenset({"location"})


# Per (class, for_fingerprint): the fields to write, each with how to tell
# its default (None: always written). Worked out once per class: a schema of
# a thousand tables is some 60,000 field visits.
_Plan = tuple[tuple[str, Any], ...]
_PLANS: dict[tuple[type, bool], _Plan] = {}
_NO_DEFAULT = object()


def _plan(cls: type, for_fingerprint: bool) -> _Plan:
    plan = []
    for f in dataclasses.fields(cls):
        if f.name in _SKIP:
            continue
        if for_fingerprint:
            if not f.compare:
                continue
        elif not f.init:
            continue
        default: Any = None
        if not for_fingerprint or _omits_default(f):
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = _NO_DEFAULT
            plan.append((f.name, default))
        else:
            plan.append((f.name, _NO_DEFAULT))
    _PLANS[cls, for_fingerprint] = result = tuple(plan)
    return result


def _encode(value: Any, *, for_fingerprint: bool) -> Any:
    if isinstance(value, tuple | list):
        return [_encode(v, for_fingerprint=for_fingerprint) for v in value]
    cls = type(value)
    if not hasattr(cls, "__dataclass_fields__"):
        return value
    plan = _PLANS.get((cls, for_fingerprint)) or _plan(cls, for_fingerprint)
    out: dict[str, Any] = {}
    for name, default in plan:
        item = getattr(value, name)
        if default is not _NO_DEFAULT and item == default:
            continue
        out[name] = _encode(item, for_fingerprint=for_fingerprint)
    return out


def _omits_default(f: dataclasses.Field[Any]) -> bool:
    return all(f.metadata.get(k) == v for k, v in model.OMIT_DEFAULT.items())


def to_dict(schema: model.Schema) -> dict[str, Any]:
    """Return the canonical JSON-ready dict of ``schema`` (normalized first)."""
    data = _encode(schema.normalized(), for_fingerprint=False)
    return {"format": FORMAT, **data}


def to_json(schema: model.Schema) -> str:
    """Return the canonical JSON text of ``schema``: stable, indented, newline-terminated."""
    return json.dumps(to_dict(schema), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _decode(cls: type, data: Any) -> Any:
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        nested = _NESTED.get((cls, key))
        if nested is not None:
            if isinstance(value, list):
                value = tuple(_decode(nested, v) for v in value)
            elif value is not None:
                value = _decode(nested, value)
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[key] = value
    return cls(**kwargs)


def from_dict(data: dict[str, Any]) -> model.Schema:
    """Rebuild a ``Schema`` from ``to_dict`` output.

    Raises:
        ValueError: the data is not a dibs schema of a known format.
    """
    if data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document (format={data.get('format')!r})")
    body = {k: v for k, v in data.items() if k != "format"}
    schema: model.Schema = _decode(model.Schema, body)
    return schema.normalized()


def from_json(text: str) -> model.Schema:
    """Rebuild a ``Schema`` from ``to_json`` output."""
    return from_dict(json.loads(text))


def fingerprint(schema: model.Schema) -> str:
    """Return the SHA-256 (hex) of the shape-deciding canonical form of ``schema``.

    Unmanaged objects are left out: they are reported, not managed.
    """
    payload = _encode(schema.managed().normalized(), for_fingerprint=True)
    text = json.dumps(
        {"format": FORMAT, "schema": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()
