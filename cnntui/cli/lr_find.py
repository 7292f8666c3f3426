"""``cnntui lr-find MODEL``: sweep the learning rate, draw the loss, suggest a value."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from typing import Annotated

import typer

from cnntui.cli.errors import CLIError, handle_errors
from cnntui.cli.options import (
    AsJson,
    Depth,
    InputShape,
    LabelSmoothing,
    Limit,
    Optimizer,
    Recipe,
    Seed,
    TrainBatchSize,
    TrainData,
    WeightDecay,
    Width,
    Zoo,
)


def render_sweep(sweep, width: int = 80, height: int = 20, color: bool = True) -> str:
    """The smoothed loss against the learning rate (log scale), suggestions marked."""
    import plotext as plt

    pts = [(math.log10(lr), s) for lr, s in zip(sweep.lrs, sweep.smoothed) if s is not None]
    lo = hi = 0.0
    plt.clear_figure()
    plt.theme("clear")
    plt.plotsize(width, height)
    plt.title("smoothed loss vs learning rate")
    if pts:
        plt.plot([p[0] for p in pts], [p[1] for p in pts], marker="braille", color="cyan")
        ys = [p[1] for p in pts]
        lo, hi = min(ys), min(max(ys), 4 * min(ys) if min(ys) > 0 else max(ys))
        plt.ylim(lo - 0.05 * (hi - lo + 1e-9), hi)
    lo, hi = (lo, hi) if pts else (0.0, 1.0)
    for k, (name, colour) in enumerate((("valley", "green"), ("steep", "orange"))):
        value = sweep.suggestions.get(name)
        if value:
            x = math.log10(value)
            plt.vline(x, colour)
            plt.text(f"{name} {value:.1e}", x, hi - (0.08 + 0.1 * k) * (hi - lo), color=colour)
    ticks = list(
        range(math.floor(math.log10(sweep.lrs[0])), math.ceil(math.log10(sweep.lrs[-1])) + 1)
    )
    plt.xticks(ticks, [f"1e{t}" for t in ticks])
    plt.xlabel("learning rate")
    if not color:
        plt.clear_color()
    return plt.build()


@handle_errors
def lr_find(
    model: Annotated[str, typer.Argument(help="Zoo entry (see `cnntui zoo list`).")],
    data: TrainData = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", help="Sweep points (default: one epoch, 20 to 100)."),
    ] = None,
    start: Annotated[float, typer.Option("--start", help="First learning rate.")] = 1e-7,
    end: Annotated[float, typer.Option("--end", help="Last learning rate.")] = 10.0,
    batch_size: TrainBatchSize = None,
    optimizer: Optimizer = None,
    recipe: Recipe = None,
    weight_decay: WeightDecay = None,
    label_smoothing: LabelSmoothing = None,
    limit: Limit = None,
    input_shape: InputShape = None,
    zoo: Zoo = None,
    width: Width = None,
    depth: Depth = None,
    seed: Seed = 0,
    as_json: AsJson = False,
) -> None:
    """Sweep the learning rate exponentially over at most one epoch and suggest one.

    The sweep stops early when the loss explodes. Suggestions (fastai's rules): valley
    (the pick for `train --lr auto`) and steepest descent.
    """
    from cnntui.core.train.lr_find import find_lr, lr_values
    from cnntui.core.train.request import config_from_values

    if steps is not None:
        lr_values(steps, start, end)  # checks the numbers before any work
    else:
        lr_values(2, start, end)
    cfg = config_from_values(
        dict(
            model=model, data=data, batch_size=batch_size, optimizer=optimizer, recipe=recipe,
            weight_decay=weight_decay, label_smoothing=label_smoothing, limit=limit,
            input_shape=input_shape, zoo=zoo, width=width, depth=depth, seed=seed, patience=0,
        )
    )  # fmt: skip
    cfg.validate()
    from cnntui.core.data.sources import classify_source

    classify_source(cfg.data)
    tty = sys.stderr.isatty() and not as_json

    def on_step(i, n, lr, loss):
        if tty:
            sys.stderr.write(f"\rsweep {i}/{n}  lr {lr:.1e}  loss {loss:.4f}   ")
            sys.stderr.flush()

    try:
        sweep, info = find_lr(cfg, steps, start, end, on_step=on_step)
    except (ValueError, FileNotFoundError):
        raise
    except Exception as exc:  # noqa: BLE001 - a TensorFlow error, one clear line
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise CLIError(f"lr-find failed ({type(exc).__name__}): {reason}", 1) from None
    if tty:
        sys.stderr.write("\r" + " " * 60 + "\r")
    if as_json:
        typer.echo(json.dumps({**info, **sweep.to_dict()}))
        return
    size = shutil.get_terminal_size((100, 24))
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    typer.echo(render_sweep(sweep, min(size.columns, 120), max(12, min(24, size.lines - 6)), color))
    tried = f"{len(sweep.lrs)} of {info['steps']} steps"
    stop = " (stopped early: the loss exploded)" if sweep.stopped_early else ""
    typer.echo(
        f"{info['model']} on {info['data']}: {tried}{stop}, batch {info['batch_size']}, "
        f"{info['optimizer']} ({info['recipe']} recipe)"
    )
    if sweep.suggestion is None:
        typer.echo("no suggestion: the loss never fell; try a wider --start/--end or more --steps")
        raise typer.Exit(1)
    for name, value in sweep.suggestions.items():
        typer.echo(
            f"{name:>7}: {value:.2e}" + ("   <- suggested (valley)" if name == "valley" else "")
        )
    typer.echo(
        f"train with:  cnntui train {info['model']} --lr {sweep.suggestion:.2g}  (or --lr auto)"
    )
