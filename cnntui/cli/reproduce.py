"""``cnntui reproduce [PATTERN]``: train the tutorial entries as their articles did."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import AsJson, Epochs, Limit, PositiveClass, RunsDir, Seed, View, Zoo
from cnntui.cli.output import check_view, sinks


@handle_errors
def reproduce(
    pattern: Annotated[
        list[str] | None, typer.Argument(help="Entry name pattern(s), e.g. 'mnist-*'.")
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="ENTRY=SOURCE (ENTRY may be a pattern: 'catsdogs-*=~/catsdogs'), repeatable; "
            "or SOURCE for every entry ('sample': a quick look, not the articles' data). "
            "Default: each article's own dataset when it is at hand.",
        ),
    ] = None,
    epochs: Epochs = None,
    limit: Limit = None,
    positive_class: PositiveClass = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            help="Largest |measured - article| that counts as reproduced (default: 0.02 "
            "accuracy, 0.05 Pearson r, 0.03 MSE, 0.05 loss; epoch seconds are never judged).",
        ),
    ] = None,
    seed: Seed = 0,
    runs_dir: RunsDir = None,
    zoo: Zoo = None,
    view: View = "auto",
    as_json: AsJson = False,
) -> None:
    """Train tutorial entries on their article's data and terms; compare with the article."""
    from cnntui.core.reproduce import markdown
    from cnntui.core.reproduce import reproduce as run_all

    check_view(view)
    rows = run_all(
        pattern,
        data=list(data or []),
        epochs=epochs,
        limit=limit,
        runs_dir=runs_dir,
        zoo=list(zoo or []),
        positive_class=positive_class,
        tolerance=tolerance,
        seed=seed,
        sinks=lambda: sinks(view, as_json, False),
    )
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        typer.echo("")
        typer.echo(markdown(rows, tolerance))
    if any(r.status == "failed" for r in rows):
        raise typer.Exit(1)
