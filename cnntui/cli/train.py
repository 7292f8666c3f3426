"""``cnntui train MODEL``: train a zoo entry, live in a terminal, one line per epoch in a pipe.

Options are declared once below, grouped by help panel, each named like the
``TrainConfig`` field it sets; :func:`config_from_options` is the one place they become a
``TrainConfig``. A new training option is a ``TrainConfig`` field plus one parameter here.
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cnntui.cli.errors import CLIError, handle_errors
from cnntui.cli.output import check_view, sinks
from cnntui.cli.panels import PanelCommand

if TYPE_CHECKING:
    from cnntui.core.runs import Run
    from cnntui.core.train import TrainConfig, TrainResult

COMMAND_CLASS = PanelCommand
EXIT_STOPPED = 130

DATA, MODEL, RECIPE = "Data", "Model", "Recipe"
CHECKPOINTS, SCALE, OUTPUT = "Checkpoints and runs", "Scale", "Output"


def _opt(*names: str, panel: str, help: str) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel)


# -- data ---------------------------------------------------------------------------
Data = Annotated[
    str | None,
    _opt(
        "--data",
        "-d",
        panel=DATA,
        help="sample (default), mnist, fashion_mnist, cifar10, cifar100, "
        "a folder of class sub-folders, or an .npz file.",
    ),
]
ValSplit = Annotated[
    float, _opt("--val-split", panel=DATA, help="Share of images held out for validation.")
]
ValidateOn = Annotated[
    str,
    _opt(
        "--validate-on",
        panel=DATA,
        help="split (hold out --val-split) or test (train on the whole training set, "
        "validate on the source's test set, as the Keras tutorials do).",
    ),
]
Rescale = Annotated[
    str,
    _opt(
        "--rescale",
        panel=DATA,
        help="Pixel scaling: unit (/255, inputs in [0, 1]) or none (raw 0-255, as the MNIST "
        "tutorials fed them). Recorded with the run; predict applies it.",
    ),
]
Limit = Annotated[int | None, _opt("--limit", panel=DATA, help="Use only N images.")]
ResizeMode = Annotated[
    str,
    _opt(
        "--resize-mode",
        panel=DATA,
        help="Fit images to the input: stretch, crop (centre) or pad (keep aspect).",
    ),
]
# -- model --------------------------------------------------------------------------
Zoo = Annotated[
    list[str] | None, _opt("--zoo", panel=MODEL, help="Extra zoo folder or file; repeatable.")
]
InputShape = Annotated[
    str | None,
    _opt(
        "--input-shape",
        panel=MODEL,
        help="H,W,C, e.g. 28,28,1 (default: the entry's; for a folder and an entry that "
        "takes any size, chosen from the images).",
    ),
]
Width = Annotated[
    int | None, _opt("--width", panel=MODEL, help="Builder width (entries that take one).")
]
Depth = Annotated[
    int | None, _opt("--depth", panel=MODEL, help="Builder depth (entries that take one).")
]
L1 = Annotated[
    float | None,
    _opt("--l1", panel=MODEL, help="L1 penalty on every kernel (entries that take l1)."),
]
L2 = Annotated[
    float | None,
    _opt("--l2", panel=MODEL, help="L2 penalty on every kernel, e.g. 1e-4 (entries that take l2)."),
]
MaxSide = Annotated[
    int | None,
    _opt("--max-side", panel=MODEL, help="Builder max_side: the fast entries' stem halves "
         "the input until its short side is at most this (default 48)."),
]  # fmt: skip
# -- recipe -------------------------------------------------------------------------
Epochs = Annotated[int | None, _opt("--epochs", "-e", panel=RECIPE, help="Default: the entry's.")]
BatchSize = Annotated[
    int | None, _opt("--batch-size", "-b", panel=RECIPE, help="Default: the entry's.")
]
LearningRate = Annotated[
    str | None,
    _opt(
        "--lr",
        panel=RECIPE,
        help="Learning rate, or auto (an LR-finder sweep first, its valley suggestion). "
        "Default: the entry's, else the recipe's.",
    ),
]
Recipe = Annotated[
    str | None,
    _opt(
        "--recipe",
        panel=RECIPE,
        help="article (the entry's own setup) or modern (AdamW, warm-up + cosine, label "
        "smoothing, EMA). Default: the entry's recipe.",
    ),
]
Schedule = Annotated[
    str | None,
    _opt(
        "--schedule", panel=RECIPE, help="LR schedule: constant, cosine, onecycle, step, plateau."
    ),
]
Warmup = Annotated[
    float | None, _opt("--warmup", panel=RECIPE, help="Linear LR warm-up in epochs (0.5 allowed).")
]
WeightDecay = Annotated[
    float | None, _opt("--weight-decay", panel=RECIPE, help="Decoupled weight decay (AdamW style).")
]
LabelSmoothing = Annotated[
    float | None, _opt("--label-smoothing", panel=RECIPE, help="e.g. 0.1 (0: off).")
]
Ema = Annotated[
    bool | None,
    _opt(
        "--ema/--no-ema",
        panel=RECIPE,
        help="Average the weights (EMA); validation and checkpoints use the average.",
    ),
]
MixUp = Annotated[float | None, _opt("--mixup", panel=RECIPE, help="MixUp alpha, e.g. 0.2.")]
CutMix = Annotated[float | None, _opt("--cutmix", panel=RECIPE, help="CutMix alpha, e.g. 1.0.")]
RandAugment = Annotated[
    str | None,
    _opt(
        "--randaugment",
        panel=RECIPE,
        help="RandAugment N,M: N operations per image at magnitude M (0-10), e.g. 2,9.",
    ),
]
RandomErasing = Annotated[
    float | None,
    _opt("--random-erasing", panel=RECIPE, help="Erase a random patch with this probability."),
]
ClassWeight = Annotated[
    str | None,
    _opt(
        "--class-weight",
        panel=RECIPE,
        help="auto (inverse class frequency), none, or a JSON file of class -> weight.",
    ),
]
TimeBudget = Annotated[
    str | None,
    _opt(
        "--time",
        panel=RECIPE,
        help="Wall-clock budget for training, e.g. 10m or 1h30m: sets the epoch count "
        "(--epochs caps it) and fits the LR schedule to it.",
    ),
]
Optimizer = Annotated[
    str | None, _opt("--optimizer", panel=RECIPE, help="adam, adamw, sgd or rmsprop.")
]
Loss = Annotated[str | None, _opt("--loss", panel=RECIPE, help="Keras loss name.")]
Patience = Annotated[
    int, _opt("--patience", panel=RECIPE, help="Early stopping patience in epochs (0: off).")
]
ReduceLR = Annotated[
    bool, _opt("--reduce-lr", panel=RECIPE, help="Halve the learning rate on a val-loss plateau.")
]
Augment = Annotated[
    list[str] | None,
    _opt(
        "--augment",
        panel=RECIPE,
        help="Augmentations for training images, comma-separated or repeated "
        "(see `cnntui data --help`).",
    ),
]
Seed = Annotated[int, _opt("--seed", panel=RECIPE, help="Random seed (data split and weights).")]
# -- checkpoints and runs -------------------------------------------------------------
Resume = Annotated[
    str | None,
    _opt(
        "--resume",
        panel=CHECKPOINTS,
        help="Continue RUN (id, prefix or `latest`) from its last completed epoch.",
    ),
]
Name = Annotated[str | None, _opt("--name", panel=CHECKPOINTS, help="A name for the run id.")]
RunsDir = Annotated[
    str | None,
    _opt(
        "--runs-dir",
        panel=CHECKPOINTS,
        help="Runs folder (default: $CNNTUI_RUNS_DIR or ~/.local/share/cnntui/runs).",
    ),
]
# -- scale --------------------------------------------------------------------------
Strategy = Annotated[
    str,
    _opt(
        "--strategy", panel=SCALE, help="default, mirrored (all GPUs) or multiworker (TF_CONFIG)."
    ),
]
MixedPrecision = Annotated[
    bool, _opt("--mixed-precision", panel=SCALE, help="float16 on GPU, bfloat16 on CPU.")
]
JitCompile = Annotated[bool, _opt("--jit-compile", panel=SCALE, help="Compile with XLA.")]
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
# -- output -------------------------------------------------------------------------
View = Annotated[
    str,
    _opt(
        "--view",
        panel=OUTPUT,
        help="auto (live in a terminal, lines in a pipe), live, lines or none.",
    ),
]
AsJson = Annotated[
    bool,
    _opt(
        "--json",
        panel=OUTPUT,
        help="Print the run id on start and the result at the end as JSON lines.",
    ),
]
Quiet = Annotated[bool, _opt("--quiet", "-q", panel=OUTPUT, help="Print only the run id.")]
Detach = Annotated[
    bool, _opt("--detach", panel=OUTPUT, help="Train in the background; print the run id.")
]
Tensorboard = Annotated[
    bool, _opt("--tensorboard", panel=OUTPUT, help="Also write TensorBoard logs in the run.")
]
FromTrial = Annotated[
    str | None,
    _opt(
        "--from-trial",
        panel=CHECKPOINTS,
        help="Retrain a `cnntui tune` trial exactly: STUDY (its best trial) or STUDY:N; "
        "options given here override it (e.g. --epochs 50).",
    ),
]
TuneStorage = Annotated[
    str | None,
    _opt("--storage", panel=CHECKPOINTS, help="The study's database URL, for --from-trial."),
]


@handle_errors
def train(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Argument(help="Zoo entry to train (see `cnntui zoo list`).")
    ] = None,
    data: Data = None,
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
    batch_size: BatchSize = None,
    learning_rate: LearningRate = None,
    optimizer: Optimizer = None,
    loss: Loss = None,
    patience: Patience = 5,
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
    storage: TuneStorage = None,
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
    """The request the options make: same names as ``TrainConfig``; ``None`` is the default."""
    from cnntui.core.registry import parse_input_shape
    from cnntui.core.train.config import TrainConfig, split_names

    known = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in options.items() if k in known and v is not None}
    values["augment"] = split_names(values.get("augment", []))
    values["zoo"] = list(values.get("zoo", []))
    if "input_shape" in values:
        values["input_shape"] = parse_input_shape(values["input_shape"])
    if "learning_rate" in values:
        values["learning_rate"] = _learning_rate(values["learning_rate"])
    values["builder_args"] = {k: options[k] for k in BUILDER_ARGS if options.get(k) is not None}
    return TrainConfig(**values, argv=["cnntui", *sys.argv[1:]])


BUILDER_ARGS = ("width", "depth", "max_side", "l1", "l2")  # options passed to the entry's builder


def _learning_rate(text: str | float) -> float | str:
    if isinstance(text, int | float):
        return float(text)
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"--lr must be a number (e.g. 3e-3) or auto; got {text!r}") from None


def config_from_trial(ref: str, storage: str | None, ctx: typer.Context) -> TrainConfig:
    """A tune trial's exact request, with the options given on this command line on top."""
    from cnntui.core.train.config import TrainConfig
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
