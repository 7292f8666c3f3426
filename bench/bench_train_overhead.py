"""Cost of ``cnntui train`` (live view on, in a pseudo-terminal) against a bare ``model.fit``.

Every side runs as a fresh process on the same zoo model, data pipeline, batch size, seed
and epochs; the bare side calls ``model.fit(verbose=0)`` with the validation split and
nothing else. Each round runs the bare side and every ``--views`` side (``live``: the
terminal view, the case the goal is about; ``none``: cnntui with no view, which separates
the view's cost from the rest of cnntui's), in an order that rotates from round to round.
The script prints each run, then per side the median and spread (min–max) of the wall
time, CPU time (``wait4``), peak RSS and the phases (setup: start → first batch's epoch;
training: ``begin`` → ``done`` events against the bare fit's own timer; teardown), and the
ratios against bare as the median of the per-round ratios with their spread:

    wall ratio   goal ≤ 1.02      CPU ratio   goal ≤ 1.03      peak memory   goal ≤ 1.2

The machine may be shared: the CPU ratio is the less sensitive figure; run it when the
machine is quiet, and repeat more (``--repeats``) when the spread is large.

    python bench/bench_train_overhead.py --model mnist-2conv --epochs 5 --repeats 4
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BARE = r"""
import json, sys, time
t0 = time.perf_counter()
import keras
from cnntui.core import registry
from cnntui.core.data import load_data
from cnntui.core.heads import label_mode_for, loss_for, output_units
name, epochs, limit, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) or None, 0
entry = registry.get_model(name)
hp = entry.hyperparameters
keras.utils.set_random_seed(seed)
data = load_data("sample", input_shape=entry.input_shape, label_mode="int",
                 batch_size=hp.batch_size, val_split=0.1, seed=seed, limit=limit)
model = entry.build(data.input_shape, data.num_classes)
units = output_units(model)
loss = loss_for(hp.loss, units)
mode = label_mode_for(loss, units)
train, val = data.train, data.val
if mode == "categorical":
    import tensorflow as tf
    k = data.num_classes
    train = train.map(lambda x, y: (x, tf.one_hot(y, k)))
    val = val.map(lambda x, y: (x, tf.one_hot(y, k)))
opt = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
       "rmsprop": keras.optimizers.RMSprop, "adamw": keras.optimizers.AdamW}[hp.optimizer]
model.compile(optimizer=opt(learning_rate=hp.learning_rate), loss=loss, metrics=list(hp.metrics))
t1 = time.perf_counter()
model.fit(train, validation_data=val, epochs=epochs, verbose=0, shuffle=False)
t2 = time.perf_counter()
print(json.dumps({"fit_seconds": t2 - t1, "setup_seconds": t1 - t0}))
"""


def _wait(proc: subprocess.Popen) -> tuple[int, int, float]:
    """Exit status, peak RSS in KiB and CPU seconds of ``proc`` (its own, not all children's)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def run_bare(model: str, epochs: int, limit: int) -> dict:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE, model, str(epochs), str(limit)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out = proc.stdout.read()
    code, rss, cpu = _wait(proc)
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"bare fit failed (exit {code})")
    timers = json.loads(out.splitlines()[-1])
    return {
        "wall": wall,
        "rss_kib": rss,
        "cpu": cpu,
        "train": timers["fit_seconds"],
        "setup": timers["setup_seconds"],
    }


PROFILED = (  # what cnntui adds to the training thread, and Keras's own per-batch work
    "trainer.py:.*\\(fit\\)",
    "callback_list.py:.*on_train_batch_end",
    "python_utils.py:.*pythonify_logs",
    "cnntui/core/train/callbacks/",
    "cnntui/core/train/checkpoint.py:.*handle",
    "cnntui/core/train/session.py:.*handle",
    "cnntui/core/train/events.py:.*(emit|handle)",
    "cnntui/cli/live.py:.*handle",
)


def print_profile(path: str) -> None:
    """Calls and seconds (own thread: the training thread) of the ``PROFILED`` functions."""
    import pstats
    import re

    stats = pstats.Stats(path)
    print("\ntraining thread (cProfile), cumulative seconds and calls:")
    for (file, line, name), (_, calls, _, cum, _) in sorted(
        stats.stats.items(), key=lambda item: -item[1][3]
    ):
        where = f"{file}:{line}({name})"
        if any(re.search(p, where) for p in PROFILED):
            short = where.split("site-packages/")[-1].split("/work/")[-1]
            print(f"  {cum:8.3f}s  {calls:7d} calls  {1e6 * cum / calls:9.1f} µs/call  {short}")


def run_cnntui(
    model: str,
    epochs: int,
    limit: int,
    runs_dir: str,
    view: str = "live",
    profile: str | None = None,
) -> dict:
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    args = [
        sys.executable,
        *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m",
        "cnntui",
        "train",
        model,
        "--epochs",
        str(epochs),
        "--seed",
        "0",
        "--runs-dir",
        runs_dir,
        "--view",
        view,
    ]
    if limit:
        args += ["--limit", str(limit)]
    received = bytearray()

    def drain():
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            received.extend(chunk[-4096:])

    env = {**os.environ, "COLUMNS": "120", "LINES": "40"}
    started_at = time.time()
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    code, rss, cpu = _wait(proc)
    wall = time.perf_counter() - start
    reader.join(timeout=2)
    os.close(master)
    if code != 0:
        raise SystemExit(f"cnntui train failed (exit {code}): {bytes(received[-800:])!r}")
    if view == "live" and b"\x1b[" not in received:
        raise SystemExit("the live view did not draw (no terminal escape codes seen)")
    run = max(Path(runs_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    events = [json.loads(x) for x in (run / "events.jsonl").read_text().splitlines()]
    begin = next(e["time"] for e in events if e["event"] == "begin")
    done = next(e["time"] for e in events if e["event"] == "done")
    return {
        "wall": wall,
        "rss_kib": rss,
        "cpu": cpu,
        "train": done - begin,
        "setup": begin - started_at,
    }


def spread(values: list[float], spec: str = ".3f") -> str:
    """``median (min–max)`` (``-`` for no values); also used by ``bench_tui_follow.py``."""
    if not values:
        return "-"
    return (
        f"{format(statistics.median(values), spec)} "
        f"({format(min(values), spec)}–{format(max(values), spec)})"
    )


def report(results: dict[str, list[dict]], views: list[str]) -> list[str]:
    """Per-side medians with spread, then per-round paired ratios against bare."""
    lines = [f"{'side':<8} {'wall s':>22} {'setup s':>20} {'training s':>22} {'cpu s':>22}"]
    for side in ("bare", *views):
        rs = results[side]
        lines.append(
            f"{side:<8} "
            + " ".join(
                f"{spread([r[key] for r in rs], '.2f'):>22}"
                for key in ("wall", "setup", "train", "cpu")
            )
        )
    goals = {"wall": 1.02, "cpu": 1.03, "rss_kib": 1.2, "train": None}
    names = {"wall": "wall", "train": "training only", "cpu": "CPU", "rss_kib": "peak memory"}
    for view in views:
        lines.append(f"\ncnntui --view {view} / bare (median of per-round ratios, min–max)")
        for key, goal in goals.items():
            ratios = [c[key] / b[key] for c, b in zip(results[view], results["bare"])]
            verdict = ""
            if goal is not None:
                ok = statistics.median(ratios) <= goal
                verdict = f"   goal <= {goal}   {'ok' if ok else 'OVER'}"
            lines.append(f"  {names[key] + ' ratio':<22} {spread(ratios)}{verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist-2conv")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="images (0: all 5,000)")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument(
        "--views",
        default="live,none",
        help="cnntui sides, comma-separated, of live, lines, none (default: live,none)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then one more --view live run under cProfile: where the training thread's time goes",
    )
    args = parser.parse_args()
    views = [v.strip() for v in args.views.split(",") if v.strip()]
    if not views or any(v not in ("live", "lines", "none") for v in views):
        parser.error(f"--views takes live, lines and none; got {args.views!r}")

    sides = ["bare", *views]
    results: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory() as runs_dir:
        for i in range(args.repeats):
            order = sides[i % len(sides) :] + sides[: i % len(sides)]
            if i % 2:
                order.reverse()
            for side in order:
                if side == "bare":
                    r = run_bare(args.model, args.epochs, args.limit)
                else:
                    r = run_cnntui(args.model, args.epochs, args.limit, runs_dir, side)
                results[side].append(r)
                print(
                    f"round {i + 1} {side:<6}  wall {r['wall']:7.2f}s  setup {r['setup']:6.2f}s  "
                    f"training {r['train']:7.2f}s  cpu {r['cpu']:7.2f}s  "
                    f"peak RSS {r['rss_kib'] / 1024:7.1f} MiB",
                    flush=True,
                )
    print(
        f"\nmodel {args.model}, {args.epochs} epochs, {args.limit or 5000} images, "
        f"{args.repeats} rounds (order rotating), os.cpu_count() {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print("\n".join(report(results, views)))
    if args.profile:
        with tempfile.TemporaryDirectory() as runs_dir, tempfile.TemporaryDirectory() as prof:
            out = str(Path(prof) / "train.prof")
            run_cnntui(args.model, args.epochs, args.limit, runs_dir, "live", profile=out)
            print_profile(out)


if __name__ == "__main__":
    main()
