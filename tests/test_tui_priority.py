"""The workbench's thread yields the CPU to training; the runs it starts do not inherit
that (cnntui/tui/priority.py). Checked in a child process: a real thread, a real process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")

CHILD = r"""
import json, os, subprocess, sys, threading
from cnntui.tui import priority

start = os.getpriority(os.PRIO_PROCESS, 0)
now = priority.lower_this_thread()
me = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
later = []
nice_here = lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
t = threading.Thread(target=lambda: later.append(nice_here()))
t.start(); t.join()
cmd = [sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"]
spawned = priority.spawn(lambda: subprocess.run(cmd, capture_output=True, text=True).stdout)
direct = subprocess.run(cmd, capture_output=True, text=True).stdout
print(json.dumps({"start": start, "now": now, "me": me, "later": later[0],
                  "spawned": int(spawned), "direct": int(direct)}))
"""


def _child(env_nice: str | None) -> dict:
    import os

    env = dict(os.environ)
    env.pop("CNNTUI_TUI_NICE", None)
    if env_nice is not None:
        env["CNNTUI_TUI_NICE"] = env_nice
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_event_loop_thread_is_lowered_and_the_runs_it_starts_are_not():
    p = _child(None)
    base = p["start"]
    assert p["now"] == p["me"] == min(19, base + 5)
    assert p["later"] == p["me"]  # threads the lowered thread starts inherit it
    assert p["direct"] == p["me"]  # so does a process it starts itself...
    assert p["spawned"] == base  # ...but not one started through spawn()


def test_the_variable_sets_or_turns_off_the_increment():
    p = _child("3")
    assert p["me"] == min(19, p["start"] + 3) and p["spawned"] == p["start"]
    off = _child("0")
    assert off["me"] == off["start"] == off["spawned"] == off["direct"]
