"""``cnntui reproduce [PATTERN]``: train the tutorial entries as their articles did."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
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
    epochs: Annotated[
        int | None, typer.Option("--epochs", "-e", help="Override the articles' epochs.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Use only N images.")] = None,
    positive_class: Annotated[
        str | None,
        typer.Option(
            "--positive-class",
            help="Class whose score and label 1 the two-class figures use (default: the "
            "article's, e.g. cat for cats vs dogs).",
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            help="Largest |measured - article| that counts as reproduced (default: 0.02 "
            "accuracy, 0.05 Pearson r, 0.03 MSE).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    runs_dir: Annotated[str | None, typer.Option("--runs-dir", help="Runs folder.")] = None,
    zoo: Annotated[list[str] | None, typer.Option("--zoo", help="Extra zoo folder.")] = None,
    view: Annotated[str, typer.Option("--view", help="auto, live, lines or none.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
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
