"""Train-step time per zoo entry: TensorFlow, JAX as cnntui runs it, and JAX untuned.

"JAX untuned" is JAX with ``CNNTUI_JAX_TUNING=off``: Keras's own max pooling and depthwise
convolutions, jaxlib's default (YNNPACK) convolutions and glibc's default allocator; "jax"
has cnntui's slice-based ops (``cnntui/core/jax_ops.py``), XLA's own convolutions and the
allocator told to reuse freed memory (``cnntui/core/host_memory.py``, ``docs/backends.md``). Each
measurement is a fresh process (the backend and XLA's flags are fixed per process) that
builds the entry at its own input size, compiles it with Adam, runs one warm-up epoch of
``--steps`` batches of random data and then ``--epochs`` timed ones: the median seconds
per step. Sides alternate, their order rotating per round; the table gives the median
(min-max) over the rounds and the ratios against TensorFlow.

    python bench/bench_jax_steps.py [--models mnist-conv-pool,fast-mobilenet] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_backends import spread  # noqa: E402 - this folder is sys.path[0]

ROOT = Path(__file__).resolve().parents[1]
MODELS = (
    "mnist-conv-pool,mnist-2conv,fast-cnn,fast-resnet,fast-mobilenet,separable-cnn,inception-mini"
)
SIDES = {"tensorflow": {}, "jax": {}, "jax-untuned": {"CNNTUI_JAX_TUNING": "off"}}


def child(model: str, steps: int, epochs: int, batch: int) -> None:
    """In the measuring process: print ``{"step_ms": ...}``."""
    import time

    from cnntui.core.backend import select

    select(None)  # $KERAS_BACKEND, with cnntui's XLA flags for JAX (unless tuning is off)
    import numpy as np

    from cnntui.core.registry import get_model

    entry = get_model(model)
    net = entry.build()  # installs the JAX ops (unless tuning is off)
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((steps * batch, *entry.input_shape), dtype=np.float32)
    y = rng.integers(0, entry.num_classes, steps * batch)
    net.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # compile, warm up
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        net.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append((time.perf_counter() - t) / steps)
    print(json.dumps({"step_ms": statistics.median(times) * 1e3}))


def measure(side: str, model: str, a: argparse.Namespace) -> float:
    env = {**os.environ, "KERAS_BACKEND": side.removesuffix("-untuned"), **SIDES[side]}
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [sys.executable, __file__, "--child", model, "--steps", str(a.steps),
           "--epochs", str(a.epochs), "--batch-size", str(a.batch_size)]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{model} on {side} failed:\n{proc.stderr[-2000:]}")
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["step_ms"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=MODELS, help="comma-separated zoo entries")
    p.add_argument("--steps", type=int, default=10, help="batches per epoch")
    p.add_argument("--epochs", type=int, default=2, help="timed epochs after the warm-up")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=2, help="alternating rounds")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.child, a.steps, a.epochs, a.batch_size)
        return
    print(f"ms per train step, batch {a.batch_size}, median (min-max) of {a.repeats} rounds")
    print(f"{'entry':<16} {'tensorflow':>22} {'jax':>22} {'jax-untuned':>22}"
          f" {'jax/tf':>7} {'untuned/tf':>10}")  # fmt: skip
    for model in a.models.split(","):
        times: dict[str, list[float]] = {side: [] for side in SIDES}
        for r in range(a.repeats):
            order = list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]
            for side in order:
                times[side].append(measure(side, model, a))
        tf, jx, un = (statistics.median(times[s]) for s in SIDES)
        print(f"{model:<16} {spread(times['tensorflow']):>22} {spread(times['jax']):>22} "
              f"{spread(times['jax-untuned']):>22} {tf / jx:7.2f} {tf / un:10.2f}",
              flush=True)  # fmt: skip
    print("(jax/tf and untuned/tf: TensorFlow's step time over JAX's; 1.0 is as fast)")


if __name__ == "__main__":
    main()
