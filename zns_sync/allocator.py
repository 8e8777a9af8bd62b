"""glibc's malloc, set for a long run that frees megabytes at a time (docs/benchmarks.md, "Memory, flat in N").

- **At most two arenas.** glibc gives each thread that meets a busy arena one of its own, up to 8 per core, and
  keeps what is freed in an arena for that arena. A run's threads each render, parse and free megabytes at a time
  (SOAP envelopes, lxml trees, JSON pages), so every arena grew to the largest burst of its thread: about 30 MB of
  the peak RSS at 2,000 invoices, for no speed (the threads take turns on the GIL for most of that work).
- **Blocks of 256 KB and more always mapped on their own** (`M_MMAP_THRESHOLD`). By default glibc raises that
  threshold to the size of each large block freed, so a request's 1 to 2 MB of bytes came from the heap after the
  first one, and the heap grew with a run's length (about 5 MB per 20,000 invoices) instead of being given back.
"""

from __future__ import annotations

import ctypes
import os

ARENAS = 2
MMAP_THRESHOLD = 256 * 1024
# glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc() -> bool:
    """Set glibc's malloc as above, each setting unless the user set it (MALLOC_ARENA_MAX,
    MALLOC_MMAP_THRESHOLD_); False, changing nothing, on another C library."""
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
    except (ValueError, OSError):
        return False
    libc = ctypes.CDLL(None)
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(_M_ARENA_MAX, ARENAS)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return True
