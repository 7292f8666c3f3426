"""Run directories: the contract between training, the TUI, ``predict`` and ``evaluate``.

Layout of ``<runs root>/<id>/``::

    config.json    model, hyperparameters, data source, preprocessing, class names, versions
    status.json    {"status": running|finished|stopped|failed|interrupted, "pid", "updated", ...}
    events.jsonl   one JSON event per line, flushed per event
    history.csv    Keras CSVLogger columns, one row per completed epoch
    best.keras     lowest validation loss        last.keras   last completed epoch
    metrics.json   final metrics, wall time, images per second
    skipped.txt    unreadable files the check pass skipped (when any)
    request.json   the training request (``TrainConfig``), read by ``--resume`` and detach
    state.json     resume point: ``epochs_completed`` (committed after each epoch), best so far
    train.log      output of a ``--detach``-ed training

The runs root is ``$CNNTUI_RUNS_DIR``, else ``$XDG_DATA_HOME/cnntui/runs``
(``~/.local/share/cnntui/runs``), so every ``cnntui`` finds the same runs.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cnntui.core.atomic import atomic_write_json
from cnntui.core.errors import CnntuiError

RUNS_DIR_ENV = "CNNTUI_RUNS_DIR"
STATUSES = ("running", "finished", "stopped", "failed", "interrupted")
FINAL_STATUSES = ("finished", "stopped", "failed", "interrupted")

CONFIG = "config.json"
STATUS = "status.json"
EVENTS = "events.jsonl"
HISTORY = "history.csv"
BEST = "best.keras"
LAST = "last.keras"
METRICS = "metrics.json"
SKIPPED = "skipped.txt"
STATE = "state.json"
REQUEST = "request.json"
LOG = "train.log"
TRACEBACK = "traceback.txt"


class RunNotFoundError(CnntuiError, LookupError):
    """No run matches the given id, alias or path."""


def runs_root(override: str | Path | None = None) -> Path:
    """Where runs live: ``override``, ``$CNNTUI_RUNS_DIR``, or the user data folder."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get(RUNS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "cnntui" / "runs"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "run"


def new_run_id(model: str, name: str | None = None) -> str:
    """``<date>-<time>-<name or model>-<4 hex>``: sortable, typeable, unique."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{_slug(name or model)}-{secrets.token_hex(2)}"


@dataclass
class Run:
    """A run directory with typed access to its files."""

    dir: Path

    @property
    def id(self) -> str:
        return self.dir.name

    def path(self, name: str) -> Path:
        return self.dir / name

    def read_json(self, name: str) -> dict[str, Any]:
        try:
            return json.loads(self.path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    @property
    def config(self) -> dict[str, Any]:
        return self.read_json(CONFIG)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.read_json(METRICS)

    @property
    def status_info(self) -> dict[str, Any]:
        return self.read_json(STATUS)

    @property
    def status(self) -> str:
        """Recorded status; a ``running`` run whose process is gone is ``interrupted``."""
        info = self.status_info
        status = info.get("status", "unknown")
        if status == "running" and not _pid_alive(info.get("pid"), info.get("host")):
            return "interrupted"
        return status

    def set_status(self, status: str, pid: int | None = None, **extra: Any) -> None:
        """Record ``status``; a ``running`` run records its process (this one by default)."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        info = {**self.status_info, **extra, "status": status, "updated": time.time()}
        if status == "running":
            info["pid"] = pid or os.getpid()
            info["host"] = os.uname().nodename
        atomic_write_json(self.path(STATUS), info)

    @property
    def model_name(self) -> str:
        return self.config.get("model", "")

    @property
    def created(self) -> float:
        return float(self.config.get("created", self.dir.stat().st_mtime))

    def checkpoint(self, which: str = "best") -> Path:
        """``best.keras`` (falling back to ``last.keras``) or ``last.keras``."""
        best, last = self.path(BEST), self.path(LAST)
        if which == "last":
            return last
        return best if best.exists() or not last.exists() else last

    def events(self) -> list[dict[str, Any]]:
        """Every complete event recorded so far (a torn last line is ignored)."""
        out = []
        try:
            with open(self.path(EVENTS), encoding="utf-8") as fh:
                for line in fh:
                    if line.endswith("\n"):
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            continue
        except OSError:
            pass
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready line for ``runs list``."""
        cfg, met = self.config, self.metrics
        return {
            "id": self.id,
            "model": cfg.get("model", ""),
            "status": self.status,
            "dir": str(self.dir),
            "data": cfg.get("data", {}).get("source")
            if isinstance(cfg.get("data"), dict)
            else cfg.get("data"),
            "created": cfg.get("created"),
            "epochs": met.get("epochs_completed"),
            "best_val_loss": met.get("best_val_loss"),
            "best_val_accuracy": met.get("best_val_accuracy"),
        }


def _pid_alive(pid: Any, host: Any = None) -> bool:
    if not isinstance(pid, int):
        return False
    if host and host != os.uname().nodename:
        return True  # another machine's process: cannot tell, assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def create_run(model: str, name: str | None = None, root: str | Path | None = None) -> Run:
    """Make a fresh run directory under the runs root."""
    base = runs_root(root)
    base.mkdir(parents=True, exist_ok=True)
    while True:
        run_dir = base / new_run_id(model, name)
        try:
            run_dir.mkdir()
            return Run(run_dir)
        except FileExistsError:
            continue


def list_runs(root: str | Path | None = None) -> list[Run]:
    """All runs, oldest first."""
    base = runs_root(root)
    if not base.is_dir():
        return []
    runs = [Run(d) for d in base.iterdir() if d.is_dir() and (d / CONFIG).exists()]
    return sorted(runs, key=lambda r: (r.created, r.id))


def resolve_run(ref: str | Path | None = "latest", root: str | Path | None = None) -> Run:
    """Find a run by path, full id, unique id prefix/substring, ``latest`` or ``latest-N``.

    ``latest`` is the newest run; ``latest-finished`` is the newest finished one.
    """
    ref = str(ref or "latest")
    as_path = Path(ref).expanduser()
    if as_path.is_dir() and (as_path / CONFIG).exists():
        return Run(as_path.resolve())
    runs = list_runs(root)
    if not runs:
        raise RunNotFoundError(
            f"no runs yet in {runs_root(root)}; train one with `cnntui train MODEL`"
        )
    if ref == "latest-finished":
        done = [r for r in runs if r.status == "finished"]
        if not done:
            raise RunNotFoundError("no finished run yet; train one with `cnntui train MODEL`")
        return done[-1]
    m = re.fullmatch(r"latest(?:-(\d+))?", ref)
    if m:
        back = int(m.group(1) or 0)
        if back >= len(runs):
            raise RunNotFoundError(f"only {len(runs)} runs exist; {ref!r} goes past the first")
        return runs[-1 - back]
    exact = [r for r in runs if r.id == ref]
    if exact:
        return exact[0]
    matches = [r for r in runs if r.id.startswith(ref)] or [
        r for r in runs if ref in r.id or r.id.endswith(ref)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run matches {ref!r}; see `cnntui runs list`")
    ids = ", ".join(r.id for r in matches[:5])
    raise RunNotFoundError(f"{ref!r} matches {len(matches)} runs ({ids}…); give more of the id")
