"""Pause points: race tests widen a narrow window between two statements by pausing there.

In the same process with `pausing(name, hook)`; in a worker process with BUNRYU_PAUSE_AT=<name>[,<name>...]
(it then appends the name to the file BUNRYU_PAUSE_MARK and sleeps until killed). Unset, a pause point costs
a dictionary lookup and an environment read.
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_hooks: dict[str, Callable[[], None]] = {}


def pause_point(name: str) -> None:
    hook = _hooks.get(name)
    if hook is not None:
        hook()
    elif name in os.environ.get("BUNRYU_PAUSE_AT", "").split(","):
        with open(os.environ["BUNRYU_PAUSE_MARK"], "a") as mark:
            mark.write(f"{name}\n")
        time.sleep(3600)


@contextmanager
def pausing(name: str, hook: Callable[[], None]) -> Iterator[None]:
    """Call `hook` whenever the code passes the pause point `name` (tests only)."""
    _hooks[name] = hook
    try:
        yield
    finally:
        _hooks.pop(name, None)
