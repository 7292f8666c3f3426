"""Starting a training run in its own process, and stopping one, from the TUI.

The run is a separate ``python -m cnntui train …`` process in its own session, so
quitting the TUI or losing the SSH connection never stops it; the TUI only follows its
run directory. Stopping sends SIGINT to the pid in ``status.json``: training saves
``last.keras`` and marks the run stopped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cnntui.core.runs import CONFIG, RUNS_DIR_ENV, Run


@dataclass
class TrainRequest:
    """What the Train screen's form asks for; empty values keep the entry's defaults."""

    model: str
    data: str = "sample"
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    optimizer: str | None = None
    augment: str = ""
    limit: int | None = None
    extra: list[str] = field(default_factory=list)

    def argv(self) -> list[str]:
        """The ``cnntui train`` command line for this request."""
        args = [
            sys.executable,
            "-m",
            "cnntui",
            "train",
            self.model,
            "--data",
            self.data or "sample",
        ]
        if self.epochs is not None:
            args += ["--epochs", str(self.epochs)]
        if self.batch_size is not None:
            args += ["--batch-size", str(self.batch_size)]
        if self.learning_rate is not None:
            args += ["--lr", f"{self.learning_rate:g}"]
        if self.optimizer:
            args += ["--optimizer", self.optimizer]
        if self.augment.strip():
            args += ["--augment", self.augment.strip()]
        if self.limit is not None:
            args += ["--limit", str(self.limit)]
        return args + list(self.extra)


@dataclass
class Launched:
    """A started training process and where its output goes."""

    process: subprocess.Popen
    log_path: Path
    known_runs: set[str]
    started: float


def launch(request: TrainRequest, runs_dir: Path) -> Launched:
    """Start the training process detached from this terminal."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    logs = runs_dir / ".tui-launch"
    logs.mkdir(exist_ok=True)
    log_path = logs / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{request.model}.log"
    known = {p.name for p in runs_dir.iterdir() if p.is_dir()}
    env = {**os.environ, RUNS_DIR_ENV: str(runs_dir), "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            request.argv(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # survives the TUI, Ctrl+C in it and a dropped SSH link
        )
    return Launched(process, log_path, known, time.time())


def tail_text(path: Path, lines: int = 6) -> str:
    """The last lines of a log file (for a launch that failed)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def find_new_run(launched: Launched, runs_dir: Path) -> Run | None:
    """The run directory the launched process created, if it exists yet."""
    if not runs_dir.is_dir():
        return None
    fresh = [
        Run(p)
        for p in runs_dir.iterdir()
        if p.is_dir() and p.name not in launched.known_runs and (p / CONFIG).exists()
    ]
    if not fresh:
        return None
    mine = [r for r in fresh if r.status_info.get("pid") == launched.process.pid]
    return (mine or sorted(fresh, key=lambda r: r.id))[0]


def stop_run(run: Run) -> str:
    """Ask a running run to stop (SIGINT to its process); return what happened."""
    info = run.status_info
    pid, host = info.get("pid"), info.get("host")
    if run.status != "running":
        return f"{run.id} is not running ({run.status})"
    if host and host != os.uname().nodename:
        return f"{run.id} runs on {host}; stop it there"
    if not isinstance(pid, int):
        return f"{run.id} has no process id in status.json"
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return f"{run.id}: its process {pid} is already gone"
    except PermissionError:
        return f"{run.id}: not allowed to signal process {pid}"
    return f"asked {run.id} to stop; it saves last.keras first"
