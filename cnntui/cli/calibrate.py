"""``cnntui calibrate [RUN]``: fit temperature scaling on the run's validation split."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import AsJson, RunArgument, Unsafe, WhichCheckpoint


@handle_errors
def calibrate(
    run: RunArgument = None,
    checkpoint: WhichCheckpoint = "best",
    as_json: AsJson = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report the fit without storing it in the run.")
    ] = False,
    unsafe: Unsafe = False,
) -> None:
    """Temperature scaling: one number that makes the probabilities honest.

    Fitted on the validation split training held out, stored in the run as
    calibration.json; `predict` and `evaluate` then apply it (--no-calibration to compare).
    """
    from cnntui.core.judge.calibrate import calibrate_run

    if checkpoint not in ("best", "last"):
        raise typer.BadParameter("--checkpoint must be best or last")
    doc = calibrate_run(run, checkpoint=checkpoint, unsafe=unsafe, write=not dry_run)
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
        return
    b, a = doc["before"], doc["after"]
    for note in doc["notes"]:
        typer.echo(f"note: {note}")
    typer.echo(
        f"run {doc['run']} · {doc['checkpoint']} · {doc['data']} ({doc['split']}, "
        f"{doc['examples']} images)\ntemperature {doc['temperature']:.4f}"
        + (
            "  (over-confident: probabilities softened)"
            if doc["temperature"] > 1
            else "  (under-confident: probabilities sharpened)"
        )  # fmt: skip
    )
    typer.echo(f"{'':8}{'ECE':>8}{'MCE':>8}{'NLL':>8}{'Brier':>8}")
    for name, m in (("before", b), ("after", a)):
        typer.echo(f"{name:<8}{m['ece']:>8.4f}{m['mce']:>8.4f}{m['nll']:>8.4f}{m['brier']:>8.4f}")
    typer.echo("stored in calibration.json" if not dry_run else "not stored (--dry-run)")
