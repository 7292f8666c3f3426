"""``cnntui data inspect SOURCE``: what a data source holds, before training on it."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cnntui.cli.errors import handle_errors

app = typer.Typer(help="Look at data sources before training.", no_args_is_help=True)

BAR_WIDTH = 30


def _bar(n: int, top: int) -> str:
    return "█" * max(1 if n else 0, round(BAR_WIDTH * n / top)) if top else ""


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() and total >= 256:
        end = "\n" if done == total else "\r"
        print(f"checking images: {done}/{total}", end=end, file=sys.stderr, flush=True)


def _counts_line(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.items()) or "-"


def format_report(report: dict[str, Any]) -> list[str]:
    """The inspection report as lines of plain text."""
    from cnntui.core.data.inspect import relative
    from cnntui.core.data.preview import shade_lines

    lines = []
    layout = {
        "split": "train/val/test folders",
        "classes": "one folder per class",
        "arrays": "in-memory arrays",
    }.get(report["layout"], report["layout"])
    bad = report["bad_files"]
    lines.append(f"source   {report['source']}  ({report['kind']}, {layout})")
    lines.append(
        f"classes  {len(report['class_names'])}   images {report['images']} readable"
        + (f", {len(bad)} unreadable" if bad else "")
    )
    if report.get("note"):
        lines.append(f"note     {report['note']}")
    width = max(len(n) for n in report["class_names"])
    width = max(5, min(width, 32))
    for split, info in report["splits"].items():
        lines.append("")
        where = f"  {info['path']}" if info.get("path") else ""
        lines.append(f"[{split}] {info['images']} images{where}")
        top = max(info["classes"].values(), default=0)
        for name, n in info["classes"].items():
            lines.append(f"  {name[:width]:<{width}} {n:>7}  {_bar(n, top)}")
    sizes = report["sizes"]
    if sizes.get("most_common"):
        h, w = sizes["most_common"]
        lines.append("")
        lines.append(
            f"image sizes (height x width): most common {h}x{w}, {sizes['distinct']} distinct"
            + (
                f"; height {sizes['height']['min']}-{sizes['height']['max']}, "
                f"width {sizes['width']['min']}-{sizes['width']['max']}"
                if "height" in sizes
                else ""
            )
        )
        top = max(e["count"] for e in sizes["histogram"])
        for e in sizes["histogram"]:
            label = f"{e['height']}x{e['width']}"
            lines.append(f"  {label:>11} {e['count']:>7}  {_bar(e['count'], top)}")
        if sizes.get("other"):
            lines.append(f"  {'other':>11} {sizes['other']:>7}")
    lines.append(f"colour modes  {_counts_line(report['color_modes'])}")
    lines.append(f"formats       {_counts_line(report['formats'])}")
    if report.get("suggested"):
        s = report["suggested"]
        h, w = s["image_size"]
        lines.append(
            f"suggested     {h}x{w} {s['color_mode']} (when the model does not fix a size)"
        )
    if bad:
        lines.append("")
        lines.append(f"unreadable files ({len(bad)}), skipped when training:")
        for b in bad:
            lines.append(f"  {relative(b['path'], report['source'])}: {b['reason']}")
    for warning in report["warnings"]:
        lines.append(f"warning: {warning}")
    samples = report.get("samples")
    if samples:
        lines.append("")
        lines.append("samples (train):")
        for name, items in samples.items():
            if not items:
                continue
            arts = [shade_lines(item["pixels"]) for item in items]
            lines.append(f"  {name}")
            for row in zip(*arts, strict=False):
                lines.append("    " + "  ".join(row))
    return lines


@app.command("inspect")
@handle_errors
def inspect(
    source: Annotated[
        str,
        typer.Argument(
            help="A folder of images, an .npz, or one of sample, mnist, fashion_mnist, "
            "cifar10, cifar100."
        ),
    ] = "sample",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=0, help="Sample images drawn per class.")
    ] = 3,
) -> None:
    """Counts per split and class, image sizes, colour modes, formats, unreadable files."""
    from cnntui.core.data.inspect import inspect_source, json_ready

    report = inspect_source(
        source, samples_per_class=0 if as_json else samples, on_progress=_progress
    )
    if as_json:
        typer.echo(json.dumps(json_ready(report), indent=2))
        return
    typer.echo("\n".join(format_report(report)))
