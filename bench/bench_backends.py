"""Training speed on the bundled digits: the JAX backend against TensorFlow (goal ≥ 0.9×).

Each side is a fresh ``cnntui train MODEL --data sample`` process with the same model,
batch size, seed, epochs and data options, only ``KERAS_BACKEND`` differing (TensorFlow
feeds it with tf.data, JAX with the backend-neutral PyDataset pipeline: each backend's
own path, as a user gets it). Sides alternate, their order rotating per round. Per side:
training images/s over the epochs after the first two (the first ones still trace or
compile), from the run's ``epoch`` events, and the process's CPU time (``getrusage`` of
the child), the steadier figure on a shared machine; then JAX / TensorFlow as the median
of the per-round ratios with their min–max.

    python bench/bench_backends.py --model mnist-conv-pool --epochs 5 --repeats 3
    python bench/bench_backends.py --quick
    python bench/bench_backends.py --model fast-mobilenet --untuned   # what the tuning buys
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

STEADY = 2  # epochs left out: tracing (TensorFlow) and compiling (JAX) happen there


def spread(values: list[float], spec: str = ".1f") -> str:
    """``median (min–max)``."""
    return f"{statistics.median(values):{spec}} ({min(values):{spec}}–{max(values):{spec}})"


def run_side(side: str, model: str, epochs: int, batch: int, limit: int | None) -> dict:
    """One ``cnntui train`` process for ``side`` (a backend, or ``jax-untuned``: JAX with
    ``CNNTUI_JAX_TUNING=off``): steady images/s and CPU seconds."""
    backend = side.removesuffix("-untuned")
    with tempfile.TemporaryDirectory(prefix="cnntui-bench-backends-") as runs:
        env = {**os.environ, "KERAS_BACKEND": backend, "CNNTUI_RUNS_DIR": runs}
        if side.endswith("-untuned"):
            env["CNNTUI_JAX_TUNING"] = "off"
        env.setdefault("JAX_PLATFORMS", "cpu")
        cmd = [sys.executable, "-m", "cnntui", "train", model, "--data", "sample",
               "--epochs", str(epochs), "--batch-size", str(batch), "--patience", "0",
               "--seed", "0", "--json"]  # fmt: skip
        if limit:
            cmd += ["--limit", str(limit)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{backend}: cnntui train failed:\n{proc.stderr[-2000:]}")
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        lines = (Path(run["dir"]) / "events.jsonl").read_text().splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
    rates = [float(e["images_per_sec"]) for e in events if e["event"] == "epoch"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"images_per_s": statistics.mean(rates[STEADY:]), "epochs": rates, "cpu_s": cpu}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="mnist-conv-pool")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, default=None, help="use only N bundled digits")
    p.add_argument("--repeats", type=int, default=3, help="rounds (each runs both sides)")
    p.add_argument("--quick", action="store_true", help="1 round, 3 epochs, 1500 digits")
    p.add_argument("--untuned", action="store_true",
                   help="also JAX with CNNTUI_JAX_TUNING=off (Keras's pooling and depthwise "
                   "convolutions, YNNPACK's convolutions)")  # fmt: skip
    a = p.parse_args(argv)
    if a.quick:
        a.epochs, a.repeats, a.limit = STEADY + 1, 1, a.limit or 1500
    if a.epochs <= STEADY:
        raise SystemExit(f"--epochs must be more than {STEADY} (those are left out)")
    sides: dict[str, list[dict]] = {"tensorflow": [], "jax": []}
    if a.untuned:
        sides["jax-untuned"] = []
    for r in range(a.repeats):
        order = list(sides) if r % 2 == 0 else list(sides)[::-1]
        for backend in order:
            res = run_side(backend, a.model, a.epochs, a.batch_size, a.limit)
            sides[backend].append(res)
            epochs = " ".join(f"{v:.0f}" for v in res["epochs"])
            print(f"round {r + 1} {backend:<11} {res['images_per_s']:9.1f} images/s "
                  f"(epochs: {epochs})  cpu {res['cpu_s']:.1f} s", flush=True)  # fmt: skip
    print(f"{a.model}, batch {a.batch_size}, {a.epochs} epochs, images/s after epoch {STEADY}:")
    for backend, rows in sides.items():
        rates = [r["images_per_s"] for r in rows]
        cpus = [r["cpu_s"] for r in rows]
        print(f"  {backend:<11} {spread(rates):>26} images/s   cpu {spread(cpus)} s")
    pairs = list(zip(sides["jax"], sides["tensorflow"]))
    ratios = [j["images_per_s"] / t["images_per_s"] for j, t in pairs]
    cpu = [t["cpu_s"] / j["cpu_s"] for j, t in pairs]
    print(f"  jax / tensorflow images/s  {spread(ratios, '.3f')}   (goal >= 0.9)")
    print(f"  tensorflow / jax cpu time  {spread(cpu, '.3f')}   (> 1: JAX used less CPU)")
    if a.untuned:
        pairs = list(zip(sides["jax"], sides["jax-untuned"]))
        gain = [j["images_per_s"] / u["images_per_s"] for j, u in pairs]
        print(f"  jax / jax-untuned images/s {spread(gain, '.3f')}   (cnntui's JAX tuning)")


if __name__ == "__main__":
    main()
