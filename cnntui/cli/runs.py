"""``cnntui runs``: list, show, watch, compare and remove training runs."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cnntui.cli.errors import CLIError, handle_errors
from cnntui.cli.options import AsJson, RunRef, RunsDir
from cnntui.cli.output import sinks, table
from cnntui.core.formats import fmt_metric

app = typer.Typer(help="List, show, watch, compare and remove training runs.", no_args_is_help=True)


def _fmt(value: Any, spec: str = ".4f") -> str:
    if value is None or value == "":
        return "-"
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return str(value)


@app.command("list")
@handle_errors
def list_(
    as_json: AsJson = False,
    runs_dir: RunsDir = None,
) -> None:
    """Every run, oldest first (id, model, status, data, epochs, best val accuracy)."""
    from cnntui.core.runs import list_runs, runs_root

    runs = list_runs(runs_dir)
    if as_json:
        typer.echo(json.dumps([r.summary() for r in runs], indent=2))
        return
    if not runs:
        typer.echo(f"no runs yet in {runs_root(runs_dir)}; train one with `cnntui train MODEL`")
        return
    rows = []
    for r in runs:
        s = r.summary()
        rows.append(
            [
                s["id"],
                s["model"],
                s["status"],
                str(s["data"] or "-"),
                str(s["epochs"] if s["epochs"] is not None else "-"),
                fmt_metric("val_accuracy", s["best_val_accuracy"]),
            ]
        )
    typer.echo(table(rows, ["id", "model", "status", "data", "epochs", "best val_acc"]))


def weights_lines(hp: dict) -> list[str]:
    """Where a backbone run's weights came from and how it fine-tuned (none for others)."""
    from cnntui.core.train.recipe import finetune_summary

    text = finetune_summary(hp).strip("\n")
    labels = {"weights": "weights", "fine-tune": "finetune"}
    return [f"{labels.get(line.split(':')[0], ''):9s} {line.split(': ', 1)[-1]}"
            for line in text.splitlines()]  # fmt: skip


@app.command("show")
@handle_errors
def show(
    run_ref: RunRef = "latest",
    as_json: AsJson = False,
    runs_dir: RunsDir = None,
) -> None:
    """A run's settings, status, metrics, files and epoch history."""
    from cnntui.core.runs import HISTORY, resolve_run

    run = resolve_run(run_ref, runs_dir)
    cfg, met, info = run.config, run.metrics, run.status_info
    if as_json:
        slim = {k: v for k, v in cfg.items() if k != "model_source"}
        typer.echo(
            json.dumps(
                {
                    "id": run.id,
                    "dir": str(run.dir),
                    "status": run.status,
                    "status_info": info,
                    "config": slim,
                    "metrics": met,
                },
                indent=2,
            )
        )
        return
    hp = cfg.get("hyperparameters", {})
    data = cfg.get("data", {}) if isinstance(cfg.get("data"), dict) else {}
    lines = [
        f"run       {run.id}",
        f"dir       {run.dir}",
        f"status    {run.status}" + (f" — {info['reason']}" if info.get("reason") else ""),
        f"model     {cfg.get('model')} — {cfg.get('title', '')}",
        f"data      {data.get('source', '-')}  classes {cfg.get('num_classes') or '-'}  "
        f"input {'x'.join(map(str, cfg.get('input_shape') or [])) or '-'}  "
        f"images {data.get('counts', {})}",
        f"training  optimizer {hp.get('optimizer')}  lr {hp.get('learning_rate')}  "
        f"loss {hp.get('loss')}  batch {hp.get('batch_size')}  epochs {hp.get('epochs')}  "
        f"patience {hp.get('patience')}  seed {cfg.get('seed')}",
    ]
    lines += weights_lines(hp)
    if met:
        lines.append(
            f"result    {met.get('epochs_completed')} epochs  best epoch {met.get('best_epoch')}  "
            f"val_loss {fmt_metric('val_loss', met.get('best_val_loss'))}  "
            f"val_acc {fmt_metric('val_accuracy', met.get('best_val_accuracy'))}  "
            f"{_fmt(met.get('wall_seconds'), '.1f')}s  {_fmt(met.get('images_per_sec'), ',.0f')} "
            f"img/s"
        )
        if met.get("test"):
            lines.append(
                "test      " + "  ".join(f"{k} {fmt_metric(k, v)}" for k, v in met["test"].items())
            )
    files = sorted(p.name for p in run.dir.iterdir() if not p.name.startswith("."))
    lines.append(f"files     {' '.join(files)}")
    history = run.path(HISTORY)
    if history.exists():
        lines += ["", history.read_text(encoding="utf-8").strip()]
    typer.echo("\n".join(lines))


@app.command("watch")
@handle_errors
def watch(
    run_ref: RunRef = "latest",
    view: Annotated[str, typer.Option("--view", help="auto, live or lines.")] = "auto",
    runs_dir: RunsDir = None,
) -> None:
    """Follow a run live (the same view as `cnntui train`) until it ends."""
    from cnntui.core.runs import resolve_run
    from cnntui.core.train.follow import follow
    from cnntui.core.train.lines import LineSink

    run = resolve_run(run_ref, runs_dir)
    sink = (sinks(view, False, False) or [LineSink()])[0]  # --view none: lines
    try:
        status = follow(run, sink)
    except KeyboardInterrupt:
        sink.close()
        typer.echo(f"stopped watching; run {run.id} keeps going")
        return
    sink.close()
    typer.echo(f"run {run.id}: {status}")


@app.command("compare")
@handle_errors
def compare(
    run_refs: Annotated[list[str], typer.Argument(help="Two or more runs.")],
    metric: Annotated[str, typer.Option("--metric", help="Curve to overlay.")] = "val_accuracy",
    runs_dir: RunsDir = None,
) -> None:
    """Overlay the runs' curves (from their events) and print a table of their results."""
    import shutil

    import plotext as plt

    from cnntui.core.event_stream import fold_file
    from cnntui.core.runs import EVENTS, resolve_run

    runs = [resolve_run(r, runs_dir) for r in run_refs]
    if len(runs) < 2:
        raise CLIError("give at least two runs to compare (see `cnntui runs list`)")
    plt.clear_figure()
    plt.theme("clear")
    cols = min(120, shutil.get_terminal_size((100, 30)).columns - 1)
    plt.plotsize(cols, 18)
    plt.title(metric)
    plt.xlabel("epoch")
    plotted = 0
    for run in runs:
        xs, ys = fold_file(run.path(EVENTS), skip=("batch",)).curve(metric)
        if xs:
            plt.plot(xs, ys, label=f"{run.model_name} {run.id[-4:]}", marker="braille")
            plotted += 1
    if not sys.stdout.isatty():
        plt.clear_color()
    if plotted:
        typer.echo(plt.build())
    else:
        typer.echo(f"(no {metric!r} in these runs' epoch events)")
    rows = []
    for run in runs:
        s, m, cfg = run.summary(), run.metrics, run.config
        rows.append(
            [
                run.id,
                s["model"],
                str(s["data"] or "-"),
                s["status"],
                str(m.get("epochs_completed", "-")),
                fmt_metric("val_loss", m.get("best_val_loss")),
                fmt_metric("val_accuracy", m.get("best_val_accuracy")),
                _fmt(m.get("wall_seconds"), ".1f"),
                _fmt(m.get("images_per_sec"), ",.0f"),
                _fmt(cfg.get("params"), ",.0f"),
            ]
        )
    typer.echo(
        table(
            rows,
            [
                "run",
                "model",
                "data",
                "status",
                "epochs",
                "best val_loss",
                "best val_acc",
                "seconds",
                "img/s",
                "params",
            ],
        )
    )


@app.command("rm")
@handle_errors
def rm(
    run_refs: Annotated[list[str], typer.Argument(help="Run(s) to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    runs_dir: RunsDir = None,
) -> None:
    """Delete runs (their whole directory). Refuses a run that is still training."""
    import shutil

    from cnntui.core.runs import resolve_run

    runs = [resolve_run(r, runs_dir) for r in run_refs]
    for run in runs:
        if run.status == "running":
            raise CLIError(
                f"run {run.id} is still running (pid {run.status_info.get('pid')}); stop it first"
            )
    if not yes:
        if not sys.stdin.isatty():
            raise CLIError("not a terminal: pass --yes to delete without asking")
        names = ", ".join(r.id for r in runs)
        if not typer.confirm(f"delete {names}?"):
            raise typer.Exit(1)
    for run in runs:
        shutil.rmtree(run.dir)
        typer.echo(f"deleted {run.id}")
