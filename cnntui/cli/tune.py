"""``cnntui tune``: hyperparameter search with Optuna, every trial an ordinary run.

``cnntui tune MODEL …`` (short for ``cnntui tune run MODEL …``) runs trials of a study until
it has ``--trials``; run the same command in another terminal, or on another machine with
the same ``--storage`` URL, to add a worker. ``cnntui tune show STUDY`` prints the
leaderboard; ``cnntui tune list`` the studies.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cnntui.cli.errors import CLIError, handle_errors
from cnntui.cli.options import (
    AsJson,
    Epochs,
    InputShape,
    Limit,
    Patience,
    RunsDir,
    Seed,
    Storage,
    TrainData,
    ValSplit,
    View,
    Zoo,
)
from cnntui.cli.output import check_view, sinks, table


class _RunByDefault(TyperGroup):
    """``cnntui tune MODEL …`` and ``cnntui tune --study NAME …`` mean ``cnntui tune run …``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args.insert(0, "run")
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    help="Hyperparameter search with Optuna: `cnntui tune MODEL --trials N`, "
    "`cnntui tune show STUDY`, `cnntui tune list`.",
    no_args_is_help=True,
)


def _settings(values: list[str] | None) -> dict[str, Any]:
    from cnntui.core.tune.space import scalar, train_fields

    out: dict[str, Any] = {}
    allowed = train_fields()
    for item in values or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise CLIError(f"--set takes KEY=VALUE (a `cnntui train` option); got {item!r}")
        if key not in allowed:
            raise CLIError(f"--set {key}: not a training option; choose from {sorted(allowed)}")
        out[key] = scalar(value)
    return out


@app.command("run")
@handle_errors
def run(
    model: Annotated[
        str | None,
        typer.Argument(
            help="Zoo entry to tune (see `cnntui zoo list`); omit it to join --study NAME "
            "with the options the study records."
        ),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option("--trials", "-n", help="Trials in the study (default 20, or the study's)."),
    ] = None,
    data: TrainData = None,
    study: Annotated[
        str | None,
        typer.Option("--study", help="Study name (default: MODEL-DATA); continues one."),
    ] = None,
    space: Annotated[
        str | None,
        typer.Option(
            "--space",
            help="lr=1e-4..1e-2:log,batch_size=32|64|128 or a .toml/.yaml file "
            "(default: the entry's sensible space).",
        ),
    ] = None,
    metric: Annotated[
        str, typer.Option("--metric", help="val_accuracy (maximised) or val_loss (minimised).")
    ] = "val_accuracy",
    pruner: Annotated[
        str, typer.Option("--pruner", help="median, hyperband or none (epoch-end pruning).")
    ] = "median",
    timeout: Annotated[
        str | None, typer.Option("--timeout", help="Stop starting trials after 2h, 30m, …")
    ] = None,
    storage: Storage = None,
    epochs: Epochs = None,
    limit: Limit = None,
    val_split: ValSplit = 0.1,
    seed: Seed = 0,
    sampler_seed: Annotated[
        int | None, typer.Option("--sampler-seed", help="Seed of Optuna's sampler.")
    ] = None,
    patience: Patience = 0,
    input_shape: InputShape = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any other `cnntui train` option for every trial: KEY=VALUE."),
    ] = None,
    runs_dir: RunsDir = None,
    zoo: Zoo = None,
    view: View = "lines",
    as_json: AsJson = False,
) -> None:
    """Search hyperparameters of MODEL; each trial is a run (runs watch/compare/evaluate)."""
    from cnntui.core.train.budget import parse_duration
    from cnntui.core.train.request import config_from_values
    from cnntui.core.tune.study import TuneRequest, join_request

    check_view(view)
    budget = parse_duration(timeout, "--timeout", minimum=1) if timeout else None
    if model is None:
        if not study:
            raise CLIError(
                "name the entry to tune (`cnntui tune MODEL …`), or join a study that "
                "exists with `cnntui tune --study NAME` (see `cnntui tune list`)"
            )
        request = join_request(study, storage, runs_dir, trials=trials, timeout=budget)
        request.seed = sampler_seed
    else:
        options = dict(
            model=model, data=data, epochs=epochs, limit=limit, val_split=val_split, seed=seed,
            patience=patience, input_shape=input_shape, runs_dir=runs_dir, zoo=zoo,
        )  # fmt: skip
        base = config_from_values({**options, **_settings(set_)}).validate()
        request = TuneRequest(
            base=base,
            trials=trials if trials is not None else 20,
            study=study,
            space=space,
            metric=metric,
            pruner=pruner,
            storage=storage,
            timeout=budget,
            seed=sampler_seed,
        )
    request.base.argv = ["cnntui", *sys.argv[1:]]
    _run_worker(request, view, as_json)


def _run_worker(request, view: str, as_json: bool) -> None:
    """Run this worker's trials, printing each as it ends; Ctrl+C stops after the trial."""
    from cnntui.core.tune.study import run_worker

    stop = threading.Event()
    old = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        report = run_worker(
            request,
            sinks=lambda: sinks(view, as_json, False),
            on_trial=lambda o: _print_outcome(o, request.metric, as_json, request),
            stop=stop,
        )
    finally:
        signal.signal(signal.SIGINT, old)
    _print_end(report, request, as_json)
    if report.stopped == "interrupted by user":
        raise typer.Exit(130)


def _fmt_params(params: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _print_outcome(outcome, metric: str, as_json: bool, request) -> None:
    """The trial that just ended, then the leaderboard so far (all workers' trials)."""
    from dataclasses import asdict

    from cnntui.core.tune.study import leaderboard, load_study, study_name

    if as_json:
        typer.echo(json.dumps({"trial": asdict(outcome)}))
        return
    value = f" {metric} {outcome.value:.4f}" if outcome.value is not None else ""
    why = f" ({outcome.reason})" if outcome.reason else ""
    typer.echo(
        f"trial {outcome.number}: {outcome.state}{value}{why} — {_fmt_params(outcome.params)}"
        + (f" — run {outcome.run_id}" if outcome.run_id else "")
    )
    rows = leaderboard(load_study(study_name(request), request.storage, request.base.runs_dir))
    done = [r for r in rows if r["value"] is not None]
    if len(done) > 1:
        typer.echo("leaderboard so far:\n" + _indent(_leaderboard_table(done[:5])) + "\n")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _print_end(report, request, as_json: bool) -> None:
    from cnntui.core.tune.study import leaderboard, load_study

    study = load_study(report.study, request.storage, request.base.runs_dir)
    rows = leaderboard(study)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "study": report.study,
                    "storage": report.storage,
                    "ran": len(report.outcomes),
                    "stopped": report.stopped,
                    "leaderboard": rows,
                }
            )
        )
        return
    typer.echo("")
    typer.echo(_leaderboard_table(rows[:10]))
    ran = len(report.outcomes)
    typer.echo(
        f"\nstudy {report.study} ({report.storage}): this worker ran {ran} trial"
        f"{'s' if ran != 1 else ''}; {len(rows)} in the study"
        + (f"; stopped: {report.stopped}" if report.stopped else "")
    )
    typer.echo(f"details: cnntui tune show {report.study}")


def _leaderboard_table(rows: list[dict[str, Any]]) -> str:
    cells = [
        [
            str(r["trial"]),
            f"{r['value']:.4f}" if r["value"] is not None else "-",
            r["state"],
            str(r["epochs"] or "-"),
            _fmt_params(r["params"]),
            r["run_id"] or "-",
        ]
        for r in rows
    ]
    return table(cells, ["trial", "value", "state", "epochs", "parameters", "run"])


@app.command("show")
@handle_errors
def show(
    study: Annotated[str, typer.Argument(help="Study name (see `cnntui tune list`).")],
    storage: Storage = None,
    runs_dir: RunsDir = None,
    as_json: AsJson = False,
) -> None:
    """Leaderboard, parameter importances and the best trial's curve."""
    from cnntui.core.tune.study import importances, leaderboard, load_study

    st = load_study(study, storage, runs_dir)
    rows = leaderboard(st)
    imp = importances(st)
    definition = st.user_attrs.get("definition") or {}
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "study": study,
                    "direction": st.direction.name.lower(),
                    "definition": definition,
                    "importances": imp,
                    "leaderboard": rows,
                },
                indent=2,
            )
        )
        return
    typer.echo(
        f"study {study}: {definition.get('model', '?')}, {definition.get('metric', '?')} "
        f"({st.direction.name.lower()}), space {definition.get('space', '?')}"
    )
    typer.echo(_leaderboard_table(rows))
    if imp:
        typer.echo("\nparameter importances (Optuna, fANOVA):")
        for name, value in imp.items():
            typer.echo(f"  {name:<20} {value:6.3f}  {'█' * int(round(value * 30))}")
    best = next((r for r in rows if r["state"] == "complete" and r["run_id"]), None)
    if best:
        _plot_best(best["run_id"], definition.get("metric", "val_accuracy"), runs_dir)


def _plot_best(run_id: str, metric: str, runs_dir: str | None) -> None:
    import shutil

    import plotext as plt

    from cnntui.core.event_stream import fold_file
    from cnntui.core.runs import EVENTS, RunNotFoundError, resolve_run

    try:
        run = resolve_run(run_id, runs_dir)
    except RunNotFoundError:
        return
    xs, ys = fold_file(run.path(EVENTS), skip=("batch",)).curve(metric)
    if not xs:
        return
    plt.clear_figure()
    plt.theme("clear")
    plt.plotsize(min(100, shutil.get_terminal_size((100, 30)).columns - 1), 14)
    plt.title(f"best trial: {metric} per epoch (run {run.id})")
    plt.plot(xs, ys, marker="braille")
    if not sys.stdout.isatty():
        plt.clear_color()
    typer.echo("\n" + plt.build())


@app.command("list")
@handle_errors
def list_(
    storage: Storage = None,
    runs_dir: RunsDir = None,
    as_json: AsJson = False,
) -> None:
    """Every study in the storage, with its best value."""
    from cnntui.core.tune.study import list_studies

    rows = list_studies(storage, runs_dir)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no studies yet; start one with `cnntui tune MODEL --trials N`")
        return
    typer.echo(
        table(
            [
                [
                    r["study"],
                    str(r["model"] or "-"),
                    str(r["trials"]),
                    f"{r['best_value']:.4f}" if r["best_value"] is not None else "-",
                    str(r["best_trial"] if r["best_trial"] is not None else "-"),
                ]
                for r in rows
            ],
            ["study", "model", "trials", "best", "best trial"],
        )
    )
