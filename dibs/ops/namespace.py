"""Operations on namespaces and extensions: the things every other object lives in."""

from __future__ import annotations

from dataclasses import dataclass, replace

from dibs.ops.base import Key, Op, schema_key
from dibs.schema.model import Extension, Schema

__all__ = ["CreateExtension", "CreateSchema", "DropExtension", "DropSchema"]


@dataclass(frozen=True, slots=True)
class CreateSchema(Op):
    name: str

    def describe(self) -> str:
        return f"create schema {self.name}"

    def apply(self, schema: Schema) -> Schema:
        return replace(schema, schemas=(*schema.schemas, self.name)).normalized()

    def creates(self) -> frozenset[Key]:
        return schema_key(self.name)


@dataclass(frozen=True, slots=True)
class DropSchema(Op):
    name: str
    removes = True

    def describe(self) -> str:
        return f"drop schema {self.name}"

    def apply(self, schema: Schema) -> Schema:
        return replace(schema, schemas=tuple(s for s in schema.schemas if s != self.name))

    def drops(self) -> frozenset[Key]:
        return schema_key(self.name)


@dataclass(frozen=True, slots=True)
class CreateExtension(Op):
    extension: Extension

    def describe(self) -> str:
        return f"create extension {self.extension.name}"

    def apply(self, schema: Schema) -> Schema:
        return replace(schema, extensions=(*schema.extensions, self.extension)).normalized()

    def creates(self) -> frozenset[Key]:
        return frozenset({("extension", self.extension.name)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.extension.schema)


@dataclass(frozen=True, slots=True)
class DropExtension(Op):
    extension: Extension
    removes = True

    def describe(self) -> str:
        return f"drop extension {self.extension.name}"

    def apply(self, schema: Schema) -> Schema:
        kept = tuple(e for e in schema.extensions if e.name != self.extension.name)
        return replace(schema, extensions=kept)

    def drops(self) -> frozenset[Key]:
        return frozenset({("extension", self.extension.name)})

    def requires(self) -> frozenset[Key]:
        return schema_key(self.extension.schema)
