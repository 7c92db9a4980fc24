"""Keep native solver output off stdout."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

_lock = threading.Lock()
_depth = 0
_saved: int | None = None


@contextlib.contextmanager
def quiet_stdout():
    """Silence native code writing to file descriptor 1. Safe across threads: the first entrant redirects
    and the last one out restores, so overlapping solves (a server's jobs) never leave stdout pointing at
    /dev/null."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            sys.stdout.flush()
            _saved = os.dup(1)
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                os.dup2(_saved, 1)
                os.close(_saved)
                _saved = None
