"""Background training that survives the terminal closing (``cnntui train --detach``).

The parent prepares the run directory (so the id is known at once), then starts
``python -m cnntui.core.train RUN_DIR`` in a new session with its output in
``train.log``; the child's pid goes into ``status.json`` so the TUI can stop it.
"""

from __future__ import annotations

import subprocess
import sys

from cnntui.core.runs import LOG, Run


def start_detached(run: Run) -> int:
    """Train ``run`` (prepared or resumed) in a detached process; returns its pid."""
    with open(run.path(LOG), "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cnntui.core.train", str(run.dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    run.set_status("running", pid=proc.pid, detached=True)
    return proc.pid
