"""``cnntui export [RUN]``: SavedModel, TFLite and ONNX files, each checked against Keras."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import AsJson, Limit, RunArgument, Unsafe


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The parity table as aligned text lines."""
    from cnntui.core.export.sidecars import PARITY_HEADER, parity_cells

    cells = [list(PARITY_HEADER), *(parity_cells(r) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(PARITY_HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return [line.rstrip() for line in lines]


@handle_errors
def export(
    run: RunArgument = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="savedmodel, tflite, tflite-fp16, tflite-int8, onnx or all; repeat or separate "
            "with commas (default: all but onnx, which needs `pip install 'cnntui[onnx]'`).",
        ),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Output folder (default: RUN/export).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an output folder that holds files.")
    ] = False,
    data: Annotated[
        str | None,
        typer.Option(
            "--data", help="Check parity on this data instead of the run's validation split."
        ),
    ] = None,
    limit: Limit = None,
    calibration_images: Annotated[
        int,
        typer.Option(
            "--calibration-images",
            min=1,
            help="Training images used to calibrate tflite-int8.",
        ),
    ] = 200,
    min_agreement: Annotated[
        float | None,
        typer.Option(
            "--min-agreement",
            help="Top-1 agreement with Keras below which a format FAILED, for every format "
            "(0.99 or 99; default 99% float, 97% int8).",
        ),
    ] = None,
    unsafe: Unsafe = False,
    as_json: AsJson = False,
) -> None:
    """Export a trained run and prove each file gives the Keras model's answers.

    Writes the models, labels.txt, preprocessing.json and MODEL.md (with the parity table)
    into --out. Exit code 0: every format passed; 1: a format FAILED its agreement
    threshold (files still written); 2: bad input, nothing written.
    """
    from cnntui.core.export.export import export_run

    def progress(kind: str, payload: dict[str, Any]) -> None:
        if kind == "step" and not as_json:
            typer.echo(f"… {payload['text']}", err=True)

    report = export_run(
        run,
        formats,
        out=out,
        force=force,
        data=data,
        limit=limit,
        calibration_images=calibration_images,
        min_agreement=min_agreement,
        unsafe=unsafe,
        progress=progress,
    )
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        d = report["data"]
        typer.echo(
            f"run {report['run']} ({report['model']}) → {report['out']}\n"
            f"parity on {d['examples']} images of {d['source']} ({d['split']} split):\n"
        )
        typer.echo("\n".join(table_lines([report["keras"], *report["formats"]])))
        for note in d.get("notes") or []:
            typer.echo(f"note: {note}", err=True)
    if not report["passed"]:
        failed = [r["format"] for r in report["formats"] if not r["passed"]]
        typer.echo(
            f"FAILED: {', '.join(failed)} below the agreement threshold (files kept in "
            f"{report['out']}, marked FAILED in MODEL.md)",
            err=True,
        )
        raise typer.Exit(1)
