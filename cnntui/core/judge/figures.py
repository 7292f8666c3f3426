"""Report figures as PNG files, drawn with Pillow (no plotting library needed):
ROC and precision-recall curves, the reliability diagram and the confusion matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cnntui.core.images import save_png
from cnntui.core.judge.explain.colormap import colorize

W, H = 640, 520
LEFT, TOP, RIGHT, BOTTOM = 70, 40, 200, 60  # margins; the legend lives on the right
PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]
MAX_LEGEND = 20


def _font(size: int = 14) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


class _Axes:
    """A unit square plot area with ticks, labels and a title."""

    def __init__(self, title: str, xlabel: str, ylabel: str):
        self.img = Image.new("RGB", (W, H), "white")
        self.d = ImageDraw.Draw(self.img)
        self.x0, self.y0, self.x1, self.y1 = LEFT, TOP, W - RIGHT, H - BOTTOM
        f = _font()
        self.d.rectangle([self.x0, self.y0, self.x1, self.y1], outline="black")
        for t in np.linspace(0, 1, 6):
            x, y = self.px(t, 0)[0], self.px(0, t)[1]
            self.d.line([x, self.y1, x, self.y1 + 5], fill="black")
            self.d.line([self.x0 - 5, y, self.x0, y], fill="black")
            self.d.text((x, self.y1 + 8), f"{t:.1f}", fill="black", font=f, anchor="mt")
            self.d.text((self.x0 - 8, y), f"{t:.1f}", fill="black", font=f, anchor="rm")
        self.d.text(((self.x0 + self.x1) / 2, 12), title, fill="black", font=_font(16), anchor="mt")
        self.d.text(((self.x0 + self.x1) / 2, H - 18), xlabel, fill="black", font=f, anchor="mm")
        self.d.text((8, (self.y0 + self.y1) / 2), ylabel, fill="black", font=f, anchor="lm")
        self.legend_y = self.y0

    def px(self, x: float, y: float) -> tuple[float, float]:
        return (self.x0 + x * (self.x1 - self.x0), self.y1 - y * (self.y1 - self.y0))

    def line(self, xs, ys, color, width: int = 2, label: str | None = None) -> None:
        pts = [self.px(float(a), float(b)) for a, b in zip(xs, ys)]
        if len(pts) > 1:
            self.d.line(pts, fill=color, width=width)
        if label and self.legend_y < self.y1 - 10:
            self.d.line([self.x1 + 12, self.legend_y + 7, self.x1 + 32, self.legend_y + 7],
                        fill=color, width=3)  # fmt: skip
            self.d.text((self.x1 + 38, self.legend_y), label[:24], fill="black", font=_font(12))
            self.legend_y += 18


def roc_png(report: dict[str, Any], path: str | Path) -> None:
    """One-vs-rest ROC curves with their AUCs."""
    ax = _Axes("ROC (one-vs-rest)", "false positive rate", "TPR")
    ax.line([0, 1], [0, 1], (180, 180, 180), width=1)
    for i, c in enumerate(report["roc_curves"][:MAX_LEGEND]):
        ax.line(c["fpr"], c["tpr"], PALETTE[i % len(PALETTE)], label=f"{c['class']} {c['auc']:.3f}")
    save_png(path, np.asarray(ax.img))


def pr_png(report: dict[str, Any], path: str | Path) -> None:
    """Precision against recall for the positive class, with average precision."""
    pr = report["pr_curve"]
    ax = _Axes(f"precision-recall (positive: {pr['positive_class']})", "recall", "prec.")
    ax.line(pr["recall"], pr["precision"], PALETTE[0], label=f"AP {pr['average_precision']:.3f}")
    save_png(path, np.asarray(ax.img))


def reliability_png(report: dict[str, Any], path: str | Path) -> None:
    """Accuracy per confidence bin against the diagonal of perfect calibration."""
    cal = report["calibration"]
    ax = _Axes(f"reliability (ECE {cal['ece']:.3f}, MCE {cal['mce']:.3f})", "confidence", "acc.")
    for b in cal["bins"]:
        if b["count"]:
            (x0, y), (x1, base) = ax.px(b["lo"], b["accuracy"]), ax.px(b["hi"], 0)
            ax.d.rectangle([x0 + 1, y, x1 - 1, base], fill=(31, 119, 180), outline="white")
    ax.line([0, 1], [0, 1], (214, 39, 40), width=2, label="perfect")
    ax.line([], [], (31, 119, 180), label="accuracy")
    save_png(path, np.asarray(ax.img))


def confusion_png(report: dict[str, Any], path: str | Path) -> None:
    """The row-normalised confusion matrix as coloured cells with counts."""
    cm = np.asarray(report["confusion_matrix"])
    rates = np.asarray(report["confusion_matrix_normalised"], dtype=np.float64)
    names = report["class_names"]
    k = len(names)
    cell = max(24, min(64, 600 // max(k, 1)))
    pad = 110
    img = Image.new("RGB", (pad + k * cell + 20, pad + k * cell + 20), "white")
    d = ImageDraw.Draw(img)
    colors = colorize(rates, "viridis")
    f = _font(max(9, min(14, cell // 3)))
    for t in range(k):
        for p in range(k):
            x, y = pad + p * cell, pad + t * cell
            d.rectangle([x, y, x + cell, y + cell], fill=tuple(int(v) for v in colors[t, p]))
            ink = "black" if rates[t, p] > 0.6 else "white"
            d.text((x + cell / 2, y + cell / 2), str(cm[t, p]), fill=ink, font=f, anchor="mm")
        d.text((pad - 6, pad + t * cell + cell / 2), names[t][:12], fill="black", font=f,
               anchor="rm")  # fmt: skip
        d.text((pad + t * cell + cell / 2, pad - 6), names[t][:6], fill="black", font=f,
               anchor="ms")  # fmt: skip
    d.text((8, 8), "rows: true class, columns: predicted", fill="black", font=_font(13))
    save_png(path, np.asarray(img))


def write_plots(report: dict[str, Any], folder: str | Path) -> list[str]:
    """Every figure the report supports, as PNG files in ``folder``; returns their paths."""
    folder = Path(folder)
    jobs = [("confusion.png", confusion_png), ("reliability.png", reliability_png)]
    if report.get("roc_curves"):
        jobs.append(("roc.png", roc_png))
    if report.get("pr_curve"):
        jobs.append(("pr.png", pr_png))
    written = []
    for name, draw in jobs:
        draw(report, folder / name)
        written.append(str(folder / name))
    return written
