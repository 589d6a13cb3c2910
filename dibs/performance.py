"""Process-level tuning shared by the heavy pure-Python steps (introspect, diff, plan).

Those steps allocate hundreds of thousands of small frozen objects in one
burst. CPython's cyclic garbage collector then runs again and again over a
heap that holds no cycles to find (the model is a tree of tuples and frozen
dataclasses, freed by reference counting), which cost 10-20% of their time on
a 1,000-table schema. ``gc_paused`` switches it off for such a burst and back
on afterwards; nothing is leaked, collection only happens later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if enabled) for the block's duration.

    Nested and concurrent uses are safe: only the outermost block that found
    the collector enabled turns it back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
