"""The error for differences dibs refuses to migrate in place, with what to do instead."""

from __future__ import annotations

from dibs.errors import DibsError

__all__ = ["UnsupportedChange"]


class UnsupportedChange(DibsError):
    """A difference dibs cannot migrate safely by itself; the hint says what a person can do.

    Raised, never silently skipped: a plan that left the difference out would
    not reach the target.
    """
