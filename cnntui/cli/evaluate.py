"""``cnntui evaluate [RUN]``: the classifier report of a trained run."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from cnntui.cli.errors import handle_errors

MAX_DRAWN_CLASSES = 20
GREENS = (22, 28, 34, 40, 46)
REDS = (52, 88, 124, 160, 196)


def _shade(rate: float, diagonal: bool) -> str:
    if rate <= 0:
        return ""
    ramp = GREENS if diagonal else REDS
    level = min(len(ramp) - 1, int(rate * len(ramp)))
    return f"\x1b[48;5;{ramp[level]}m\x1b[97m"


def _fmt(value: Any, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if pct else f"{value:.3f}"


def confusion_lines(report: dict[str, Any], normalised: bool, color: bool) -> list[str]:
    """The confusion matrix as text, rows = true class, columns = predicted class."""
    names = [n[:8] for n in report["class_names"]]
    cm = report["confusion_matrix"]
    rates = report["confusion_matrix_normalised"]
    cells = [
        [f"{r:.0%}" if normalised else str(c) for c, r in zip(crow, rrow, strict=True)]
        for crow, rrow in zip(cm, rates, strict=True)
    ]
    width = max([4, *(len(n) for n in names), *(len(c) for row in cells for c in row)]) + 1
    label_w = max(len(n) for n in names) + 1
    lines = [" " * (label_w + 7) + "".join(f"{n:>{width}}" for n in names)]
    for t, row in enumerate(cells):
        parts = []
        for p, text in enumerate(row):
            cell = f"{text:>{width}}"
            if color and cm[t][p]:
                cell = f"{_shade(rates[t][p], t == p)}{cell}\x1b[0m"
            parts.append(cell)
        prefix = "true " if t == 0 else "     "
        lines.append(f"{prefix}  {names[t]:>{label_w}}" + "".join(parts))
    return lines


def report_lines(report: dict[str, Any], color: bool = False) -> list[str]:
    """The whole human-readable report."""
    n = report["examples"]
    out = [
        f"run {report['run']}  ·  checkpoint {os.path.basename(report['checkpoint'])}  ·  "
        f"data {report['data']} ({report['split']}, {n} images)",
    ]
    out += [f"note: {note}" for note in report.get("notes", [])]
    if not n:
        return [*out, "no examples to evaluate"]
    topk = report["top_k_accuracy"]
    out += [
        "",
        f"loss {report['loss']:.4f} ({report.get('loss_name', 'crossentropy')})   "
        f"accuracy {report['accuracy']:.2%}"
        + (f"   top-{topk['k']} accuracy {topk['value']:.2%}" if topk else ""),
    ]
    k = len(report["class_names"])
    if k <= MAX_DRAWN_CLASSES:
        out += ["", "confusion matrix (counts; rows: true class, columns: predicted)"]
        out += confusion_lines(report, normalised=False, color=color)
        out += ["", "confusion matrix (share of each true class)"]
        out += confusion_lines(report, normalised=True, color=color)
    else:
        out += ["", f"confusion matrix: {k} classes are too many to draw; see --json"]
    cols = ("precision", "recall", "specificity", "f1", "geometric_mean", "iba", "roc_auc")
    heads = ("prec", "recall", "spec", "f1", "geo", "iba", "auc")
    name_w = max(12, *(len(c) for c in report["class_names"])) + 1
    out += ["", f"{'class':<{name_w}}" + "".join(f"{h:>8}" for h in heads) + f"{'support':>9}"]
    rows = [(r["class"], r) for r in report["per_class"]]
    rows += [
        ("macro avg", report["averages"]["macro"]),
        ("weighted avg", report["averages"]["weighted"]),
    ]
    for name, r in rows:
        out.append(
            f"{name:<{name_w}}"
            + "".join(f"{_fmt(r.get(c)):>8}" for c in cols)
            + f"{r['support']:>9}"
        )
    binary = report.get("binary")
    if binary:
        best = binary["best"]
        pearson = binary["pearson"]
        out += [
            "",
            f"two classes (positive: {binary['positive_class']}): Pearson r between "
            f"score and label {_fmt(pearson)}; best accuracy {best['accuracy']:.2%} at "
            f"threshold {best['threshold']:.2f}",
            f"{'threshold':>10}{'accuracy':>10}{'precision':>11}{'recall':>9}{'f1':>8}",
        ]
        for r in binary["threshold_sweep"]:
            mark = "  ◀ best" if r is best or r == best else ""
            out.append(
                f"{r['threshold']:>10.2f}{r['accuracy']:>10.2%}{r['precision']:>11.3f}"
                f"{r['recall']:>9.3f}{r['f1']:>8.3f}{mark}"
            )
    if report["most_confused"]:
        out += ["", "most confused (true → predicted)"]
        for pair in report["most_confused"]:
            ex = ", ".join(pair["examples"][:3])
            out.append(
                f"  {pair['true']} → {pair['predicted']}  {pair['count']:>5}  "
                f"({pair['rate']:.1%} of {pair['true']})  e.g. {ex}"
            )
    out += ["", "highest loss"]
    for e in report["highest_loss"][:10]:
        out.append(
            f"  {e['id']:<24} true {e['true']:<10} predicted {e['predicted']:<10} "
            f"p={e['probability']:.3f}  loss {e['loss']:.3f}"
        )
    return out


@handle_errors
def evaluate(
    run: Annotated[
        str | None,
        typer.Argument(
            help="Run id, id suffix, path or `latest` (default: the newest finished run)."
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="Evaluate on another data source (its test split, else all of "
            "it) instead of the run's own.",
        ),
    ] = None,
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="test (the source's test set, else the held-out validation split) or val.",
        ),
    ] = "test",
    checkpoint: Annotated[
        str, typer.Option("--checkpoint", help="Which checkpoint of the run: best or last.")
    ] = "best",
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Use at most N images of the source.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=2, help="k of top-k accuracy.")] = 5,
    tta: Annotated[
        str | None,
        typer.Option("--tta", help="Test-time augmentation: flip (image and mirror averaged)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole report as JSON.")
    ] = False,
    unsafe: Annotated[
        bool,
        typer.Option(
            "--unsafe",
            help="Allow Lambda-layer code in the checkpoint to run (trusted files only).",
        ),
    ] = False,
) -> None:
    """Loss, accuracy, confusion matrix, per-class table, ROC AUC, worst images.

    The report is also written to the run folder as evaluation.json.
    """
    import json

    from cnntui.core.evaluate import evaluate_run

    if checkpoint not in ("best", "last"):
        raise typer.BadParameter("--checkpoint must be best or last")
    _, report = evaluate_run(
        run, data=data, split=split, checkpoint=checkpoint, unsafe=unsafe, limit=limit,
        top_k=top_k, tta=tta,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    typer.echo("\n".join(report_lines(report, color=color)))
