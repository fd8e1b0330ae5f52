"""Python's cyclic garbage collector paused around work that allocates many long-lived objects."""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while the block runs (reference counting still frees what it drops): an import
    or a bulk classification allocates hundreds of thousands of objects, and collections walked them again
    and again (a share of their time: bench/results/import_export.md). The block must make no reference
    cycles worth collecting. Threads the block starts are paused too (the collector is the process's)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
