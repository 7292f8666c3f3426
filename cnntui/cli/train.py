"""``cnntui train MODEL``: train a zoo entry, live in a terminal, one line per epoch in a pipe.

Options are grouped by help panel, each named like the ``TrainConfig`` field it sets:
those other commands share come from :mod:`cnntui.cli.options`, train's own are declared
below. :func:`config_from_options` hands them to the core's one builder of a
``TrainConfig``. A new training option is a ``TrainConfig`` field plus one parameter here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cnntui.cli.errors import CLIError, handle_errors
from cnntui.cli.options import (
    CHECKPOINTS,
    DATA,
    L1,
    L2,
    OUTPUT,
    RECIPE,
    SCALE,
    Depth,
    Epochs,
    FreezeEpochs,
    InputShape,
    LabelSmoothing,
    Limit,
    LrMult,
    MaxSide,
    Optimizer,
    Patience,
    Recipe,
    RunsDir,
    Seed,
    Storage,
    TrainBatchSize,
    TrainBn,
    TrainData,
    Unfreeze,
    ValSplit,
    View,
    WeightDecay,
    Weights,
    Width,
    Zoo,
    option,
)
from cnntui.cli.output import check_view, sinks
from cnntui.cli.panels import PanelCommand

if TYPE_CHECKING:
    from cnntui.core.runs import Run
    from cnntui.core.train import TrainConfig, TrainResult

COMMAND_CLASS = PanelCommand
EXIT_STOPPED = 130

ValidateOn = Annotated[
    str,
    option(
        "--validate-on",
        panel=DATA,
        help="split (hold out --val-split) or test (train on the whole training set, "
        "validate on the source's test set, as the Keras tutorials do).",
    ),
]
Rescale = Annotated[
    str,
    option(
        "--rescale",
        panel=DATA,
        help="Pixel scaling: unit (/255, inputs in [0, 1]) or none (raw 0-255, as the MNIST "
        "tutorials fed them). Recorded with the run; predict applies it.",
    ),
]
ResizeMode = Annotated[
    str,
    option(
        "--resize-mode",
        panel=DATA,
        help="Fit images to the input: stretch, crop (centre) or pad (keep aspect).",
    ),
]
LearningRate = Annotated[
    str | None,
    option(
        "--lr",
        panel=RECIPE,
        help="Learning rate, or auto (an LR-finder sweep first, its valley suggestion). "
        "Default: the entry's, else the recipe's.",
    ),
]
Schedule = Annotated[
    str | None,
    option(
        "--schedule", panel=RECIPE, help="LR schedule: constant, cosine, onecycle, step, plateau."
    ),
]
Warmup = Annotated[
    float | None,
    option("--warmup", panel=RECIPE, help="Linear LR warm-up in epochs (0.5 allowed)."),
]
Ema = Annotated[
    bool | None,
    option(
        "--ema/--no-ema",
        panel=RECIPE,
        help="Average the weights (EMA); validation and checkpoints use the average.",
    ),
]
MixUp = Annotated[float | None, option("--mixup", panel=RECIPE, help="MixUp alpha, e.g. 0.2.")]
CutMix = Annotated[float | None, option("--cutmix", panel=RECIPE, help="CutMix alpha, e.g. 1.0.")]
RandAugment = Annotated[
    str | None,
    option(
        "--randaugment",
        panel=RECIPE,
        help="RandAugment N,M: N operations per image at magnitude M (0-10), e.g. 2,9.",
    ),
]
RandomErasing = Annotated[
    float | None,
    option("--random-erasing", panel=RECIPE, help="Erase a random patch with this probability."),
]
ClassWeight = Annotated[
    str | None,
    option(
        "--class-weight",
        panel=RECIPE,
        help="auto (inverse class frequency), none, or a JSON file of class -> weight.",
    ),
]
TimeBudget = Annotated[
    str | None,
    option(
        "--time",
        panel=RECIPE,
        help="Wall-clock budget for training, e.g. 10m or 1h30m: sets the epoch count "
        "(--epochs caps it) and fits the LR schedule to it.",
    ),
]
Loss = Annotated[str | None, option("--loss", panel=RECIPE, help="Keras loss name.")]
ReduceLR = Annotated[
    bool, option("--reduce-lr", panel=RECIPE, help="Halve the learning rate on a val-loss plateau.")
]
Augment = Annotated[
    list[str] | None,
    option(
        "--augment",
        panel=RECIPE,
        help="Augmentations for training images, comma-separated or repeated "
        "(see `cnntui data --help`).",
    ),
]
Resume = Annotated[
    str | None,
    option(
        "--resume",
        panel=CHECKPOINTS,
        help="Continue RUN (id, prefix or `latest`) from its last completed epoch.",
    ),
]
Name = Annotated[str | None, option("--name", panel=CHECKPOINTS, help="A name for the run id.")]
Strategy = Annotated[
    str,
    option(
        "--strategy", panel=SCALE, help="default, mirrored (all GPUs) or multiworker (TF_CONFIG)."
    ),
]
MixedPrecision = Annotated[
    bool, option("--mixed-precision", panel=SCALE, help="float16 on GPU, bfloat16 on CPU.")
]
JitCompile = Annotated[bool, option("--jit-compile", panel=SCALE, help="Compile with XLA.")]
Backend = Annotated[
    str | None,
    typer.Option(
        "--backend",
        metavar="NAME",
        rich_help_panel=SCALE,
        help="Keras backend: tensorflow (default), jax or torch; else $KERAS_BACKEND "
        "(the same as `cnntui --backend NAME train`).",
    ),
]
AsJson = Annotated[
    bool,
    option(
        "--json",
        panel=OUTPUT,
        help="Print the run id on start and the result at the end as JSON lines.",
    ),
]
Quiet = Annotated[bool, option("--quiet", "-q", panel=OUTPUT, help="Print only the run id.")]
Detach = Annotated[
    bool, option("--detach", panel=OUTPUT, help="Train in the background; print the run id.")
]
Tensorboard = Annotated[
    bool, option("--tensorboard", panel=OUTPUT, help="Also write TensorBoard logs in the run.")
]
FromTrial = Annotated[
    str | None,
    option(
        "--from-trial",
        panel=CHECKPOINTS,
        help="Retrain a `cnntui tune` trial exactly: STUDY (its best trial) or STUDY:N; "
        "options given here override it (e.g. --epochs 50).",
    ),
]


@handle_errors
def train(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Argument(help="Zoo entry to train (see `cnntui zoo list`).")
    ] = None,
    data: TrainData = None,
    val_split: ValSplit = 0.1,
    validate_on: ValidateOn = "split",
    rescale: Rescale = "unit",
    limit: Limit = None,
    resize_mode: ResizeMode = "stretch",
    zoo: Zoo = None,
    input_shape: InputShape = None,
    width: Width = None,
    depth: Depth = None,
    l1: L1 = None,
    l2: L2 = None,
    max_side: MaxSide = None,
    epochs: Epochs = None,
    batch_size: TrainBatchSize = None,
    learning_rate: LearningRate = None,
    optimizer: Optimizer = None,
    loss: Loss = None,
    patience: Patience = None,
    reduce_lr: ReduceLR = False,
    augment: Augment = None,
    seed: Seed = 0,
    recipe: Recipe = None,
    schedule: Schedule = None,
    warmup: Warmup = None,
    weight_decay: WeightDecay = None,
    label_smoothing: LabelSmoothing = None,
    ema: Ema = None,
    mixup: MixUp = None,
    cutmix: CutMix = None,
    randaugment: RandAugment = None,
    random_erasing: RandomErasing = None,
    class_weight: ClassWeight = None,
    time_budget: TimeBudget = None,
    weights: Weights = None,
    freeze_epochs: FreezeEpochs = None,
    unfreeze: Unfreeze = None,
    lr_mult: LrMult = None,
    train_bn: TrainBn = False,
    resume: Resume = None,
    name: Name = None,
    runs_dir: RunsDir = None,
    strategy: Strategy = "default",
    mixed_precision: MixedPrecision = False,
    jit_compile: JitCompile = False,
    backend: Backend = None,
    view: View = "auto",
    as_json: AsJson = False,
    quiet: Quiet = False,
    detach: Detach = False,
    tensorboard: Tensorboard = False,
    from_trial: FromTrial = None,
    storage: Storage = None,
) -> None:
    """Train a zoo entry; defaults come from the entry (the article's setup)."""
    from cnntui.core.backend import select
    from cnntui.core.runs import resolve_run

    if backend:
        select(backend)  # before the imports below bring in Keras, which reads it once
    from cnntui.core.train import execute, multiworker, prepare_resume, prepare_run

    check_view(view)
    if resume:
        run = prepare_resume(resolve_run(resume, runs_dir), epochs)
    elif from_trial:
        run = prepare_run(config_from_trial(from_trial, storage, ctx))
    elif not model:
        raise CLIError("give a MODEL to train (see `cnntui zoo list`), or --resume RUN")
    else:
        run = prepare_run(config_from_options(ctx.params))
    if detach:
        _start_detached(run, as_json, quiet)
        return
    _announce(run, as_json, quiet)
    result = execute(run, sinks=sinks(view, as_json, quiet))
    if result.status == "finished" and multiworker.is_scratch(run.dir):
        multiworker.remove_scratch(run.dir)  # a non-chief worker: the chief wrote the run
        if not as_json and not quiet:
            typer.echo("this worker is not the chief: its scratch run was removed")
    _report(run, result, as_json, quiet)


def config_from_options(options: dict[str, Any]) -> TrainConfig:
    """The request the options make (core/train/request.py): ``None`` is the default."""
    from cnntui.core.train.request import config_from_values

    return config_from_values(options, argv=["cnntui", *sys.argv[1:]])


def config_from_trial(ref: str, storage: str | None, ctx: typer.Context) -> TrainConfig:
    """A tune trial's exact request, with the options given on this command line on top."""
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.train.request import BUILDER_ARGS
    from cnntui.core.tune.study import trial_request

    runs_dir = ctx.params.get("runs_dir")
    cfg, number, study = trial_request(ref, storage, runs_dir)
    given = {
        k
        for k in ctx.params
        if getattr(ctx.get_parameter_source(k), "name", "") == "COMMANDLINE"
        and k not in ("from_trial", "storage")
    }
    if ctx.params.get("model") and ctx.params["model"] != cfg.model:
        raise CLIError(
            f"trial {study}:{number} trained {cfg.model}, not {ctx.params['model']}; "
            "leave MODEL out with --from-trial"
        )
    overrides = config_from_options({**{k: ctx.params[k] for k in given}, "model": cfg.model})
    known = {f.name for f in fields(TrainConfig)}
    values = {**cfg.to_dict(), **{k: getattr(overrides, k) for k in given if k in known}}
    if given & set(BUILDER_ARGS):
        values["builder_args"] = {**(cfg.builder_args or {}), **overrides.builder_args}
    values["name"] = values.get("name") if "name" in given else f"{study}-t{number}-retrain"
    values["argv"] = ["cnntui", *sys.argv[1:]]
    values["runs_dir"] = runs_dir
    return TrainConfig.from_dict(values)


def _started(run: Run) -> dict[str, str]:
    return {"run_id": run.id, "dir": str(run.dir)}


def _start_detached(run: Run, as_json: bool, quiet: bool) -> None:
    from cnntui.core.runs import LOG
    from cnntui.core.train.detach import start_detached

    pid = start_detached(run)
    info = {**_started(run), "pid": pid, "log": str(run.path(LOG))}
    if as_json:
        typer.echo(json.dumps(info))
    elif quiet:
        typer.echo(run.id)
    else:
        typer.echo(f"training in the background: run {run.id} (pid {pid})")
        typer.echo(f"follow it:  cnntui runs watch {run.id}")
        typer.echo(f"log:        {info['log']}")


def _announce(run: Run, as_json: bool, quiet: bool) -> None:
    if as_json:
        typer.echo(json.dumps(_started(run)))
    elif quiet:
        typer.echo(run.id)


def _report(run: Run, result: TrainResult, as_json: bool, quiet: bool) -> None:
    """Print how the run ended and exit with its code (0, 1 failed, 130 stopped)."""
    if as_json:
        end = {"status": result.status, "reason": result.reason, "metrics": result.metrics}
        typer.echo(json.dumps({**_started(run), **end}))
    elif not quiet:
        typer.echo(f"run {run.id}: {result.status} ({result.reason}) — {run.dir}")
    if result.status == "failed":
        raise typer.Exit(1)
    if result.status == "stopped":
        resumable = result.metrics.get("epochs_completed", 0) > 0
        if resumable and not as_json and not quiet:
            typer.echo(f"resume with:  cnntui train --resume {run.id}")
        raise typer.Exit(EXIT_STOPPED)
