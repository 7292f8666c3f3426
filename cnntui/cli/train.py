"""``cnntui train MODEL``: train a zoo entry, live in a terminal, one line per epoch in a pipe."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cnntui.cli.errors import CLIError, handle_errors

EXIT_STOPPED = 130
RECIPE = "Recipe"
MODEL = "Model"


def _sinks(view: str, as_json: bool, quiet: bool) -> list:
    from cnntui.core.train.lines import LineSink

    if quiet or as_json or view == "none":
        return []
    if view == "live" or (view == "auto" and sys.stdout.isatty()):
        from cnntui.core.train.live import LiveView

        return [LiveView()]
    return [LineSink()]


def _learning_rate(text: str | None) -> float | str | None:
    if text is None or text.strip().lower() == "auto":
        return None if text is None else "auto"
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"--lr must be a number (e.g. 3e-3) or auto; got {text!r}") from None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


@handle_errors
def train(
    model: Annotated[
        str | None, typer.Argument(help="Zoo entry to train (see `cnntui zoo list`).")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="sample (default), mnist, fashion_mnist, cifar10, "
            "cifar100, a folder of class sub-folders, or an .npz file.",
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", "-e", help="Default: the entry's.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", "-b", help="Default: the entry's.")
    ] = None,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            help="Learning rate, or auto (run `cnntui lr-find` first and take its valley "
            "suggestion). Default: the entry's, else the recipe's.",
        ),
    ] = None,
    optimizer: Annotated[
        str | None, typer.Option("--optimizer", help="adam, adamw, sgd or rmsprop.")
    ] = None,
    loss: Annotated[str | None, typer.Option("--loss", help="Keras loss name.")] = None,
    val_split: Annotated[
        float, typer.Option("--val-split", help="Share of images held out for validation.")
    ] = 0.1,
    patience: Annotated[
        int, typer.Option("--patience", help="Early stopping patience in epochs (0: off).")
    ] = 5,
    augment: Annotated[
        list[str] | None,
        typer.Option(
            "--augment",
            help="Augmentations for training images, comma-separated "
            "or repeated (see `cnntui data --help`).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (data split and weights).")] = 0,
    name: Annotated[str | None, typer.Option("--name", help="A name for the run id.")] = None,
    runs_dir: Annotated[
        str | None,
        typer.Option(
            "--runs-dir",
            help="Runs folder (default: $CNNTUI_RUNS_DIR or ~/.local/share/cnntui/runs).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Use only N images.")] = None,
    input_shape: Annotated[
        str | None, typer.Option("--input-shape", help="H,W,C, e.g. 28,28,1 (default: entry's).")
    ] = None,
    resize_mode: Annotated[
        str,
        typer.Option(
            "--resize-mode",
            help="Fit images to the input: stretch, crop (centre) or pad (keep aspect).",
        ),
    ] = "stretch",
    zoo: Annotated[
        list[str] | None, typer.Option("--zoo", help="Extra zoo folder or file; repeatable.")
    ] = None,
    reduce_lr: Annotated[
        bool, typer.Option("--reduce-lr", help="Halve the learning rate on a val-loss plateau.")
    ] = False,
    tensorboard: Annotated[
        bool, typer.Option("--tensorboard", help="Also write TensorBoard logs in the run.")
    ] = False,
    strategy: Annotated[
        str,
        typer.Option("--strategy", help="default, mirrored (all GPUs) or multiworker (TF_CONFIG)."),
    ] = "default",
    mixed_precision: Annotated[
        bool, typer.Option("--mixed-precision", help="float16 on GPU, bfloat16 on CPU.")
    ] = False,
    jit_compile: Annotated[bool, typer.Option("--jit-compile", help="Compile with XLA.")] = False,
    recipe: Annotated[
        str | None,
        typer.Option(
            "--recipe",
            help="article (the entry's own setup) or modern (AdamW, warm-up + cosine, "
            "label smoothing, EMA). Default: the entry's recipe.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="LR schedule: constant, cosine, onecycle, step or plateau.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    warmup: Annotated[
        float | None,
        typer.Option(
            "--warmup", help="Linear LR warm-up, in epochs (0.5 allowed).", rich_help_panel=RECIPE
        ),
    ] = None,
    weight_decay: Annotated[
        float | None,
        typer.Option(
            "--weight-decay", help="Decoupled weight decay (AdamW style).", rich_help_panel=RECIPE
        ),
    ] = None,
    label_smoothing: Annotated[
        float | None,
        typer.Option("--label-smoothing", help="e.g. 0.1 (0: off).", rich_help_panel=RECIPE),
    ] = None,
    ema: Annotated[
        bool | None,
        typer.Option(
            "--ema/--no-ema",
            help="Average the weights (EMA); validation and checkpoints use the average.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    mixup: Annotated[
        float | None,
        typer.Option("--mixup", help="MixUp alpha, e.g. 0.2 (0: off).", rich_help_panel=RECIPE),
    ] = None,
    cutmix: Annotated[
        float | None,
        typer.Option("--cutmix", help="CutMix alpha, e.g. 1.0 (0: off).", rich_help_panel=RECIPE),
    ] = None,
    randaugment: Annotated[
        str | None,
        typer.Option(
            "--randaugment",
            help="RandAugment N,M: N operations per image at magnitude M (0-10), e.g. 2,9.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    random_erasing: Annotated[
        float | None,
        typer.Option(
            "--random-erasing",
            help="Erase a random patch with this probability, e.g. 0.25.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    class_weight: Annotated[
        str | None,
        typer.Option(
            "--class-weight",
            help="auto (inverse class frequency), none, or a JSON file of class -> weight.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    time_budget: Annotated[
        str | None,
        typer.Option(
            "--time",
            help="Wall-clock budget, e.g. 10m or 1h30m: sets the epoch count (--epochs "
            "caps it) and fits the LR schedule to it.",
            rich_help_panel=RECIPE,
        ),
    ] = None,
    width: Annotated[
        int | None,
        typer.Option(
            "--width", help="Builder width (entries that take one).", rich_help_panel=MODEL
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth", help="Builder depth (entries that take one).", rich_help_panel=MODEL
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", help="Continue RUN (id, prefix or `latest`) from its last completed epoch."
        ),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Train in the background; print the run id.")
    ] = False,
    view: Annotated[
        str,
        typer.Option(
            "--view", help="auto (live in a terminal, lines in a pipe), live, lines or none."
        ),
    ] = "auto",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the run id on start and the result at the end as JSON lines."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the run id.")] = False,
) -> None:
    """Train a zoo entry; defaults come from the entry (the article's setup)."""
    from cnntui.core.runs import LOG, resolve_run
    from cnntui.core.train import TrainConfig, execute, prepare_resume, prepare_run
    from cnntui.core.train.detach import start_detached

    if view not in ("auto", "live", "lines", "none"):
        raise CLIError(f"--view must be auto, live, lines or none; got {view!r}")
    if resume:
        run = prepare_resume(resolve_run(resume, runs_dir), epochs)
    else:
        if not model:
            raise CLIError("give a MODEL to train (see `cnntui zoo list`), or --resume RUN")
        from cnntui.core.registry import parse_input_shape

        cfg = TrainConfig(
            model=model,
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=_learning_rate(lr),
            optimizer=optimizer,
            loss=loss,
            val_split=val_split,
            patience=patience,
            augment=_split(augment),
            seed=seed,
            name=name,
            runs_dir=runs_dir,
            limit=limit,
            input_shape=parse_input_shape(input_shape) if input_shape else None,
            resize_mode=resize_mode,
            zoo=list(zoo or []),
            reduce_lr=reduce_lr,
            tensorboard=tensorboard,
            strategy=strategy,
            mixed_precision=mixed_precision,
            jit_compile=jit_compile,
            recipe=recipe,
            schedule=schedule,
            warmup=warmup,
            weight_decay=weight_decay,
            label_smoothing=label_smoothing,
            ema=ema,
            mixup=mixup,
            cutmix=cutmix,
            randaugment=randaugment,
            random_erasing=random_erasing,
            class_weight=class_weight,
            time_budget=time_budget,
            builder_args={k: v for k, v in (("width", width), ("depth", depth)) if v is not None},
            argv=["cnntui", *sys.argv[1:]],
        )
        run = prepare_run(cfg)
    started = {"run_id": run.id, "dir": str(run.dir)}
    if detach:
        pid = start_detached(run)
        info = {**started, "pid": pid, "log": str(run.path(LOG))}
        if as_json:
            typer.echo(json.dumps(info))
        elif quiet:
            typer.echo(run.id)
        else:
            typer.echo(f"training in the background: run {run.id} (pid {pid})")
            typer.echo(f"follow it:  cnntui runs watch {run.id}")
            typer.echo(f"log:        {info['log']}")
        return
    if as_json:
        typer.echo(json.dumps(started))
    elif quiet:
        typer.echo(run.id)
    try:
        result = execute(run, sinks=_sinks(view, as_json, quiet))
    except (ValueError, FileNotFoundError):
        raise
    except Exception as exc:  # noqa: BLE001 - a training error, one clear line
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise CLIError(
            f"training failed ({type(exc).__name__}): {reason}; run {run.id} is marked failed", 1
        ) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **started,
                    "status": result.status,
                    "reason": result.reason,
                    "metrics": result.metrics,
                }
            )
        )
    elif not quiet:
        typer.echo(f"run {run.id}: {result.status} ({result.reason}) — {run.dir}")
    if result.status == "failed":
        raise typer.Exit(1)
    if result.status == "stopped":
        if not as_json and not quiet:
            typer.echo(f"resume with:  cnntui train --resume {run.id}")
        raise typer.Exit(EXIT_STOPPED)
