"""Pause Python's cyclic garbage collector around a long scan or fold."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of the block.

    A catch-up or a verify allocates several objects per event (rows, records, hashes) and
    may keep a large heap alive, so the collector's generation sweeps keep walking the same
    objects: a sixth of a views rebuild, a seventh of an audit verify after a big build.
    Those objects form no cycles (reference counting frees them); the collector runs again as
    soon as the block ends. Nested use leaves the collector as the outermost found it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
