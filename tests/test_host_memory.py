"""glibc told to reuse freed memory under JAX (cnntui.core.host_memory): a large block freed
and allocated again costs no new page faults, where glibc's default maps it afresh.

Each case is a fresh process, as the allocator's settings hold for a whole process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from backend_harness import needs_backend

from cnntui.core.host_memory import on_glibc

pytestmark = pytest.mark.skipif(not on_glibc(), reason="mallopt is glibc's")

CHILD = r"""
import ctypes, json, resource, sys
how = sys.argv[1]
if how == "keep":
    from cnntui.core.host_memory import keep_freed_memory
    keep_freed_memory()
elif how == "select":
    from cnntui.core.backend import select
    select("jax")
from cnntui.core import host_memory
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
SIZE = 64 << 20  # above glibc's largest mmap threshold (32 MB), as XLA's step buffers

def faults_of_one_block():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(SIZE)
    ctypes.memset(block, 1, SIZE)
    libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

first = faults_of_one_block()
print(json.dumps({"applied": host_memory._applied, "first": first,
                  "again": [faults_of_one_block() for _ in range(3)]}))
"""


def _child(how: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.update(env)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, how], env=environ, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _reused(result: dict) -> bool:
    assert result["first"] > 0  # the first block's pages are faulted in either way
    if max(result["again"]) * 10 <= result["first"]:
        return True
    assert min(result["again"]) * 2 >= result["first"], result  # mapped afresh each time
    return False


def test_freed_blocks_are_reused_once_kept_and_mapped_afresh_by_default():
    kept = _child("keep")
    assert kept["applied"] is True and _reused(kept), kept
    default = _child("none")
    assert default["applied"] is None and not _reused(default), default


def test_a_users_own_allocator_settings_are_left_alone():
    result = _child("keep", MALLOC_ARENA_MAX="4")
    assert result["applied"] is False and not _reused(result), result


@pytest.mark.parametrize(
    ("tuning", "kept"),
    [
        pytest.param("", True, marks=needs_backend("jax"), id="jax"),
        pytest.param("off", False, marks=needs_backend("jax"), id="jax-tuning-off"),
    ],
)
def test_selecting_jax_keeps_freed_memory_unless_its_tuning_is_off(tuning, kept):
    result = _child("select", CNNTUI_JAX_TUNING=tuning)
    assert _reused(result) is kept, result
