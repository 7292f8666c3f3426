"""``cnntui data inspect|doctor|split|cache``: look at, check and arrange data sources."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import AsJson

app = typer.Typer(
    help="Look at, check and arrange data sources before training.", no_args_is_help=True
)

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
    return [
        *_source_lines(report),
        *_split_lines(report),
        *_size_lines(report["sizes"]),
        f"colour modes  {_counts_line(report['color_modes'])}",
        f"formats       {_counts_line(report['formats'])}",
        *_suggestion_lines(report),
        *_problem_lines(report),
        *_sample_lines(report.get("samples")),
    ]


def _source_lines(report: dict[str, Any]) -> list[str]:
    layout = {
        "split": "train/val/test folders",
        "classes": "one folder per class",
        "arrays": "in-memory arrays",
    }.get(report["layout"], report["layout"])
    bad = report["bad_files"]
    lines = [
        f"source   {report['source']}  ({report['kind']}, {layout})",
        f"classes  {len(report['class_names'])}   images {report['images']} readable"
        + (f", {len(bad)} unreadable" if bad else ""),
    ]
    if report.get("note"):
        lines.append(f"note     {report['note']}")
    return lines


def _split_lines(report: dict[str, Any]) -> list[str]:
    width = max(len(n) for n in report["class_names"])
    width = max(5, min(width, 32))
    lines = []
    for split, info in report["splits"].items():
        where = f"  {info['path']}" if info.get("path") else ""
        lines += ["", f"[{split}] {info['images']} images{where}"]
        top = max(info["classes"].values(), default=0)
        for name, n in info["classes"].items():
            lines.append(f"  {name[:width]:<{width}} {n:>7}  {_bar(n, top)}")
    return lines


def _size_lines(sizes: dict[str, Any]) -> list[str]:
    if not sizes.get("most_common"):
        return []
    h, w = sizes["most_common"]
    ranges = (
        f"; height {sizes['height']['min']}-{sizes['height']['max']}, "
        f"width {sizes['width']['min']}-{sizes['width']['max']}"
        if "height" in sizes
        else ""
    )
    lines = [
        "",
        f"image sizes (height x width): most common {h}x{w}, {sizes['distinct']} distinct" + ranges,
    ]
    top = max(e["count"] for e in sizes["histogram"])
    for e in sizes["histogram"]:
        label = f"{e['height']}x{e['width']}"
        lines.append(f"  {label:>11} {e['count']:>7}  {_bar(e['count'], top)}")
    if sizes.get("other"):
        lines.append(f"  {'other':>11} {sizes['other']:>7}")
    return lines


def _suggestion_lines(report: dict[str, Any]) -> list[str]:
    if not report.get("suggested"):
        return []
    s = report["suggested"]
    h, w = s["image_size"]
    return [f"suggested     {h}x{w} {s['color_mode']} (when the model does not fix a size)"]


def _problem_lines(report: dict[str, Any]) -> list[str]:
    from cnntui.core.data.inspect import relative

    bad = report["bad_files"]
    lines = []
    if bad:
        lines += ["", f"unreadable files ({len(bad)}), skipped when training:"]
        for b in bad:
            lines.append(f"  {relative(b['path'], report['source'])}: {b['reason']}")
    return lines + [f"warning: {warning}" for warning in report["warnings"]]


def _sample_lines(samples: dict[str, Any] | None) -> list[str]:
    from cnntui.core.data.preview import shade_lines

    if not samples:
        return []
    lines = ["", "samples (train):"]
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
    as_json: AsJson = False,
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


@app.command("doctor")
@handle_errors
def doctor(
    source: Annotated[
        str, typer.Argument(help="An image folder (class or train/val/test layout).")
    ],
    as_json: AsJson = False,
    fix_dir: Annotated[
        str | None,
        typer.Option(
            "--fix",
            metavar="DIR",
            help="Write a cleaned copy (hard links) without exact duplicates, leaked copies "
            "and unreadable files; the source is never touched.",
        ),
    ] = None,
    max_distance: Annotated[
        int,
        typer.Option(min=0, max=32, help="Near duplicates: perceptual-hash bits that may differ."),
    ] = 6,
    min_similarity: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Near duplicates: the least correlation of the two grey thumbnails that "
            "confirms a hash match (lower finds more edited copies, and more false ones).",
        ),
    ] = 0.995,
    copy: Annotated[bool, typer.Option("--copy", help="With --fix: copy instead of link.")] = False,
) -> None:
    """Exact and near duplicates (within a class, across classes, across splits = leakage),
    class imbalance with the weights --class-weight auto would use, outliers."""
    from cnntui.cli.data_doctor import format_doctor, format_fix
    from cnntui.core.data.doctor import diagnose, fix, json_ready
    from cnntui.core.data.linkdir import check_destination
    from cnntui.core.data.sources import classify_source

    src = classify_source(source)
    if src.kind != "folder":
        raise ValueError(f"data doctor takes an image folder; {source} is a {src.kind} source")
    if fix_dir:
        check_destination(fix_dir, src.path)  # before any work
    report = diagnose(
        src.path, max_distance=max_distance, min_similarity=min_similarity,
        on_progress=_progress,
    )  # fmt: skip
    fixed = fix(report, fix_dir, copy=copy) if fix_dir else None
    if as_json:
        out = json_ready(report)
        if fixed:
            out["fix"] = fixed
        typer.echo(json.dumps(out, indent=2))
        return
    lines = format_doctor(report)
    if fixed:
        lines += format_fix(fixed, report["source"])
    typer.echo("\n".join(lines))


@app.command("split")
@handle_errors
def split(
    source: Annotated[str, typer.Argument(help="A folder with one sub-folder per class.")],
    dst: Annotated[str, typer.Argument(help="New folder for train/val/test/<class>/.")],
    val: Annotated[float, typer.Option("--val", help="Share of each class for val/.")] = 0.2,
    test: Annotated[float, typer.Option("--test", help="Share of each class for test/.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the shuffle.")] = 0,
    copy: Annotated[bool, typer.Option("--copy", help="Copy files instead of hard links.")] = False,
    as_json: AsJson = False,
) -> None:
    """Write SOURCE as DST/train|val|test/<class>/, stratified by class (hard links)."""
    from cnntui.core.data.split_folder import split_folder

    result = split_folder(source, dst, val=val, test=test, seed=seed, copy=copy)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    images = ", ".join(f"{s} {n}" for s, n in result["images"].items())
    typer.echo(f"wrote {result['destination']} ({result['how']}): {images}")
    for name in next(iter(result["counts"].values())):
        per = "  ".join(f"{s} {c[name]:>5}" for s, c in result["counts"].items())
        typer.echo(f"  {name:<24} {per}")


cache_app = typer.Typer(help="The decoded-image cache of image folders.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("list")
@handle_errors
def cache_list(
    as_json: AsJson = False,
) -> None:
    """Cached folders: images decoded, size on disk, last used."""
    from cnntui.core.data.cache import list_entries
    from cnntui.core.user_dirs import cache_root

    entries = list_entries()
    if as_json:
        root = cache_root()
        typer.echo(json.dumps({"root": str(root) if root else None, "entries": entries}, indent=2))
        return
    if not entries:
        typer.echo(f"no cached folders in {cache_root() or '(cache off: CNNTUI_CACHE_DIR=off)'}")
        return
    total = sum(e["bytes"] for e in entries)
    typer.echo(f"{len(entries)} cached folder(s), {total / 2**20:,.1f} MiB in {cache_root()}")
    for e in entries:
        shape = "x".join(str(v) for v in e["shape"] or [])
        typer.echo(
            f"  {e['key'][:12]}  {e['source']}  {shape}  {e['decoded']}/{e['images']} decoded"
            + (f", {e['bad']} bad" if e["bad"] else "")
            + f"  {e['bytes'] / 2**20:,.1f} MiB  used {e['used']}"
        )


@cache_app.command("clear")
@handle_errors
def cache_clear(
    keys: Annotated[
        list[str] | None, typer.Argument(help="Entry keys (or prefixes) to remove; all if none.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Free the decoded-image cache (all of it, or the given entries)."""
    from cnntui.core.data.cache import clear_entries

    try:
        removed = clear_entries(keys or ())
    except KeyError as exc:
        raise ValueError(
            f"no cache entry starts with {exc.args[0]}; see `cnntui data cache list`"
        ) from None
    if as_json:
        typer.echo(json.dumps({"removed": removed}, indent=2))
        return
    freed = sum(e["bytes"] for e in removed)
    typer.echo(f"removed {len(removed)} cached folder(s), {freed / 2**20:,.1f} MiB freed")
