"""``cnntui explain IMAGE…``: what the model looks at, drawn over each image."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.graphics import choose_graphics, print_image
from cnntui.cli.options import AsJson, BatchSize, CheckpointFile, Graphics, Labels, Run, Unsafe
from cnntui.cli.output import side_by_side, use_color

METHOD_HELP = (
    "gradcam (default), gradcam++, saliency, smoothgrad, integrated-gradients or occlusion."
)


def _draw(rgb, width: int, color: bool) -> list[str]:
    from cnntui.cli.termimage import color_depth, render

    return render(rgb, width=width, depth=color_depth(is_tty=color), max_height=width)


def legend_line(width: int, cmap: str, color: bool) -> str:
    """``low ▀▀▀▀ high`` in the colour map (ASCII shading without colour)."""
    from cnntui.core.judge.explain.colormap import legend_strip

    bar = _draw(legend_strip(width * 2, cmap), width, color)[0]
    return f"low {bar} high"


def _text(e, color: bool, width: int, cmap: str) -> list[str]:
    if not e.ok:
        return [e.path, f"  error: {e.error}"]
    where = f" · layer {e.layer}" if e.layer else ""
    lines = [
        e.path if e.rank == 1 else f"{e.path} (class #{e.rank})",
        f"  {e.method}: {e.label}  p={e.probability:.2%}{where}",
    ]
    if e.label != e.predicted:
        lines.append(f"  (predicted: {e.predicted})")
    if e.files:
        lines.append(f"  wrote {e.files['overlay']}")
    lines.append("  " + legend_line(min(width, 16), cmap, color))
    return lines


def _grid_output(
    kind, grid, info, out: Path | None, width: int, as_json: bool, graphics: str = "blocks"
) -> None:
    from cnntui.core.images import save_png
    from cnntui.core.judge.explain.explainer import upscale

    if out is not None:
        path = out / f"{kind}-{info['layer'].replace('/', '_')}.png"
        save_png(path, upscale(grid, 512))
        info["file"] = str(path)
    if as_json:
        typer.echo(json.dumps({kind.replace("-", "_"): info}, indent=2))
        return
    color = use_color(sys.stdout)
    title = "activation maps" if kind == "feature-maps" else "kernels"
    typer.echo(f"{title} of {info['layer']} ({info['shown']} shown)")
    columns = max(width, min(grid.shape[1], 96))
    if graphics == "blocks":
        typer.echo("\n".join(_draw(grid, columns, color)))
    else:
        print_image(grid, graphics, columns)
    if "file" in info:
        typer.echo(f"wrote {info['file']}")


@handle_errors
def explain(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Image files, folders (searched recursively) or glob patterns."),
    ] = None,
    run: Run = None,
    checkpoint: CheckpointFile = None,
    method: Annotated[str, typer.Option("--method", "-m", help=METHOD_HELP)] = "gradcam",
    classes: Annotated[
        list[str] | None,
        typer.Option(
            "--class",
            help="Class to explain, by name or index (repeatable; default: the predicted one).",
        ),
    ] = None,  # fmt: skip
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, help="Explain the k most probable classes.")
    ] = 1,
    layer: Annotated[
        str | None,
        typer.Option(
            "--layer",
            help="Layer for gradcam/gradcam++ (name or nested path; "
            "default: the last spatial layer before pooling).",
        ),
    ] = None,  # fmt: skip
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write PNG overlays and the raw maps (.npy) here."),
    ] = None,
    as_json: AsJson = False,
    feature_maps: Annotated[
        str | None,
        typer.Option(
            "--feature-maps",
            metavar="LAYER",
            help="Draw LAYER's activation maps for the (first) image instead.",
        ),
    ] = None,  # fmt: skip
    filters: Annotated[
        str | None,
        typer.Option(
            "--filters",
            metavar="LAYER",
            help="Draw the kernels of convolution layer LAYER (no image needed).",
        ),
    ] = None,  # fmt: skip
    samples: Annotated[
        int | None,
        typer.Option("--samples", help="smoothgrad: noisy copies averaged (default 25)."),
    ] = None,
    noise: Annotated[
        float | None,
        typer.Option(
            "--noise",
            help="smoothgrad: noise σ as a share of the image's range, 0-1 (default 0.15).",
        ),
    ] = None,
    cmap: Annotated[str, typer.Option("--cmap", help="inferno or viridis.")] = "inferno",
    graphics: Graphics = "auto",
    width: Annotated[int, typer.Option("--width", min=4, help="Columns per image.")] = 24,
    labels: Labels = None,
    batch_size: BatchSize = 16,
    unsafe: Unsafe = False,
) -> None:
    """Heatmaps of what drives a prediction (Grad-CAM and friends), in the terminal.

    Exit code 0: every image explained; 1: some files failed; 2: bad arguments.
    """
    from cnntui.core.checkpoints import parse_labels
    from cnntui.core.inference.open import open_for_inference
    from cnntui.core.inference.predict import collect_inputs
    from cnntui.core.judge.explain.explainer import filter_grid

    options = _check_options(
        run, checkpoint, method, feature_maps, filters, cmap, samples, noise, paths, out
    )
    drawing = "blocks" if as_json else choose_graphics(graphics, use_color(sys.stdout))
    inputs = collect_inputs(paths or [])
    # the probabilities shown are predict's: the run's calibration applied
    loaded = open_for_inference(run, checkpoint, labels=parse_labels(labels), unsafe=unsafe)
    for note in loaded.notes:
        typer.echo(f"note: {note}", err=True)
    if filters:
        grid, info = filter_grid(loaded, filters)
        _grid_output("filters", grid, info, out, width, as_json, drawing)
    elif feature_maps:
        _feature_maps(loaded, inputs, feature_maps, out, width, as_json, drawing)
    else:
        request = dict(method=method, classes=classes, top_k=top_k, layer=layer,
                       batch_size=batch_size, options=options)  # fmt: skip
        view = dict(out=out, cmap=cmap, width=width, as_json=as_json, drawing=drawing)
        _explain_images(loaded, inputs, request, **view)


def _check_options(
    run, checkpoint, method: str, feature_maps, filters, cmap: str, samples, noise, paths, out
) -> dict:
    """Options that cannot go together or cannot work, before any work; the method's options."""
    from cnntui.core.judge.explain.colormap import CMAPS
    from cnntui.core.judge.explain.explainer import check_method, check_options

    if run and checkpoint:
        raise typer.BadParameter("give --run or --checkpoint, not both")
    if feature_maps and filters:
        raise typer.BadParameter("give --feature-maps or --filters, not both")
    if cmap not in CMAPS:
        raise typer.BadParameter(f"--cmap must be one of {', '.join(CMAPS)}")
    check_method(method)
    options = {k: v for k, v in (("samples", samples), ("noise", noise)) if v is not None}
    if options and method != "smoothgrad":
        raise typer.BadParameter("--samples and --noise apply to --method smoothgrad only")
    check_options(method, options)  # a bad --samples or --noise: exit 2, before any work
    if not paths and not filters:
        raise typer.BadParameter("give at least one image (only --filters needs none)")
    if out is not None and out.exists() and not out.is_dir():
        raise typer.BadParameter(f"--out {out} exists and is not a folder")
    return options


def _feature_maps(loaded, inputs, layer: str, out, width: int, as_json: bool, drawing: str):
    """``--feature-maps LAYER``: the activation maps of the first readable image."""
    from cnntui.core.images import try_load_image_uint8
    from cnntui.core.judge.explain.explainer import feature_map_grid

    path = next((p for p, err in inputs if err is None), None)
    pixels, reason = try_load_image_uint8(path, loaded.preprocessing) if path else (None, "")
    if pixels is None:
        first, err = inputs[0]
        typer.echo(f"error: {first}: {reason or err}", err=True)
        raise typer.Exit(1)
    grid, info = feature_map_grid(loaded, pixels, layer)
    info["image"] = path
    _grid_output("feature-maps", grid, info, out, width, as_json, drawing)


def _explain_images(
    loaded, inputs, request: dict, *, out, cmap: str, width: int, as_json: bool, drawing: str
) -> None:
    """Explain each image as ``request`` asks; print (or write) each as it comes."""
    from cnntui.core.judge.explain.explainer import (
        explain_paths,
        layer_for,
        resolve_class,
        write_explanation,
    )

    layer_for(loaded, request["method"], request["layer"])  # a bad --layer or an MLP: now
    for c in request["classes"] or []:
        resolve_class(loaded, c)
    color = use_color(sys.stdout)
    failed = total = 0
    docs = []
    for position, e in enumerate(explain_paths(loaded, inputs, **request)):
        total += e.rank == 1
        failed += not e.ok
        if e.ok and out is not None:
            write_explanation(e, out, position, cmap)
        if as_json:
            docs.append(e.to_dict())
        else:
            _print_explanation(e, color, width, cmap, drawing)
    if as_json:
        typer.echo(json.dumps(docs, indent=2))
    if failed:
        typer.echo(f"{failed} of {total} file(s) could not be explained (see above)", err=True)
        raise typer.Exit(1)


def _print_explanation(e, color: bool, width: int, cmap: str, drawing: str) -> None:
    text = _text(e, color, width, cmap)
    if e.ok and drawing != "blocks":
        print_image(e.overlay(cmap), drawing, width)  # real pixels, the text below
    elif e.ok:
        text = side_by_side(_draw(e.overlay(cmap), width, color), text, width)
    typer.echo("\n".join(text))
