"""Starting a training run in its own process, and stopping one, from the TUI.

The run is prepared here (its directory and id exist at once) and trained by a detached
``python -m cnntui.core.train RUN_DIR`` process in its own session, so quitting the TUI
or losing the SSH connection never stops it; the TUI only follows its run directory.
Stopping sends SIGINT to the pid in ``status.json``: training saves ``last.keras`` and
marks the run stopped.
"""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

from cnntui.core.runs import Run
from cnntui.core.train.config import TrainConfig


def launch(request: TrainConfig, runs_dir: Path, zoo: list[str] | None = None) -> tuple[Run, int]:
    """Prepare the run the form asked for and train it detached; returns the run and its pid.

    ``request`` is the Train screen's form as a ``TrainConfig`` (``None`` keeps the zoo
    entry's default); the runs folder and zoo folders are the workbench's.
    """
    from cnntui.core.train import prepare_run, start_detached
    from cnntui.tui.priority import spawn

    cfg = replace(
        request,
        data=request.data or "sample",
        runs_dir=str(runs_dir),
        zoo=list(zoo or []),
        argv=["cnntui (workbench)"],
    )
    run = prepare_run(cfg)
    try:
        pid = spawn(start_detached, run)  # at the priority the workbench started with
    except OSError as exc:
        run.set_status("failed", reason=f"could not start the training process: {exc}")
        raise
    return run, pid


def reap(pid: int) -> bool:
    """Collect a finished child process (so it never lingers as a zombie); True if gone."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def stop_run(run: Run) -> str:
    """Ask a running run to stop (SIGINT to its process); return what happened."""
    info = run.status_info
    pid, host = info.get("pid"), info.get("host")
    if run.status != "running":
        return f"{run.id} is not running ({run.status})"
    if host and host != os.uname().nodename:
        return f"{run.id} runs on {host}; stop it there"
    if not isinstance(pid, int) or pid == os.getpid():
        return f"{run.id} has no training process id in status.json yet"
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return f"{run.id}: its process {pid} is already gone"
    except PermissionError:
        return f"{run.id}: not allowed to signal process {pid}"
    return f"asked {run.id} to stop; it saves last.keras first"
