"""The per-epoch record that makes a run resumable, and reading it back.

``RunCheckpoint`` (in ``callbacks/run_checkpoint.py``) saves ``last.keras`` every epoch and
``best.keras`` when the monitored loss improves. ``EpochRecorder`` (a record sink of the
event log) appends the ``history.csv`` row of each ``epoch`` event and then commits
``state.json``: ``epochs_completed`` is the epoch a resume starts from.

Order at an epoch end: ``last.keras`` → ``epoch`` event → ``history.csv`` row →
``state.json``. A ``kill -9`` anywhere loses at most the epoch in progress, and
:func:`truncate_history` drops rows past the committed epoch, so each epoch is in
``history.csv`` exactly once.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cnntui.core.atomic import atomic_save, atomic_write_json, atomic_write_text
from cnntui.core.runs import HISTORY, STATE, Run


def read_state(run: Run) -> dict[str, Any]:
    """The committed training state (``epochs_completed``, ``best``, …) or ``{}``."""
    return run.read_json(STATE)


def truncate_history(path: str | Path, epochs_completed: int) -> None:
    """Keep only rows of epochs before ``epochs_completed`` (CSVLogger's 0-based ``epoch``)."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    kept = [r for r in body if r and r[0].isdigit() and int(r[0]) < epochs_completed]
    if len(kept) == len(body):
        return
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(kept)
    atomic_write_text(path, out.getvalue())


class EpochRecorder:
    """Event sink: ``history.csv`` row, then ``state.json``, for every completed epoch."""

    def __init__(self, run: Run, extra_state: Callable[[], dict[str, Any]] | None = None):
        self.run = run
        self.extra_state = extra_state or dict
        self.path = run.path(HISTORY)
        self._keys: list[str] | None = None
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh), None)
            if header and header[0] == "epoch":
                self._keys = header[1:]

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") != "epoch":
            return
        logs = event.get("logs") or {}
        if self._keys is None:  # CSVLogger: "epoch" then the sorted log keys of epoch one
            self._keys = sorted(logs)
            self._append(["epoch", *self._keys])
        row = [event["epoch"] - 1] + [_cell(logs.get(k)) for k in self._keys]
        self._append(row)
        state = {**read_state(self.run), **self.extra_state(), "epochs_completed": event["epoch"]}
        atomic_write_json(self.run.path(STATE), state)

    def _append(self, row: list[Any]) -> None:
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(row)
            fh.flush()

    def close(self) -> None:
        pass


def _cell(value: Any) -> Any:
    if value is None:
        return "nan"
    return value


def save_model(model, path: str | Path) -> None:
    """``model.save`` through a temporary file and a rename: never a half-written file."""
    atomic_save(path, model.save, suffix=".keras")
    _cache_saving_skipsets()


def _cache_saving_skipsets() -> None:
    """Let Keras's saving reuse its per-class attribute skip sets from the first save on.

    Keras 3 (``saving_lib.get_attr_skipset``, 3.15.1) stores each set under
    ``saving_attr_skipset_<type>`` but looks it up under ``saving_attr_skiplist_<type>``,
    so every save builds throwaway Layer, Optimizer, Metric and Loss objects again:
    about a quarter of a small model's save, in the training thread, every epoch. The
    set depends only on the type, so storing it under the name looked up changes nothing
    in the file (thread-local state, like Keras's own).
    """
    try:
        from keras.src.backend.common import global_state

        tracker = global_state.GLOBAL_STATE_TRACKER
        for name, value in list(vars(tracker).items()):
            if name.startswith("saving_attr_skipset_") and value is not None:
                alias = "saving_attr_skiplist_" + name.removeprefix("saving_attr_skipset_")
                if getattr(tracker, alias, None) is None:
                    setattr(tracker, alias, value)
    except Exception:  # noqa: BLE001 - Keras's private layout changed: saves stay as they were
        pass


def history_best(run: Run) -> dict[str, float | None]:
    """val_loss and val_accuracy of the epoch with the lowest val_loss in ``history.csv``."""
    best: dict[str, float | None] = {}
    try:
        with open(run.path(HISTORY), newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return best
    scored = [(_float(row.get("val_loss")), row) for row in rows]
    scored = [(loss, row) for loss, row in scored if loss is not None and math.isfinite(loss)]
    if scored:
        loss, row = min(scored, key=lambda s: s[0])
        best["val_loss"] = loss
        best["val_accuracy"] = _float(row.get("val_accuracy"))
    return best


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
