"""Deterministic run directories and a tiny zoo for the TUI tests (no tests here; the
``tui_zoo`` fixture is in conftest.py).

Runs are written exactly as the training process writes them (config.json, status.json
and events.jsonl per docs/ARCHITECTURE.md) with fixed ids and numbers, so snapshots never
depend on the clock; the real training path is exercised in test_tui_app.py.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

TINY_ZOO = """
from cnntui.core.registry import Hyperparameters, Reported, register_model


@register_model(
    "tuitest-tiny",
    title="A tiny dense net for TUI tests",
    description="Flatten then one Dense softmax layer.",
    reference="cnntui test suite",
    reported=Reported(dataset="digits", metric="accuracy", value=0.9, epochs=1),
    input_shape=(28, 28, 1),
    num_classes=10,
    hyperparameters=Hyperparameters(batch_size=64, epochs=3, learning_rate=0.01),
    tags=("test", "dense"),
)
def tiny(input_shape, num_classes):
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )
"""


def write_zoo(folder: Path) -> Path:
    """A zoo folder holding the ``tuitest-tiny`` entry."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tuitest_zoo.py").write_text(TINY_ZOO, encoding="utf-8")
    return folder


def curve(epoch: int, speed: float) -> dict[str, float]:
    """Smooth, made-up but plausible epoch metrics."""
    return {
        "loss": round(2.0 * math.exp(-speed * epoch) + 0.1, 4),
        "accuracy": round(0.95 - 0.8 * math.exp(-speed * epoch), 4),
        "val_loss": round(2.0 * math.exp(-speed * epoch) + 0.2, 4),
        "val_accuracy": round(0.9 - 0.8 * math.exp(-speed * epoch), 4),
        "learning_rate": 0.001,
    }


def write_run(
    root: Path,
    run_id: str,
    *,
    epochs: int = 5,
    steps: int = 4,
    speed: float = 0.6,
    status: str = "finished",
    created: float = 1_700_000_000.0,
    finish: bool = True,
    checkpoint: bool = False,
) -> Path:
    """A run directory with ``epochs`` epochs of batch and epoch events."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "run_id": run_id,
        "model": "tuitest-tiny",
        "data": {"source": "sample"},
        "hyperparameters": {"epochs": epochs, "batch_size": 64, "learning_rate": 0.001},
        "created": created,
    }
    (run_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    info = {"status": status, "updated": created, "host": os.uname().nodename}
    if status == "running":
        info["pid"] = os.getpid()
    (run_dir / "status.json").write_text(json.dumps(info), encoding="utf-8")
    t = created
    lines = [
        {
            "event": "begin",
            "time": t,
            "run_id": run_id,
            "model": "tuitest-tiny",
            "epochs": epochs,
            "initial_epoch": 0,
            "steps_per_epoch": steps,
            "batch_size": 64,
            "samples": steps * 64,
            "params": {"learning_rate": 0.001},
        },
    ]
    for e in range(1, epochs + 1):
        for s in range(1, steps + 1):
            t += 0.5
            x = e - 1 + s / steps
            lines.append(
                {
                    "event": "batch",
                    "time": t,
                    "epoch": e,
                    "step": s,
                    "steps": steps,
                    "logs": {
                        "loss": curve(x, speed)["loss"],
                        "accuracy": curve(x, speed)["accuracy"],
                    },
                    "images_per_sec": 1000.0,
                }
            )
        lines.append(
            {
                "event": "epoch",
                "time": t,
                "epoch": e,
                "epochs": epochs,
                "logs": curve(e, speed),
                "seconds": 2.0,
                "images_per_sec": 1000.0,
                "eta_seconds": 2.0 * (epochs - e),
            }
        )
    if finish:
        lines.append(
            {
                "event": "done",
                "time": t,
                "metrics": {"best_val_accuracy": curve(epochs, speed)["val_accuracy"]},
            }
        )
    with open(run_dir / "events.jsonl", "w", encoding="utf-8") as fh:
        for ev in lines:
            fh.write(json.dumps(ev) + "\n")
    if checkpoint:
        (run_dir / "best.keras").write_bytes(b"placeholder: never loaded by these tests")
    return run_dir


async def wait_until(pilot, condition, timeout: float, what: str) -> None:
    """Let the app run until ``condition()`` holds; fail saying what never happened."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await pilot.pause(0.1)
