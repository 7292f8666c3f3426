"""``cnntui predict PATH…``: classify image files with a run's checkpoint or an exported
model (``--model``: .tflite, .onnx or a SavedModel folder, in its own runtime)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.graphics import choose_graphics, print_image
from cnntui.cli.options import (
    AsJson,
    BatchSize,
    CheckpointFile,
    Graphics,
    Labels,
    Limit,
    NoCalibration,
    Run,
    Tta,
    Unsafe,
)
from cnntui.cli.output import side_by_side, use_color

BAR_WIDTH = 24
EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``width`` cells filled to ``fraction`` in eighths of a cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (EIGHTHS[part] if part else "")
    return text.ljust(width)


def _text_lines(pred, color: bool) -> list[str]:
    if not pred.ok:
        return [f"  error: {pred.error}"]
    width = max(len(t["label"]) for t in pred.top)
    lines = []
    for rank, t in enumerate(pred.top):
        b = bar(t["probability"])
        if color:
            b = f"\x1b[{'32' if rank == 0 else '2'}m{b}\x1b[0m"
        lines.append(f"  {t['label']:<{width}}  {b} {t['probability']:7.2%}")
    return lines


def _show_lines(path: str, width: int, color: bool) -> list[str]:
    from cnntui.cli.termimage import color_depth, render
    from cnntui.core.images import ImageReadError

    try:
        return render(path, width=width, depth=color_depth(is_tty=color), max_height=width)
    except ImageReadError:
        return []


def _print_pixels(out, path: str, mode: str, width: int) -> None:
    """Draw the image file ``path`` with the protocol ``mode`` on ``out``'s terminal, after
    the text already written to ``out`` (above the progress bar when one is drawn)."""
    from cnntui.cli.termimage import rgb_pixels
    from cnntui.core.images import ImageReadError

    try:
        rgb = rgb_pixels(path)
    except ImageReadError:
        return
    if hasattr(out, "drain"):  # lines printed above the progress bar: those first
        out.drain()
    else:
        out.flush()
    print_image(rgb, mode, width, console=getattr(out, "console", None))


def _csv_rows(pred) -> list[list]:
    if not pred.ok:
        return [[pred.path, "", "", "", "", pred.error]]
    return [
        [pred.path, r + 1, t["label"], t["index"], f"{t['probability']:.6f}", ""]
        for r, t in enumerate(pred.top)
    ]


@handle_errors
def predict(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Image files, folders (searched recursively) or glob patterns."),
    ] = None,
    run: Run = None,
    checkpoint: CheckpointFile = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="An exported model (FILE.tflite, FILE.onnx or a SavedModel folder from "
            "`cnntui export`), run in its own runtime with the preprocessing.json beside it.",
        ),
    ] = None,
    top_k: Annotated[
        int, typer.Option("--top-k", "-k", min=1, help="Classes to show per image.")
    ] = 3,
    as_json: AsJson = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV rows for spreadsheets.")] = False,
    labels: Labels = None,
    show: Annotated[
        bool, typer.Option("--show", help="Draw each image beside its prediction.")
    ] = False,
    show_width: Annotated[
        int, typer.Option("--show-width", min=4, help="Columns for --show.")
    ] = 24,
    graphics: Graphics = "auto",
    unsafe: Unsafe = False,
    batch_size: BatchSize = 64,
    tta: Tta = None,
    no_calibration: NoCalibration = False,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="Predict the first images of a dataset instead of files: sample, mnist, "
            "cifar10, an .npz or a folder (with --split and --limit); shows the true labels.",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="With --data: train, test or val.")
    ] = "test",
    limit: Limit = None,
) -> None:
    """Classify images with a trained model; bad files are reported, the rest still run.

    Exit code 0: all files classified; 1: some files failed; 2: nothing could run.
    """
    import time

    from cnntui.cli.progress import StderrProgress
    from cnntui.core.checkpoints import parse_labels
    from cnntui.core.inference.tta import NOTE

    tta = _check_options(as_json, as_csv, run, checkpoint, model, tta)
    started = time.perf_counter()
    examples, inputs = _choose_inputs(data, split, limit, paths)
    label_list = parse_labels(labels)
    color = use_color(sys.stdout)
    drawing = choose_graphics(graphics, color) if show and not (as_json or as_csv) else "blocks"
    shown = Shown(color, show, show_width, drawing)
    with StderrProgress(len(inputs), "loading model") as progress:
        loaded = None
        if any(err is None for _, err in inputs):
            loaded = _load(model, run, checkpoint, label_list, unsafe, no_calibration)
            for note in loaded.notes + ([NOTE[tta]] if tta else []):
                progress.echo(f"note: {note}")
        loading = time.perf_counter() - started if loaded is not None else 0.0
        progress.phase("predicting")
        results = _predictions(loaded, inputs, examples, top_k, batch_size, tta)
        printer = _printer(progress.stdout(), as_json, as_csv, tta, shown)
        total, failed = _print_all(results, printer, progress)
    seconds = time.perf_counter() - started
    typer.echo(summary_line(total, failed, seconds, loading), err=True)
    if failed:
        raise typer.Exit(1)


def _check_options(as_json: bool, as_csv: bool, run, checkpoint, model, tta):
    """Options that cannot go together, and ``--tta``, checked before any work."""
    import warnings

    from PIL.Image import DecompressionBombWarning

    from cnntui.core.inference.tta import check_tta

    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    if sum(bool(v) for v in (run, checkpoint, model)) > 1:
        raise typer.BadParameter("give one of --run, --checkpoint and --model")
    # oversized images are reported per file by the decoder; Pillow's warning is noise here
    warnings.filterwarnings("ignore", category=DecompressionBombWarning)
    return check_tta(tta)


def _choose_inputs(data, split: str, limit: int | None, paths: list[str] | None):
    """The examples of ``--data`` (or None) and the ``(path or id, error)`` inputs."""
    from cnntui.core.inference.predict import collect_inputs

    examples = _dataset_examples(data, split, limit, paths)
    inputs = collect_inputs(examples.paths if examples else paths or [])
    if examples is not None and examples.images is not None:
        inputs = [(i, None) for i in examples.ids]
    return examples, inputs


def _predictions(loaded, inputs, examples, top_k: int, batch_size: int, tta):
    """Predictions in input order: a bad file or nothing to load gives an error item."""
    from cnntui.core.inference.predict import predict_paths

    results = (
        predict_paths(loaded, inputs, top_k=top_k, batch_size=batch_size, tta=tta)
        if loaded is not None
        else (_error_only(p, e) for p, e in inputs)
    )
    if examples is not None:
        results = _with_labels(examples, loaded, top_k, batch_size, tta, results)
    return results


def _print_all(results, printer, progress) -> tuple[int, int]:
    """Print every prediction as it comes; ``(total, failed)``. A closed pipe stops quietly."""
    failed = total = 0
    printer.begin()
    try:
        for pred in results:
            total += 1
            failed += not pred.ok
            printer.item(pred)
            progress.advance()
        printer.end()
    except BrokenPipeError:  # output piped into `head` and closed: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1 if failed else 0) from None
    return total, failed


@dataclass
class Shown:
    """How text output looks: colour, and whether and how each image is drawn."""

    color: bool
    show: bool
    width: int
    drawing: str  # blocks (characters beside the text) or a pixel protocol (above it)


class TextPrinter:
    """Each prediction as lines of text, its image beside or above it with ``--show``."""

    def __init__(self, out, shown: Shown):
        self.out, self.shown = out, shown

    def begin(self) -> None:
        """Nothing before the first prediction."""

    def item(self, pred) -> None:
        """One prediction's lines."""
        shown, out = self.shown, self.out
        head = pred.path + (f"  (true: {pred.true})" if pred.true is not None else "")
        lines = [head, *_text_lines(pred, shown.color)]
        if shown.show and pred.ok and shown.drawing != "blocks":  # real pixels, text below
            _print_pixels(out, pred.path, shown.drawing, shown.width)
        elif shown.show and pred.ok:
            drawn = _show_lines(pred.path, shown.width, shown.color)
            lines = side_by_side(drawn, lines, shown.width)
        out.write("\n".join(lines) + "\n")
        out.flush()

    def end(self) -> None:
        """Nothing after the last one."""


class CsvPrinter(TextPrinter):
    """One CSV row per class shown, under a header."""

    def begin(self) -> None:
        import csv

        self.writer = csv.writer(self.out, lineterminator="\n")
        self.writer.writerow(["path", "rank", "label", "index", "probability", "error"])

    def item(self, pred) -> None:
        self.writer.writerows(_csv_rows(pred))
        self.out.flush()


class JsonPrinter(TextPrinter):
    """One JSON list, written as predictions come (each waits for its separator)."""

    def __init__(self, out, tta: str | None):
        super().__init__(out, Shown(False, False, 0, "blocks"))
        self.tta, self.held = tta, ""

    def begin(self) -> None:
        self.out.write("[\n")

    def item(self, pred) -> None:
        import json

        item = {**pred.to_dict(), **({"tta": self.tta} if self.tta and pred.ok else {})}
        if self.held:
            self.out.write(f"  {self.held},\n")
        self.held = json.dumps(item)
        self.out.flush()

    def end(self) -> None:
        self.out.write(f"  {self.held}\n]\n" if self.held else "]\n")
        self.out.flush()


def _printer(out, as_json: bool, as_csv: bool, tta: str | None, shown: Shown) -> TextPrinter:
    if as_json:
        return JsonPrinter(out, tta)
    if as_csv:
        return CsvPrinter(out, shown)
    return TextPrinter(out, shown)


def summary_line(files: int, failed: int, seconds: float, loading: float = 0.0) -> str:
    """``16 files: 12 classified, 4 errors (see above) · 2.31 s (model 1.80 s) · 23.5 images/s``.

    The rate is over the time spent predicting, after the model was loaded.
    """
    classified = files - failed
    errors = f"{failed} error{'s' if failed != 1 else ''}" + (" (see above)" if failed else "")
    timing = f"{seconds:.2f} s" + (f" (model {loading:.2f} s)" if loading else "")
    working = seconds - loading
    rate = f"{classified / working:.1f} images/s" if classified and working > 0 else "-"
    noun = "file" if files == 1 else "files"
    return f"{files} {noun}: {classified} classified, {errors} · {timing} · {rate}"


def _load(model, run, checkpoint, labels, unsafe: bool, no_calibration: bool):
    """The model to predict with: an exported file, a bare checkpoint or a run's."""
    from cnntui.core.inference.open import open_for_inference

    return open_for_inference(
        run, checkpoint, model=model, labels=labels, unsafe=unsafe, calibration=not no_calibration
    )


def _dataset_examples(data: str | None, split: str, limit: int | None, paths: list[str] | None):
    """``--data``: the first images of a split; without it, PATH arguments are required."""
    if data is None:
        if not paths:
            raise typer.BadParameter("give image PATHs, or --data SOURCE for a dataset's images")
        return None
    if paths:
        raise typer.BadParameter("give image PATHs or --data, not both")
    from cnntui.core.data.examples import first_examples

    return first_examples(data, split, limit)


def _with_labels(examples, loaded, top_k, batch_size, tta, results):
    """Predictions of a dataset's examples (arrays predicted in memory) with true labels."""
    from cnntui.core.inference.predict import predict_images

    if examples.images is not None:
        results = predict_images(loaded, examples.images, examples.ids, top_k, batch_size, tta)
    for pred, label in zip(results, examples.labels, strict=False):
        pred.true = label
        yield pred


def _error_only(path: str, error: str | None):
    from cnntui.core.inference.predict import Prediction

    return Prediction(path=path, error=error or "not classified")
