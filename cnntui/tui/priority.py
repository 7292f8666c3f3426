"""The workbench yields the CPU to training: its own thread at a lower priority.

On a machine whose cores a run keeps busy, every wake-up of the workbench (reading the
event file, painting a frame, a key) takes a core from one of TensorFlow's threads, and a
step waits for its slowest thread: following a run at ~120 batches a second cost 6-7 % of
the training's throughput while the workbench used 3.5 % of one core. At nice 5 the
scheduler lets the training threads finish first; the workbench still gets its few
milliseconds promptly (key press to repaint p95 64-73 ms against 44-49 ms at nice 0; at
nice 10 it reached 104 ms; docs/tui.md).

Linux keeps a nice value per thread, and a process or thread inherits its creator's: only
the event loop's thread is lowered (threads it starts later inherit it), and training
processes are started from a thread made before that (:func:`spawn`), so they train at the
priority the workbench was started with. Elsewhere nothing changes. ``CNNTUI_TUI_NICE``
sets the increment (default 5; ``0`` turns it off).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
NICE = 5
ENV = "CNNTUI_TUI_NICE"

_spawner: ThreadPoolExecutor | None = None


def increment() -> int:
    """The nice increment asked for (``$CNNTUI_TUI_NICE``, default 5; bad values: 5)."""
    try:
        return max(0, min(19, int(os.environ.get(ENV, NICE))))
    except ValueError:
        return NICE


def lower_this_thread() -> int:
    """Lower the calling thread's priority (Linux only); returns the nice value it has now.

    Starts the spawner thread first, at the current priority, for :func:`spawn`.
    """
    global _spawner
    if not sys.platform.startswith("linux") or increment() == 0:
        return os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else 0
    if _spawner is None:
        _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cnntui-spawn")
        _spawner.submit(lambda: None).result()  # its thread exists now, at today's priority
    tid = threading.get_native_id()
    current = os.getpriority(os.PRIO_PROCESS, tid)
    target = min(19, current + increment())
    try:
        os.setpriority(os.PRIO_PROCESS, tid, target)  # Linux: this thread only
    except OSError:
        return current
    return target


def spawn(func: Callable[..., T], *args: Any) -> T:
    """Call ``func(*args)`` from the thread that kept the workbench's start-up priority
    (directly when the priority was never lowered): what it starts inherits that."""
    if _spawner is None:
        return func(*args)
    return _spawner.submit(func, *args).result()
