"""Schema operations: one frozen dataclass per change, diffed, planned, rendered and applied."""

from __future__ import annotations

from dibs.ops.base import Hazard, Key, Op, TypeChange
from dibs.ops.columns import (
    AddColumn,
    AddIdentity,
    AlterColumnType,
    AlterIdentity,
    DropColumn,
    DropDefault,
    DropIdentity,
    DropNotNull,
    RenameColumn,
    SetDefault,
    SetNotNull,
)
from dibs.ops.constraints import (
    AddConstraint,
    AddPrimaryKey,
    Constraint,
    CreateIndex,
    DropConstraint,
    DropIndex,
    DropPrimaryKey,
    RenameConstraint,
    RenameIndex,
)
from dibs.ops.domains import AlterDomain, CreateDomain, DropDomain
from dibs.ops.namespace import CreateExtension, CreateSchema, DropExtension, DropSchema
from dibs.ops.tables import CreateTable, DropTable, RenameTable, SetComment
from dibs.ops.types import (
    AddEnumValue,
    AlterSequence,
    CreateEnum,
    CreateSequence,
    DropEnum,
    DropSequence,
    EnumColumn,
    RecreateEnum,
)

__all__ = [
    "AddColumn",
    "AddConstraint",
    "AddEnumValue",
    "AddIdentity",
    "AddPrimaryKey",
    "AlterColumnType",
    "AlterDomain",
    "AlterIdentity",
    "AlterSequence",
    "Constraint",
    "CreateDomain",
    "CreateEnum",
    "CreateExtension",
    "CreateIndex",
    "CreateSchema",
    "CreateSequence",
    "CreateTable",
    "DropColumn",
    "DropConstraint",
    "DropDefault",
    "DropDomain",
    "DropEnum",
    "DropExtension",
    "DropIdentity",
    "DropIndex",
    "DropNotNull",
    "DropPrimaryKey",
    "DropSchema",
    "DropSequence",
    "DropTable",
    "EnumColumn",
    "Hazard",
    "Key",
    "Op",
    "RecreateEnum",
    "RenameColumn",
    "RenameConstraint",
    "RenameIndex",
    "RenameTable",
    "SetComment",
    "SetDefault",
    "SetNotNull",
    "TypeChange",
]
