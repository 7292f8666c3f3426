"""Cost of watching: the TUI following a live run, paired with the same run unwatched.

Each round trains the same model twice per batch size (``--batch-sizes``, default 16
and 128: a small one for a high batch rate, a large one for a low rate) with
``cnntui train --view none`` (fresh processes, same seed and data), once alone and once
while a second process runs the workbench headless (``App.run_test`` at 120×40, started
before the training so that its own start-up is not counted; every frame is also encoded
into the bytes a terminal would get, which headless Textual skips) following it on the
Train screen; the order alternates from round to round. The follower measures, while the
run trains:

- its own CPU time over its wall time (share of one core) while it only follows, with
  the frames it painted and the charts it built per second;
- then, pressing ``ctrl+f`` (show/hide the form: a layout of the whole screen, both charts
  resized) every 0.3 s, the time from the key event to the first frame that shows the
  form's new state, wall clock and the follower's CPU time, p50 and p95;
- how many ``batch`` events it read per second (the training side throttles them to ~10/s
  whatever the batch rate, so this is the highest rate a follower sees).

Training throughput is each epoch's images per second (its ``epoch`` event): the goal's
ratio is over the first half of the epochs, while the follower only follows; the second
half (keys pressed) and the whole run (``metrics.json``) are printed beside it. Printed:
every run, then per batch size the medians over rounds with min–max spread of the paired
watched/alone throughput ratio and the follower's CPU share, and the p95 of all key presses
(with each round's p95), each against its goal (issue #16 §5) with ``met`` or ``MISSED``:

    throughput ratio   goal >= 0.97      follower CPU   goal <= 5% of one core
    key press -> repaint p95   goal <= 100 ms

    python bench/bench_tui_follow.py              # 4 rounds x 2 batch sizes x 2 sides
    python bench/bench_tui_follow.py --quick      # 1 round, 1,000 images: a smoke run

The follower lowers its thread's priority as the workbench does (``cnntui/tui/priority.py``);
``CNNTUI_TUI_NICE=0`` measures it without.

Wall-clock figures depend on what else the machine runs; the follower's CPU seconds much
less so. The total runtime is printed at the end.
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
from textual import events
from cnntui.core.runs import list_runs
from cnntui.tui.app import make_app
from cnntui.tui.priority import lower_this_thread

lower_this_thread()  # as run_app does: the workbench's thread yields to training
from cnntui.tui.widgets.plots import CachedPlot

runs_dir, passive_share, key = sys.argv[1], float(sys.argv[2]), sys.argv[3]

def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

async def main():
    app = make_app(runs_dir=runs_dir, follow_running=False)
    out = {"latencies_ms": [], "key_cpu_ms": []}
    frames = [0]
    press = {}  # the key press waiting for its repaint
    painted = asyncio.Event()
    async with app.run_test(size=(120, 40)) as pilot:
        display = app._display

        def encode_and_watch(screen, update):
            # headless Textual skips turning a frame into terminal bytes: do it (and drop
            # them), so the follower pays what it pays in a real terminal
            display(screen, update)
            if update is None:
                return
            update.render_segments(app.console)
            frames[0] += 1
            if press and form.display == press["want"]:  # the frame that shows the key
                out["latencies_ms"].append((time.perf_counter() - press["t"]) * 1000)
                out["key_cpu_ms"].append((time.process_time() - press["c"]) * 1000)
                press.clear()
                painted.set()

        app._display = encode_and_watch
        print("ready", flush=True)  # started: the training may begin
        run = None
        while run is None:
            running = [r for r in list_runs(runs_dir) if r.status == "running"]
            run = running[-1] if running else None
            await asyncio.sleep(0.05)
        await app.open_run(run.id, "train")
        screen = app.screen
        form = screen.query_one("#train-form")
        plots = list(screen.query(CachedPlot))
        while screen.progress.state == "waiting":
            await asyncio.sleep(0.05)
        t0, c0, v0 = time.monotonic(), cpu(), screen.progress.batch_version
        f0, b0 = frames[0], sum(p.builds for p in plots)
        # passive: only following, for a share of the epoch count
        while not screen.progress.finished and screen.progress.epoch < passive_share:
            await asyncio.sleep(0.2)
        t1, c1 = time.monotonic(), cpu()
        span = max(t1 - t0, 1e-9)
        out["passive_seconds"] = t1 - t0
        out["cpu_share"] = (c1 - c0) / span if t1 > t0 else None
        out["batch_events_per_s"] = (screen.progress.batch_version - v0) / span
        out["frames_per_s"] = (frames[0] - f0) / span
        out["chart_builds_per_s"] = (sum(p.builds for p in plots) - b0) / span
        # then a key that shows or hides the form (a layout of the whole screen), every 0.3 s
        while not screen.progress.finished:
            painted.clear()
            press.update(want=not form.display, t=time.perf_counter(), c=time.process_time())
            event = events.Key(key, None)
            event.set_sender(app)
            app.post_message(event)
            try:
                await asyncio.wait_for(painted.wait(), 10)
            except asyncio.TimeoutError:
                raise SystemExit(f"no repaint within 10 s of {key}") from None
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


def _throughput(runs_dir: str) -> dict:
    """Images per second of the newest run in ``runs_dir``: in all, and per epoch."""
    run = max(Path(runs_dir).iterdir(), key=lambda p: p.stat().st_mtime)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    epochs = {}
    for line in (run / "events.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "epoch":
            epochs[int(event["epoch"])] = float(event["images_per_sec"])
    return {"images_per_sec": float(metrics["images_per_sec"]), "epoch_images_per_sec": epochs}


def one_run(args: argparse.Namespace, watched: bool, batch: int) -> dict:
    with tempfile.TemporaryDirectory() as runs_dir:
        follower = None
        if watched:  # started first, so that its own start-up is not paid during training
            follower = subprocess.Popen(
                [sys.executable, "-c", FOLLOWER, runs_dir, str(args.epochs // 2), args.key],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            if follower.stdout.readline().strip() != "ready":
                raise SystemExit("the TUI follower did not start")
        trainer = _train(args.model, args.epochs, args.limit, runs_dir, batch)
        if trainer.wait() != 0:
            raise SystemExit(f"cnntui train failed (exit {trainer.returncode})")
        result = _throughput(runs_dir)
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


def _rate(result: dict, epochs: range) -> float:
    """Images per second over ``epochs`` (1-based) of one run: their harmonic mean."""
    rates = [result["epoch_images_per_sec"][e] for e in epochs]
    return len(rates) / sum(1 / r for r in rates)


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def goal(name: str, figure: float | None, shown: str, limit: float, at_least: bool) -> bool:
    """Print one goal line; whether ``figure`` meets it."""
    met = figure is not None and (figure >= limit if at_least else figure <= limit)
    sign = ">=" if at_least else "<="
    print(f"  {name:<32} {shown:<40} goal {sign} {limit:<5g} {'met' if met else 'MISSED'}")
    return met


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="mnist-2conv")
    parser.add_argument(
        "--epochs", type=int, default=2, help="at least 2 (one to follow, one to press keys)"
    )
    parser.add_argument("--limit", type=int, default=2000, help="images (0: all 5,000)")
    parser.add_argument("--repeats", type=int, default=4, help="paired rounds per batch size")
    parser.add_argument(
        "--batch-sizes",
        default="16,128",
        help="one paired set per batch size: small = a high batch rate, large = a low one",
    )
    parser.add_argument(
        "--key", default="ctrl+f", help="the key pressed (default: show/hide the form)"
    )
    parser.add_argument("--quick", action="store_true", help="1 round on 1,000 images")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.limit = 1, 1000
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the follower follows one, then presses keys")
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
                    lat, kc = r["latencies_ms"], r["key_cpu_ms"]
                    extra = (
                        f"  follower CPU {100 * (r['cpu_share'] or 0):4.1f}% "
                        f"({r['batch_events_per_s']:.1f} batch events, {r['frames_per_s']:.1f} "
                        f"frames, {r['chart_builds_per_s']:.1f} chart builds /s)  "
                        f"key p95 {_p(lat, 0.95):5.1f} ms (CPU {_p(kc, 0.95):4.1f} ms), "
                        f"{len(lat)} presses"
                    )
                rate = r["images_per_sec"] / batch
                print(
                    f"round {i + 1} batch {batch:<4} {side:<8} {r['images_per_sec']:7.1f} img/s "
                    f"({rate:5.1f} batches/s){extra}",
                    flush=True,
                )

    print(
        f"\nmodel {args.model}, {args.epochs} epochs, {args.limit or 5000} images, "
        f"{args.repeats} paired rounds per batch size, key {args.key}, os.cpu_count() "
        f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, "
        f"{time.monotonic() - started:.0f} s in all"
    )
    print("medians (min–max) over rounds:")
    met = total = 0
    for batch in batches:
        w, a = watched[batch], alone[batch]
        rates = [r["images_per_sec"] / batch for r in a + w]
        ratios = [x["images_per_sec"] / y["images_per_sec"] for x, y in zip(w, a)]
        # the first half of the epochs: only followed; the second half: keys pressed too
        half = args.epochs // 2
        following, pressing = [
            [_rate(x, epochs) / _rate(y, epochs) for x, y in zip(w, a)]
            for epochs in (range(1, half + 1), range(half + 1, args.epochs + 1))
        ]
        shares = [100 * x["cpu_share"] for x in w if x.get("cpu_share") is not None]
        p95s = [_p(x["latencies_ms"], 0.95) for x in w if x["latencies_ms"]]
        pooled = [v for x in w for v in x["latencies_ms"]]
        cpu_ms = [v for x in w for v in x["key_cpu_ms"]]
        print(f"batch {batch} ({spread(rates, '.1f')} batches/s)")
        met += goal(
            "throughput ratio while following",
            median(following),
            spread(following, ".3f"),
            0.97,
            True,
        )
        print(f"  (throughput ratio while pressing keys {spread(pressing, '.3f')}, "
              f"whole runs {spread(ratios, '.3f')})")  # fmt: skip
        met += goal("follower CPU, % of one core", median(shares), spread(shares, ".1f"), 5, False)
        # the 95th percentile of all presses (a round has ~10: its own p95 is nearly its max)
        met += goal(
            "key press -> repaint p95, ms",
            _p(pooled, 0.95) if pooled else None,
            f"{_p(pooled, 0.95):.1f} of {len(pooled)} (rounds {spread(p95s, '.1f')})",
            100,
            False,
        )
        total += 3
        print(f"  (frames/s {spread([x['frames_per_s'] for x in w], '.1f')}, chart builds/s "
              f"{spread([x['chart_builds_per_s'] for x in w], '.1f')}; key p50 "
              f"{_p(pooled, 0.5):.1f} ms; follower CPU per press p50 {_p(cpu_ms, 0.5):.1f} ms, "
              f"p95 {_p(cpu_ms, 0.95):.1f} ms)")  # fmt: skip
    print(f"goals met: {met} of {total}")


if __name__ == "__main__":
    main()
