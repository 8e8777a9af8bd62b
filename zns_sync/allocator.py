"""At most two glibc malloc arenas for the process (docs/benchmarks.md, "Memory flat in N").

glibc gives each thread that meets a busy arena one of its own, up to 8 per core, and keeps what is freed in an
arena for that arena. A run's threads each render, parse and free megabytes at a time (SOAP envelopes, lxml trees,
JSON pages), so every arena grows to the largest burst of its thread: about 30 MB of the peak RSS at 2,000
invoices, for no speed (the threads take turns on the GIL for most of that work).
"""

from __future__ import annotations

import ctypes
import os

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def limit_arenas() -> bool:
    """Ask glibc for at most ARENAS malloc arenas; False, changing nothing, on another C library or when the
    user set MALLOC_ARENA_MAX (glibc already obeys it)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
    except (ValueError, OSError):
        return False
    return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, ARENAS))
