"""Cost of watching: the TUI following a live run, paired with the same run unwatched.

Each round trains the same model twice with ``cnntui train --view none`` (fresh
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
run, the medians with min–max spread, and the paired with/without throughput ratio:

    follower CPU   goal ≤ 5% of one core     throughput ratio   goal ≥ 0.97
    key press → repaint p95   goal ≤ 100 ms

    python bench/bench_tui_follow.py --model mnist-2conv --epochs 3 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def _train(model: str, epochs: int, limit: int, runs_dir: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "cnntui", "train", model, "--epochs", str(epochs)]
    args += ["--seed", "0", "--runs-dir", runs_dir, "--view", "none"]
    if limit:
        args += ["--limit", str(limit)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _throughput(runs_dir: str) -> float:
    """Images per second of the newest run in ``runs_dir``."""
    run = max(Path(runs_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    return float(metrics["images_per_sec"])


def one_run(args: argparse.Namespace, watched: bool) -> dict:
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
        trainer = _train(args.model, args.epochs, args.limit, runs_dir)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist-2conv")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="images (0: all 5,000)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    alone: list[dict] = []
    watched: list[dict] = []
    for i in range(args.repeats):
        for side in ("alone", "watched") if i % 2 == 0 else ("watched", "alone"):
            r = one_run(args, side == "watched")
            (watched if side == "watched" else alone).append(r)
            extra = ""
            if side == "watched":
                lat = sorted(r["latencies_ms"])
                p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
                extra = (
                    f"  follower CPU {100 * (r['cpu_share'] or 0):5.1f}% of a core "
                    f"({r['batch_events_per_s']:.1f} batch events/s)  "
                    f"key→repaint p95 {p95:6.1f} ms over {len(lat)} presses"
                )
            print(f"round {i + 1} {side:<8} {r['images_per_sec']:8.1f} img/s{extra}", flush=True)

    ratios = [w["images_per_sec"] / a["images_per_sec"] for w, a in zip(watched, alone)]
    shares = [100 * w["cpu_share"] for w in watched if w.get("cpu_share") is not None]
    lat = sorted(x for w in watched for x in w["latencies_ms"])
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
    print(
        f"\nmodel {args.model}, {args.epochs} epochs, {args.limit or 5000} images, "
        f"{args.repeats} paired rounds, os.cpu_count() {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    ok = statistics.median(ratios) >= 0.97
    print(f"throughput ratio watched/alone  {spread(ratios, '.3f')}   goal >= 0.97  "
          f"{'ok' if ok else 'UNDER'}")  # fmt: skip
    ok = bool(shares) and statistics.median(shares) <= 5
    print(f"follower CPU, % of one core     {spread(shares, '.1f')}   goal <= 5     "
          f"{'ok' if ok else 'OVER'}")  # fmt: skip
    print(f"key press -> repaint            p50 {p50:.1f} ms  p95 {p95:.1f} ms   goal p95 <= 100 ms"
          f"  {'ok' if p95 <= 100 else 'OVER'}  ({len(lat)} presses)")  # fmt: skip


if __name__ == "__main__":
    main()
