"""Cost of ``cnntui train`` (live view on, in a pseudo-terminal) against a bare ``model.fit``.

Both sides run as fresh processes on the same zoo model, data pipeline, batch size, seed
and epochs; the bare side calls ``model.fit(verbose=0)`` with the validation split and
nothing else. Runs alternate (bare, cnntui, cnntui, bare, …) and repeat; the script prints
each wall time, peak RSS (``wait4``), and the ratios of the medians:

    wall ratio   goal ≤ 1.02      peak memory ratio   goal ≤ 1.2

It also prints the ratio of the training part alone (``begin`` → ``done`` events against
the bare fit's own timer). The machine may be shared: run it when it is quiet, and
repeat more (``--repeats``) when the spread is large.

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
print(json.dumps({"fit_seconds": t2 - t1}))
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
    train = json.loads(out.splitlines()[-1])["fit_seconds"]
    return {"wall": wall, "rss_kib": rss, "cpu": cpu, "train": train}


def run_cnntui(model: str, epochs: int, limit: int, runs_dir: str, view: str = "live") -> dict:
    master, slave = pty.openpty()
    os.set_blocking(master, True)
    args = [
        sys.executable,
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
    return {"wall": wall, "rss_kib": rss, "cpu": cpu, "train": done - begin}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist-2conv")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="images (0: all 5,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--view",
        default="live",
        choices=("live", "lines", "none"),
        help="cnntui's output (live: the terminal view, the case the goal is about)",
    )
    args = parser.parse_args()

    results: dict[str, list[dict]] = {"bare": [], "cnntui": []}
    with tempfile.TemporaryDirectory() as runs_dir:
        for i in range(args.repeats):
            order = ("bare", "cnntui") if i % 2 == 0 else ("cnntui", "bare")
            for side in order:
                if side == "bare":
                    r = run_bare(args.model, args.epochs, args.limit)
                else:
                    r = run_cnntui(args.model, args.epochs, args.limit, runs_dir, args.view)
                results[side].append(r)
                print(
                    f"round {i + 1} {side:<6}  wall {r['wall']:7.2f}s  training "
                    f"{r['train']:7.2f}s  cpu {r['cpu']:7.2f}s  "
                    f"peak RSS {r['rss_kib'] / 1024:7.1f} MiB",
                    flush=True,
                )

    def med(side: str, key: str) -> float:
        return statistics.median(r[key] for r in results[side])

    wall = med("cnntui", "wall") / med("bare", "wall")
    train = med("cnntui", "train") / med("bare", "train")
    mem = med("cnntui", "rss_kib") / med("bare", "rss_kib")
    cpu = med("cnntui", "cpu") / med("bare", "cpu")
    best = min(r["wall"] for r in results["cnntui"]) / min(r["wall"] for r in results["bare"])
    print(
        f"\nmodel {args.model}, {args.epochs} epochs, {args.limit or 5000} images, "
        f"{args.repeats} alternating repeats, cnntui --view {args.view}"
    )
    print(
        f"wall time ratio (median)   {wall:.3f}   goal <= 1.02   {'ok' if wall <= 1.02 else 'OVER'}"
    )
    print(f"wall time ratio (best)     {best:.3f}")
    print(f"training-only ratio        {train:.3f}")
    print(f"CPU time ratio             {cpu:.3f}   (less sensitive to other load)")
    print(f"peak memory ratio          {mem:.3f}   goal <= 1.2    {'ok' if mem <= 1.2 else 'OVER'}")


if __name__ == "__main__":
    main()
