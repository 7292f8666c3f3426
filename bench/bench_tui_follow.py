"""Cost of watching: the TUI following a live run, paired with the same run unwatched.

Each round trains the same model twice per batch size (``--batch-sizes``, default 16
and 128: a small one for a high batch rate, a large one for a low rate) with
``cnntui train --view none`` (fresh
processes, same seed and data), once alone and once while a second process runs the
workbench headless (``App.run_test`` at 120×40, started before the training so that its
own start-up is not counted) following it on the Train screen; the order alternates from
round to round. The follower measures, while the run trains:

- its own CPU time over its wall time (share of one core) while it only follows;
- then, pressing ``f`` (show/hide the form) every 0.3 s, the time from the key press to
  the screen having processed it and the resulting refresh (``pilot.press`` +
  ``pilot.pause``), p50 and p95;
- how many ``batch`` events it read per second (the training side throttles them to ~10/s
  whatever the batch rate, so this is the highest rate a follower sees).

Training throughput is each run's images per second (``metrics.json``). Printed: every
run, then per batch size the medians over rounds with min–max spread of the paired
with/without throughput ratio, the follower's CPU share and the per-round key p95:

    follower CPU   goal ≤ 5% of one core     throughput ratio   goal ≥ 0.97
    key press → repaint p95   goal ≤ 100 ms

    python bench/bench_tui_follow.py          # 2 rounds x 2 batch sizes x 2 sides: 8 trainings

One bounded command: eight trainings of 2,000 digits for 2 epochs; it took 464 s on the
shared 2-core VM at load 6 (a quiet machine is much faster; the total is printed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train_overhead import spread  # this folder's scripts share their figure format

FOLLOWER = r"""
import asyncio, json, resource, sys, time
from cnntui.core.runs import list_runs
from cnntui.tui.app import make_app

runs_dir, passive_share = sys.argv[1], float(sys.argv[2])

def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

async def main():
    app = make_app(runs_dir=runs_dir, follow_running=False)
    out = {"latencies_ms": []}
    async with app.run_test(size=(120, 40)) as pilot:
        print("ready", flush=True)  # started: the training may begin
        run = None
        while run is None:
            running = [r for r in list_runs(runs_dir) if r.status == "running"]
            run = running[-1] if running else None
            await asyncio.sleep(0.05)
        await app.open_run(run.id, "train")
        screen = app.screen
        while screen.progress.state == "waiting":
            await asyncio.sleep(0.05)
        t0, c0, v0 = time.monotonic(), cpu(), screen.progress.batch_version
        # passive: only following, for a share of the epoch count
        while not screen.progress.finished and screen.progress.epoch < passive_share:
            await asyncio.sleep(0.2)
        t1, c1 = time.monotonic(), cpu()
        out["passive_seconds"] = t1 - t0
        out["cpu_share"] = (c1 - c0) / (t1 - t0) if t1 > t0 else None
        out["batch_events_per_s"] = (screen.progress.batch_version - v0) / max(t1 - t0, 1e-9)
        while not screen.progress.finished:
            start = time.perf_counter()
            await pilot.press("f")
            await pilot.pause()
            out["latencies_ms"].append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.3)
        out["state"] = screen.progress.state
    print(json.dumps(out))

asyncio.run(main())
"""


def _train(model: str, epochs: int, limit: int, runs_dir: str, batch: int) -> subprocess.Popen:
    args = [sys.executable, "-m", "cnntui", "train", model, "--epochs", str(epochs)]
    args += ["--seed", "0", "--runs-dir", runs_dir, "--view", "none", "--batch-size", str(batch)]
    if limit:
        args += ["--limit", str(limit)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _throughput(runs_dir: str) -> float:
    """Images per second of the newest run in ``runs_dir``."""
    run = max(Path(runs_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    return float(metrics["images_per_sec"])


def one_run(args: argparse.Namespace, watched: bool, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as runs_dir:
        follower = None
        if watched:  # started first, so that its own start-up is not paid during training
            follower = subprocess.Popen(
                [sys.executable, "-c", FOLLOWER, runs_dir, str(args.epochs / 2)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            if follower.stdout.readline().strip() != "ready":
                raise SystemExit("the TUI follower did not start")
        trainer = _train(args.model, args.epochs, args.limit, runs_dir, batch)
        if trainer.wait() != 0:
            raise SystemExit(f"cnntui train failed (exit {trainer.returncode})")
        result = {"images_per_sec": _throughput(runs_dir)}
        if follower is not None:
            try:
                out, _ = follower.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                follower.kill()
                raise SystemExit("the TUI follower did not see the run end") from None
            if follower.returncode != 0:
                raise SystemExit(f"the TUI follower failed (exit {follower.returncode})")
            result.update(json.loads(out.splitlines()[-1]))
        return result


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist-2conv")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=2000, help="images (0: all 5,000)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--batch-sizes",
        default="16,128",
        help="one paired set per batch size: small = a high batch rate, large = a low one",
    )
    args = parser.parse_args()
    batches = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    started = time.monotonic()

    alone: dict[int, list[dict]] = {b: [] for b in batches}
    watched: dict[int, list[dict]] = {b: [] for b in batches}
    for i in range(args.repeats):
        for batch in batches:
            for side in ("alone", "watched") if i % 2 == 0 else ("watched", "alone"):
                r = one_run(args, side == "watched", batch)
                (watched if side == "watched" else alone)[batch].append(r)
                extra = ""
                if side == "watched":
                    lat = r["latencies_ms"]
                    extra = (
                        f"  follower CPU {100 * (r['cpu_share'] or 0):5.1f}% of a core "
                        f"({r['batch_events_per_s']:.1f} batch events/s)  "
                        f"key→repaint p95 {_p(lat, 0.95):6.1f} ms over {len(lat)} presses"
                    )
                rate = r["images_per_sec"] / batch
                print(
                    f"round {i + 1} batch {batch:<4} {side:<8} {r['images_per_sec']:8.1f} img/s "
                    f"({rate:6.1f} batches/s){extra}",
                    flush=True,
                )

    print(
        f"\nmodel {args.model}, {args.epochs} epochs, {args.limit or 5000} images, "
        f"{args.repeats} paired rounds per batch size, os.cpu_count() {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}, {time.monotonic() - started:.0f} s in all"
    )
    print("medians (min–max) over rounds:")
    for batch in batches:
        w, a = watched[batch], alone[batch]
        rates = [r["images_per_sec"] / batch for r in a + w]
        ratios = [x["images_per_sec"] / y["images_per_sec"] for x, y in zip(w, a)]
        shares = [100 * x["cpu_share"] for x in w if x.get("cpu_share") is not None]
        p95s = [_p(x["latencies_ms"], 0.95) for x in w if x["latencies_ms"]]
        pooled = [v for x in w for v in x["latencies_ms"]]
        print(f"batch {batch} ({spread(rates, '.1f')} batches/s)")
        ok = bool(ratios) and statistics.median(ratios) >= 0.97
        print(f"  throughput ratio watched/alone  {spread(ratios, '.3f')}   goal >= 0.97  "
              f"{'ok' if ok else 'UNDER'}")  # fmt: skip
        ok = bool(shares) and statistics.median(shares) <= 5
        print(f"  follower CPU, % of one core     {spread(shares, '.1f')}   goal <= 5     "
              f"{'ok' if ok else 'OVER'}")  # fmt: skip
        ok = bool(p95s) and statistics.median(p95s) <= 100
        print(f"  key press -> repaint p95, ms    {spread(p95s, '.1f')}   goal <= 100   "
              f"{'ok' if ok else 'OVER'}  (pooled p50 {_p(pooled, 0.5):.1f}, "
              f"p95 {_p(pooled, 0.95):.1f}, {len(pooled)} presses)")  # fmt: skip


if __name__ == "__main__":
    main()
