"""Time-to-accuracy on the bundled digits: a fast zoo entry with its recipe vs the tutorials.

One command, four arms, each trained once per seed (the arms alternate within a seed, and
their order rotates from seed to seed):

- ``modern``: the fast entry as ``cnntui train ENTRY`` trains it: its modern recipe with
  the entry's own settings (schedule, warm-up, AdamW weight decay, label smoothing, EMA).
- ``tutorial``: the best tutorial entry with its article's setup.
- ``adam``: the fast entry with the old modern default, a constant-LR Adam (1e-3, no
  warm-up, smoothing, decay or EMA), for the same epochs and batch size.
- ``ladder``: the time to the tutorial's accuracy, as a user with a short budget gets it: the
  short-budget entry (``--ladder-model``, default fast-cnn, with its own settings unless
  ``--ladder-width``, ``--ladder-batch``… say otherwise) trained for each
  epoch count of ``--ladder`` (a real run each, the one-cycle schedule fitted to that
  count, as ``--time`` does). The time to the tutorial's final accuracy is the training
  time of the shortest rung whose final accuracy reaches it for every seed, as a ratio of
  the tutorial's own training time in the same seed.

Every arm trains through ``cnntui.core.train.train(TrainConfig(...))`` (early stopping off)
and is read back from its run's ``events.jsonl``: the bench measures what users get.

``--seeds N`` uses seeds 0..N-1; a seed sets the 4,500 / 500 split and the initialisation
(seed 0 is cnntui's default split). Per arm it prints the final validation accuracy, the
training seconds (sum of epoch times, validation included) and the time to reach 98.8 %
(``--target``) and the tutorial's own final accuracy, as mean ± spread (half the range),
the ratio of that time to the tutorial's, and process CPU seconds ÷ cores: on a machine
shared with other work, that is the estimate of the quiet wall time.

    python bench/bench_accuracy.py                 # 3 seeds, the defaults (~8 min quiet)
    python bench/bench_accuracy.py --quick         # 1 seed, fewer epochs: a smoke run
    python bench/bench_accuracy.py --budget 120    # fail (exit 1) if modern trains longer
    python bench/bench_accuracy.py --arms tutorial,ladder --ladder 1,2   # the ratio only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODERN = "fast-resnet"
TUTORIAL = "mnist-2conv"  # the best MNIST tutorial on the bundled digits (seed 0: 96.0%)
TARGET = 0.988
# The ladder arm: fast-cnn with its own settings (docs/training.md: time to the tutorial's
# accuracy). The earlier ladder, fast-resnet sized for speed, is
# --ladder-model fast-resnet --ladder-width 32 --ladder-depth 0 --ladder-max-side 14
# --ladder-batch 128 --ladder-lr 8e-3 --ladder 2,3 (one epoch of it ended at 56%).
LADDER_MODEL = "fast-cnn"
LADDER = "1,2"


@dataclass
class Result:
    """One training run: per-epoch (cumulative seconds, val accuracy) and CPU time."""

    arm: str
    seed: int
    curve: list[tuple[float, float]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    run_dir: Path = Path()

    @property
    def final(self) -> float:
        return self.curve[-1][1] if self.curve else float("nan")

    @property
    def seconds(self) -> float:
        return self.curve[-1][0] if self.curve else float("nan")

    def time_to(self, accuracy: float) -> float | None:
        """Seconds until the first epoch at or above ``accuracy`` (None: never)."""
        return next((t for t, acc in self.curve if acc >= accuracy - 1e-9), None)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# ---- arms trained by cnntui itself ---------------------------------------------------------


def train_cnntui(arm: str, model: str, seed: int, runs_dir: str, **overrides) -> Result:
    """Train through ``cnntui.core.train.train``; read the curve back from events.jsonl."""
    from cnntui.core.train import TrainConfig, read_events, train

    cfg = TrainConfig(model, seed=seed, patience=0, runs_dir=runs_dir, **overrides).validate()
    cpu0 = time.process_time()
    result = train(cfg, sinks=[])
    cpu = time.process_time() - cpu0
    if result.status != "finished":
        raise RuntimeError(f"{arm} seed {seed}: {result.status} ({result.reason})")
    events, _ = read_events(result.run.path("events.jsonl"))
    by_epoch = {e["epoch"]: e for e in events if e.get("event") == "epoch"}
    out, total = Result(arm, seed, cpu_seconds=cpu, run_dir=result.run.dir), 0.0
    for n in sorted(by_epoch):
        total += float(by_epoch[n]["seconds"])
        out.curve.append((total, float(by_epoch[n]["logs"]["val_accuracy"])))
    return out


# ---- report -----------------------------------------------------------------------------------


def _stat(values: list[float | None], fmt: str) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "never"
    mean, median = statistics.fmean(got), statistics.median(got)
    spread = (max(got) - min(got)) / 2
    text = f"{format(mean, fmt)} ± {format(spread, fmt)} (median {format(median, fmt)})"
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)} seeds)"


def report(results: list[Result], target: float, cores: int, labels: dict[str, str]) -> dict:
    """Print the table; return the figures as a dict."""
    by_arm: dict[str, list[Result]] = {}
    for r in results:
        if not r.arm.startswith("ladder"):
            by_arm.setdefault(r.arm, []).append(r)
    tutorial_final = statistics.fmean(r.final for r in by_arm["tutorial"])
    tutorial_time = statistics.fmean(r.seconds for r in by_arm["tutorial"])
    figures: dict = {"target": target, "tutorial_final": tutorial_final, "arms": {}}
    print(f"\nseeds: {sorted({r.seed for r in results})}   cores: {cores}")
    print(f"tutorial final accuracy (mean): {tutorial_final:.2%} in {tutorial_time:.1f} s\n")
    for arm, rs in by_arm.items():
        t_target = [r.time_to(target) for r in rs]
        t_tut = [r.time_to(tutorial_final) for r in rs]
        ratio = [None if t is None else t / tutorial_time for t in t_tut]
        fig = {
            "label": labels[arm],
            "final": [r.final for r in rs],
            "seconds": [r.seconds for r in rs],
            "cpu_per_core": [r.cpu_seconds / cores for r in rs],
            "time_to_target": t_target,
            "time_to_tutorial_final": t_tut,
            "ratio_to_tutorial_time": ratio,
            "curves": [r.curve for r in rs],
        }
        figures["arms"][arm] = fig
        # the same times on the CPU clock (quiet-machine estimate): each run's epochs
        # scaled by its CPU-per-core / wall ratio
        tut_cpu = statistics.fmean(r.cpu_seconds / cores for r in by_arm["tutorial"])
        scale = [r.cpu_seconds / cores / r.seconds if r.seconds else 0.0 for r in rs]
        cpu_tut = [None if t is None else t * k for t, k in zip(t_tut, scale, strict=True)]
        fig["cpu_time_to_tutorial_final"] = cpu_tut
        fig["cpu_ratio_to_tutorial"] = [None if t is None else t / tut_cpu for t in cpu_tut]
        rows = [
            ("val accuracy (final), %", [r.final * 100 for r in rs], ".2f"),
            ("training seconds", fig["seconds"], ".1f"),
            (f"CPU seconds / {cores} cores", fig["cpu_per_core"], ".1f"),
            (f"seconds to {target:.1%}", t_target, ".1f"),
            (f"seconds to {tutorial_final:.2%} (tutorial)", t_tut, ".1f"),
            ("  as a ratio of the tutorial's", ratio, ".2f"),
            ("  the same on the CPU clock", fig["cpu_ratio_to_tutorial"], ".2f"),
        ]
        print(f"{arm:<9} {labels[arm]}")
        for name, values, fmt in rows:
            print(f"  {name:<34} {_stat(values, fmt)}")
    ladder = [r for r in results if r.arm.startswith("ladder")]
    if ladder:
        figures["ladder"] = report_ladder(ladder, by_arm["tutorial"], tutorial_final, cores)
        print(f"ladder    {labels['ladder']}")
        for line in figures["ladder"]["lines"]:
            print(f"  {line}")
    return figures


def report_ladder(
    ladder: list[Result], tutorials: list[Result], accuracy: float, cores: int
) -> dict:
    """The shortest rung whose every seed ends at ``accuracy`` or above, and its time as a
    ratio of the tutorial's training time in the same seed (wall and CPU clocks)."""
    tut = {r.seed: r for r in tutorials}
    rungs: dict[int, list[Result]] = {}
    for r in ladder:
        rungs.setdefault(int(r.arm.split("-")[1]), []).append(r)
    out: dict = {"rungs": {}, "reached_at": None, "lines": []}
    for epochs in sorted(rungs):
        rs = sorted(rungs[epochs], key=lambda r: r.seed)
        ratio = [r.seconds / tut[r.seed].seconds for r in rs]
        cpu_ratio = [r.cpu_seconds / tut[r.seed].cpu_seconds for r in rs]
        reached = all(r.final >= accuracy - 1e-9 for r in rs)
        out["rungs"][epochs] = {
            "final": [r.final for r in rs],
            "seconds": [r.seconds for r in rs],
            "cpu_per_core": [r.cpu_seconds / cores for r in rs],
            "ratio_to_tutorial_time": ratio,
            "cpu_ratio_to_tutorial": cpu_ratio,
            "reached": reached,
        }
        finals = " ".join(f"{r.final:.2%}" for r in rs)
        out["lines"].append(
            f"{epochs} epoch(s): final {finals}  {'reached' if reached else 'not reached'}; "
            f"{_stat([r.seconds for r in rs], '.1f')} s, ratio {_stat(ratio, '.2f')}, "
            f"CPU ratio {_stat(cpu_ratio, '.2f')}"
        )
        if reached and out["reached_at"] is None:
            out["reached_at"] = epochs
    at = out["reached_at"]
    if at is None:
        out["lines"].append(f"no rung reached {accuracy:.2%} for every seed")
    else:
        r = out["rungs"][at]
        out["ratio"] = statistics.median(r["ratio_to_tutorial_time"])
        out["cpu_ratio"] = statistics.median(r["cpu_ratio_to_tutorial"])
        out["lines"].append(
            f"time to {accuracy:.2%} (tutorial's final), every seed: {at} epoch(s), "
            f"ratio to the tutorial's time {_stat(r['ratio_to_tutorial_time'], '.2f')}, "
            f"on the CPU clock {_stat(r['cpu_ratio_to_tutorial'], '.2f')} (goal <= 0.33)"
        )
    return out


def _recipe_label(result_dir: Path) -> str:
    """What the run actually used, from its config.json."""
    cfg = json.loads((result_dir / "config.json").read_text(encoding="utf-8"))
    hp = cfg.get("hyperparameters", {})
    keys = ("recipe", "optimizer", "learning_rate", "batch_size", "epochs", "schedule")
    keys += ("warmup", "weight_decay", "label_smoothing", "ema", "ema_momentum")
    shown = ", ".join(f"{k} {hp[k]}" for k in keys if hp.get(k) not in (None, ""))
    request = json.loads((result_dir / "request.json").read_text(encoding="utf-8"))
    builder = request.get("builder_args")
    return shown + (f", builder {builder}" if builder else "")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="exit 1 if the modern arm misses --target or trains longer than this many "
        "seconds on average (default 120)",
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, 2 epochs per arm")
    parser.add_argument("--model", default=MODERN, help=f"modern entry (default {MODERN})")
    parser.add_argument("--tutorial", default=TUTORIAL, help=f"default {TUTORIAL}")
    parser.add_argument("--target", type=float, default=TARGET, help="default 0.988")
    parser.add_argument("--arms", default="modern,tutorial,adam,ladder", help="comma-separated")
    parser.add_argument("--epochs", type=int, help="modern and adam arms (default: the entry's)")
    parser.add_argument("--width", type=int, help="builder parameter of the modern entry")
    parser.add_argument("--depth", type=int, help="builder parameter of the modern entry")
    parser.add_argument(
        "--augment",
        default="translation=0.1",
        help="modern and adam arms (default translation=0.1; '' for none)",
    )
    parser.add_argument(
        "--ladder", default=LADDER, help=f"ladder arm's epoch counts (default {LADDER})"
    )
    parser.add_argument(
        "--ladder-model", default=LADDER_MODEL, help=f"ladder arm's entry (default {LADDER_MODEL})"
    )
    for flag, what in (
        ("--ladder-width", "builder width"),
        ("--ladder-depth", "builder depth"),
        ("--ladder-max-side", "builder max_side"),
        ("--ladder-batch", "batch size"),
    ):
        parser.add_argument(flag, type=int, help=f"ladder arm's {what} (default: the entry's)")
    parser.add_argument(
        "--ladder-lr", type=float, help="ladder arm's peak LR (default: the entry's)"
    )
    parser.add_argument(
        "--ladder-augment", default="", help="ladder arm's --augment (default: none)"
    )
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=0.33,
        help="exit 1 if the ladder's median ratio to the tutorial's time is above this",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    return parser


def _parse(argv: list[str] | None) -> tuple[argparse.Namespace, list[str], list[int]]:
    """The options, the arms and the ladder's epoch counts (exit 2 on bad ones)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1; got {args.seeds}")
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if "tutorial" not in arms or not set(arms) <= {"modern", "tutorial", "adam", "ladder"}:
        parser.error(
            "--arms: a comma-separated subset of modern,tutorial,adam,ladder with tutorial"
        )
    try:
        rungs = sorted({int(n) for n in args.ladder.split(",") if n.strip()})
    except ValueError:
        parser.error(f"--ladder takes epoch counts such as 1,2,3; got {args.ladder!r}")
    if not rungs or rungs[0] < 1:
        parser.error(f"--ladder takes epoch counts of at least 1; got {args.ladder!r}")
    return args, arms, rungs


def _goals(figures: dict, args: argparse.Namespace) -> int:
    """Print the goals missed; 1 if any was, else 0 (a --quick run checks none)."""
    if args.quick:
        return 0
    failed = 0
    if "ladder" in figures:
        ratio = figures["ladder"].get("ratio")
        if ratio is None or ratio > args.max_ratio:
            print(
                f"\nladder: median ratio {ratio} to the tutorial's time; goal <= {args.max_ratio}"
            )
            failed = 1
    modern = figures["arms"].get("modern")
    if modern:
        mean_final = statistics.fmean(modern["final"])
        mean_time = statistics.fmean(modern["seconds"])
        if mean_final < args.target or mean_time > args.budget:
            print(
                f"\nmodern arm: {mean_final:.2%} in {mean_time:.1f} s; the goal is "
                f"{args.target:.1%} within --budget {args.budget:g} s"
            )
            failed = 1
    return failed


def main(argv: list[str] | None = None) -> int:
    args, arms, rungs = _parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from cnntui.core import registry

    seeds = [0] if args.quick else list(range(args.seeds))
    entry = registry.get_model(args.model)
    tutorial = registry.get_model(args.tutorial)
    epochs = 2 if args.quick else (args.epochs or entry.hyperparameters.epochs)
    tut_epochs = 2 if args.quick else tutorial.hyperparameters.epochs
    builder = {k: v for k, v in (("width", args.width), ("depth", args.depth)) if v is not None}
    shared = {
        "epochs": epochs,
        "builder_args": builder,
        "augment": [a for a in args.augment.split(",") if a],
    }
    adam = {
        "recipe": "article",
        "optimizer": "adam",
        "learning_rate": 1e-3,
        "batch_size": entry.hyperparameters.batch_size,
        "schedule": "constant",
        "warmup": 0.0,
        "label_smoothing": 0.0,
        "ema": False,
    }
    ladder_entry = registry.get_model(args.ladder_model)
    sizes = {"width": args.ladder_width, "depth": args.ladder_depth}
    sizes["max_side"] = args.ladder_max_side
    ladder = {
        "builder_args": {k: v for k, v in sizes.items() if v is not None},
        "batch_size": args.ladder_batch,
        "learning_rate": args.ladder_lr,
        "augment": [a for a in args.ladder_augment.split(",") if a],
    }
    ladder_hp = ladder_entry.hyperparameters
    if args.quick:
        rungs = rungs[:1]
    arm_runs = [f"ladder-{n}" for n in rungs] if "ladder" in arms else []
    order = [a for a in arms if a != "ladder"] + arm_runs
    labels = {
        "ladder": f"{ladder_entry.name} {ladder['builder_args'] or 'its defaults'}, "
        f"--batch-size {args.ladder_batch or ladder_hp.batch_size} "
        f"--lr {args.ladder_lr or ladder_hp.learning_rate:g} "
        f"(its recipe; augment {args.ladder_augment or 'none'}) "
        f"for {','.join(map(str, rungs))} epochs",
        "tutorial": f"{tutorial.name}, article setup via cnntui train ({tut_epochs} epochs)",
        "adam": f"{entry.name}, constant-LR Adam 1e-3 via cnntui train "
        f"(batch {adam['batch_size']}, {epochs} epochs)",
    }
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as runs_dir:
        for i, seed in enumerate(seeds):
            for arm in order[i % len(order) :] + order[: i % len(order)]:
                keras.backend.clear_session()
                if arm.startswith("ladder"):
                    n = int(arm.split("-")[1])
                    r = train_cnntui(arm, ladder_entry.name, seed, runs_dir, epochs=n, **ladder)
                elif arm == "modern":
                    r = train_cnntui(arm, entry.name, seed, runs_dir, **shared)
                    labels.setdefault(
                        "modern", f"{entry.name} via cnntui train: {_recipe_label(r.run_dir)}"
                    )
                elif arm == "tutorial":
                    r = train_cnntui(arm, tutorial.name, seed, runs_dir, epochs=tut_epochs)
                else:
                    r = train_cnntui(arm, entry.name, seed, runs_dir, **shared, **adam)
                print(
                    f"seed {seed} {arm:<8} final {r.final:.2%}  {r.seconds:6.1f} s  "
                    f"cpu/core {r.cpu_seconds / _cores():6.1f} s  "
                    + " ".join(f"{acc:.3f}" for _, acc in r.curve),
                    flush=True,
                )
                results.append(r)
    figures = report(results, args.target, _cores(), labels)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return _goals(figures, args)


if __name__ == "__main__":
    raise SystemExit(main())
