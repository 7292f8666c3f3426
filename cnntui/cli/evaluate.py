"""``cnntui evaluate [RUN]``: the classifier report of a trained run."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import (
    AsJson,
    Limit,
    NoCalibration,
    PositiveClass,
    RunArgument,
    Tta,
    Unsafe,
    WhichCheckpoint,
)

MAX_DRAWN_CLASSES = 20
MAX_CURVES = 10
CHART_COLOURS = ["red", "green", "blue", "orange", "cyan", "magenta", "yellow", "white"]
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
    out += calibration_lines(report, color)
    out += curve_lines(report, color)
    out += ["", "highest loss"]
    for e in report["highest_loss"][:10]:
        out.append(
            f"  {e['id']:<24} true {e['true']:<10} predicted {e['predicted']:<10} "
            f"p={e['probability']:.3f}  loss {e['loss']:.3f}"
        )
    return out


def _chart(series, title: str, xlabel: str, color: bool, bars=None) -> list[str]:
    """A plotext chart on the unit square as lines of text."""
    import plotext as plt

    plt.clear_figure()
    plt.theme("clear")
    plt.plotsize(64, 18)
    plt.title(title)
    if bars:
        plt.bar(*bars, label="accuracy", width=1 / 15, color="blue")
    for (xs, ys, label), colour in zip(series, CHART_COLOURS * 4):
        plt.plot(xs, ys, label=label, marker="braille", color=colour)
    plt.xlim(0, 1)
    plt.xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    plt.ylim(0, 1)
    plt.xlabel(xlabel)
    if not color:
        plt.clear_color()
    return plt.build().splitlines()


def calibration_lines(report: dict[str, Any], color: bool = False) -> list[str]:
    """ECE, MCE, NLL, Brier and the reliability diagram."""
    cal = report.get("calibration")
    if not cal:
        return []
    t = cal.get("temperature", 1.0)
    how = f"temperature {t:.3f} applied" if t != 1.0 else "uncalibrated (see `cnntui calibrate`)"
    out = [
        "",
        f"calibration ({how}): ECE {cal['ece']:.4f}  MCE {cal['mce']:.4f}  "
        f"NLL {cal['nll']:.4f}  Brier {cal['brier']:.4f}  ({len(cal['bins'])} bins)",
    ]
    full = [b for b in cal["bins"] if b["count"]]
    mids = [(b["lo"] + b["hi"]) / 2 for b in full]
    out += _chart(
        [([0, 1], [0, 1], "perfect")], "reliability: accuracy per confidence bin",
        "confidence", color, bars=(mids, [b["accuracy"] for b in full]),
    )  # fmt: skip
    return out


def curve_lines(report: dict[str, Any], color: bool = False) -> list[str]:
    """ROC curves (one-vs-rest, at most 10 drawn) and, for two classes, precision-recall."""
    curves = report.get("roc_curves") or []
    if not curves:
        return []
    shown = curves[:MAX_CURVES]
    out = [""]
    if len(curves) > len(shown):
        out.append(f"ROC: {len(shown)} of {len(curves)} classes drawn (all in --json)")
    series = [(c["fpr"], c["tpr"], f"{c['class'][:10]} {c['auc']:.3f}") for c in shown]
    out += _chart(series, "ROC (one-vs-rest), AUC per class", "false positive rate", color)
    pr = report.get("pr_curve")
    if pr:
        ap = pr["average_precision"]
        label = f"AP {ap:.3f}"
        out += [""] + _chart(
            [(pr["recall"], pr["precision"], label)],
            f"precision-recall (positive: {pr['positive_class']})", "recall", color,
        )  # fmt: skip
    return out


@handle_errors
def evaluate(
    run: RunArgument = None,
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
    checkpoint: WhichCheckpoint = "best",
    limit: Limit = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=2, help="k of top-k accuracy.")] = 5,
    tta: Tta = None,
    as_json: AsJson = False,
    unsafe: Unsafe = False,
    no_calibration: NoCalibration = False,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", help="Write ROC, PR, reliability and confusion PNGs here."),
    ] = None,
    explain_worst: Annotated[
        int,
        typer.Option(
            "--explain-worst",
            min=0,
            metavar="N",
            help="Write Grad-CAM overlays of the N highest-loss images (run's worst/).",
        ),
    ] = 0,  # fmt: skip
    positive_class: PositiveClass = None,
) -> None:
    """Loss, accuracy, confusion matrix, per-class table, ROC/PR curves, calibration,
    worst images.

    The report is also written to the run folder as evaluation.json.
    """
    import json

    from cnntui.core.judge.evaluate import evaluate_run

    if checkpoint not in ("best", "last"):
        raise typer.BadParameter("--checkpoint must be best or last")
    if plots is not None and plots.exists() and not plots.is_dir():
        raise typer.BadParameter(f"--plots {plots} exists and is not a folder")
    _, report = evaluate_run(
        run, data=data, split=split, checkpoint=checkpoint, unsafe=unsafe, limit=limit,
        top_k=top_k, tta=tta, calibration=not no_calibration, explain_worst=explain_worst,
        positive_class=positive_class,
    )  # fmt: skip
    if plots is not None:
        from cnntui.core.judge.figures import write_plots

        report["plots"] = write_plots(report, plots)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    typer.echo("\n".join(report_lines(report, color=color)))
    worst = report.get("explain_worst") or []
    if worst:
        typer.echo(f"\nhighest-loss images explained ({worst[0]['method']}, predicted class):")
        for w in worst:
            typer.echo(f"  {w['rank']:>2}. {w['id']}  true {w['true']}  predicted "
                       f"{w['predicted']}  loss {w['loss']:.3f}  {w['file']}")  # fmt: skip
    for path in report.get("plots", []):
        typer.echo(f"wrote {path}")
