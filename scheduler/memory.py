"""Memory freed by one claim handed back to the system before the next.

A claim's work is freed when it ends, but glibc's malloc keeps freed memory in its heaps,
one per thread that allocated it (the posting threads', the planner's): SQLite page caches
and result rows move between threads with pooled connections, and each heap keeps the
holes they leave. Over a morning's claims the process would grow by the sum of those
holes rather than by its largest claim. `malloc_trim` returns the free pages of every heap
to the system; it frees nothing in use. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only (not musl)
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim  # type: ignore[no-any-return]


def release_freed() -> None:
    """Hand the pages malloc holds free back to the system."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
