"""glibc's allocator, told to keep and reuse the memory that JAX on a CPU frees.

XLA:CPU allocates each execution's temporary buffers afresh and frees them at its end;
for ``mnist-conv-pool`` at batch 128 a train step allocates two of 52 and 58 MB. glibc
serves any block above its mmap threshold (32 MB at most) with a new ``mmap`` and gives it
back with ``munmap``, so every step faults in and zeroes about 110 MB of fresh pages:
12,800 page faults and 17-19 ms of kernel time per 31 ms step on the project's 2-core
machine (docs/backends.md). :func:`keep_freed_memory` has glibc serve large blocks from its
heap instead (``M_MMAP_MAX`` 0), never trim the heap's top (``M_TRIM_THRESHOLD``) and keep
every thread on the main heap (``M_ARENA_MAX`` 1: a thread's own arena still maps blocks
larger than its 64 MB heaps one by one), so a step reuses the pages the last one freed.

The cost: memory the process frees stays with it until it exits (its resident size stays
at its peak), which suits a training process. TensorFlow keeps buffers in its own
allocator and is left alone. Nothing here imports JAX.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
M_MMAP_MAX = -4
M_ARENA_MAX = -8
SETTINGS = ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, -1), (M_ARENA_MAX, 1))  # -1: never trim
USER_SETTINGS = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX")

_applied: bool | None = None


def on_glibc() -> bool:
    """Whether this process runs on glibc (``mallopt``'s home), asked without reading files."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):  # not a POSIX system, or not GNU
        return False


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` through ``mallopt`` (once per process, before JAX starts its
    threads); whether they are in force. Not on other C libraries than glibc, and not
    where the user tunes glibc's allocator (``MALLOC_*`` or ``GLIBC_TUNABLES``)."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not on_glibc():
        return False
    if any(name in os.environ for name in USER_SETTINGS):
        return False
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _applied = all(libc.mallopt(param, value) == 1 for param, value in SETTINGS)
    return _applied
