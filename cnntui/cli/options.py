"""The options several commands share, declared once: one name, one help text, one rule.

Each is an ``Annotated`` type for a command's parameter (``limit: Limit = None``). The help
panel (``rich_help_panel``) groups ``cnntui train``'s help (cli/panels.PanelCommand); other
commands ignore it. Options that only one command has stay with that command. Importing
this module costs only Typer: ``--help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cnntui.cli.graphics import GRAPHICS_HELP, graphics_option

DATA, MODEL, RECIPE = "Data", "Model", "Recipe"
CHECKPOINTS, SCALE, OUTPUT = "Checkpoints and runs", "Scale", "Output"


def option(*names: str, panel: str | None = None, help: str, **kw: Any) -> Any:
    """``typer.Option`` with the help panel named ``panel``."""
    return typer.Option(*names, help=help, rich_help_panel=panel, **kw)


# -- data ---------------------------------------------------------------------------
TrainData = Annotated[
    str | None,
    option(
        "--data",
        "-d",
        panel=DATA,
        help="sample (default), mnist, fashion_mnist, cifar10, cifar100, "
        "a folder of class sub-folders, or an .npz file.",
    ),
]
Limit = Annotated[
    int | None, option("--limit", min=1, panel=DATA, help="Use at most N images of the source.")
]
ValSplit = Annotated[
    float, option("--val-split", panel=DATA, help="Share of images held out for validation.")
]
Seed = Annotated[int, option("--seed", panel=RECIPE, help="Random seed (data split and weights).")]
# -- model --------------------------------------------------------------------------
Zoo = Annotated[
    list[str] | None,
    option(
        "--zoo",
        panel=MODEL,
        help="Extra folder (or file) of zoo definitions; repeatable. "
        "Also read from $CNNTUI_ZOO_PATH.",
    ),
]
InputShape = Annotated[
    str | None,
    option(
        "--input-shape",
        panel=MODEL,
        help="H,W,C, e.g. 28,28,1 (default: the entry's; for a folder and an entry that "
        "takes any size, chosen from the images).",
    ),
]
Width = Annotated[
    int | None,
    option("--width", panel=MODEL, help="Builder width (entries that take one)."),
]
Depth = Annotated[
    int | None,
    option("--depth", panel=MODEL, help="Builder depth (entries that take one)."),
]
L1 = Annotated[
    float | None,
    option("--l1", panel=MODEL, help="L1 penalty on every kernel (entries that take l1)."),
]
L2 = Annotated[
    float | None,
    option("--l2", panel=MODEL,
           help="L2 penalty on every kernel, e.g. 1e-4 (entries that take l2)."),
]  # fmt: skip
MaxSide = Annotated[
    int | None,
    option("--max-side", panel=MODEL, help="Builder max_side: the fast entries' stem "
           "halves the input until its short side is at most this (default 48)."),
]  # fmt: skip
# -- recipe -------------------------------------------------------------------------
Epochs = Annotated[
    int | None, option("--epochs", "-e", panel=RECIPE, help="Epochs (default: the entry's).")
]
TrainBatchSize = Annotated[
    int | None, option("--batch-size", "-b", panel=RECIPE, help="Default: the entry's.")
]
Optimizer = Annotated[
    str | None, option("--optimizer", panel=RECIPE, help="adam, adamw, sgd or rmsprop.")
]
Recipe = Annotated[
    str | None,
    option(
        "--recipe",
        panel=RECIPE,
        help="article (the entry's own setup), modern (AdamW, warm-up + cosine, label "
        "smoothing, EMA) or finetune (a pretrained backbone: the head first, then the "
        "backbone at a lower LR). Default: the entry's recipe.",
    ),
]
WeightDecay = Annotated[
    float | None,
    option("--weight-decay", panel=RECIPE, help="Decoupled weight decay (AdamW style)."),
]
LabelSmoothing = Annotated[
    float | None, option("--label-smoothing", panel=RECIPE, help="e.g. 0.1 (0: off).")
]
# -- fine-tuning (backbone entries) ----------------------------------------------------
FINETUNE = "Fine-tuning"
Weights = Annotated[
    str | None,
    option(
        "--weights",
        panel=FINETUNE,
        help="A backbone entry's starting weights: imagenet (default; Keras's download, or "
        "its cache), a weights FILE (.h5 / .weights.h5, no top), a RUN of the same entry, "
        "or none (from scratch).",
    ),
]
FreezeEpochs = Annotated[
    int | None,
    option("--freeze-epochs", min=0, panel=FINETUNE,
           help="Epochs that train the head alone, the backbone frozen (default 1)."),
]  # fmt: skip
Unfreeze = Annotated[
    str | None,
    option("--unfreeze", panel=FINETUNE,
           help="What trains after them: all (default) or the top N backbone blocks."),
]  # fmt: skip
LrMult = Annotated[
    float | None,
    option("--lr-mult", panel=FINETUNE,
           help="The backbone's learning rate as a share of the head's (default 0.3)."),
]  # fmt: skip
TrainBn = Annotated[
    bool,
    option("--train-bn", panel=FINETUNE,
           help="Train BatchNorm too (default: frozen, in inference mode)."),
]  # fmt: skip
Patience = Annotated[
    int | None,
    option("--patience", min=0, panel=RECIPE,
           help="Early stopping patience in epochs (0: off). Default: 5, and off when the "
           "schedule is fitted to the run (cosine, onecycle, --time)."),
]  # fmt: skip
# -- runs ---------------------------------------------------------------------------
RunsDir = Annotated[
    str | None,
    option(
        "--runs-dir",
        panel=CHECKPOINTS,
        help="Runs folder (default: $CNNTUI_RUNS_DIR or ~/.local/share/cnntui/runs).",
    ),
]
Storage = Annotated[
    str | None,
    option(
        "--storage",
        panel=CHECKPOINTS,
        help="Study database URL (default: sqlite in the runs folder), e.g. "
        "postgresql://user:pass@host/db for workers on several machines.",
    ),
]
RunRef = Annotated[str, typer.Argument(help="Run id, id suffix, path or `latest`.")]
RunArgument = Annotated[
    str | None,
    typer.Argument(help="Run id, id suffix, path or `latest` (default: the newest finished run)."),
]
WhichCheckpoint = Annotated[
    str, typer.Option("--checkpoint", help="Which checkpoint of the run: best or last.")
]
# -- the model to run: predict, explain, evaluate, calibrate, export ----------------
Run = Annotated[
    str | None,
    option(
        "--run",
        "-r",
        help="Run id, id suffix, path, `latest` or `latest-finished` "
        "(default: the newest finished run).",
    ),
]
CheckpointFile = Annotated[
    str | None,
    option(
        "--checkpoint",
        "-c",
        help="A .keras file instead of a run (any Keras 3 model).",
    ),
]
Labels = Annotated[
    str | None,
    option(
        "--labels",
        help="Class names for a bare checkpoint: a file (one per line) or a comma-separated list.",
    ),
]
Unsafe = Annotated[
    bool,
    option(
        "--unsafe",
        help="Allow Lambda-layer code in the checkpoint to run (trusted files only).",
    ),
]
NoCalibration = Annotated[
    bool,
    option("--no-calibration", help="Ignore the run's `cnntui calibrate` fit."),
]
Tta = Annotated[
    str | None,
    option("--tta", help="Test-time augmentation: flip (image and mirror averaged)."),
]
BatchSize = Annotated[int, option("--batch-size", min=1, help="Images per batch.")]
PositiveClass = Annotated[
    str | None,
    option(
        "--positive-class",
        help="Two classes: the class whose score and label 1 the threshold sweep, Pearson r "
        "and PR curve use (default: the article's for a tutorial entry, e.g. cat for cats "
        "vs dogs, else the second class).",
    ),
]
# -- output -------------------------------------------------------------------------
AsJson = Annotated[bool, option("--json", panel=OUTPUT, help="Print JSON instead of text.")]
View = Annotated[
    str,
    option(
        "--view",
        panel=OUTPUT,
        help="auto (live in a terminal, lines in a pipe), live, lines or none.",
    ),
]
Graphics = Annotated[
    str,
    option("--graphics", envvar="CNNTUI_GRAPHICS", callback=graphics_option, help=GRAPHICS_HELP),
]
