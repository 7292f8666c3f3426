"""``cnntui reproduce [PATTERN]``: train the tutorial entries as their articles did."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors


@handle_errors
def reproduce(
    pattern: Annotated[
        list[str] | None, typer.Argument(help="Entry name pattern(s), e.g. 'mnist-*'.")
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", "-d", help="Data source (default: the sample).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", "-e", help="Override the articles' epochs.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Use only N images.")] = None,
    runs_dir: Annotated[str | None, typer.Option("--runs-dir", help="Runs folder.")] = None,
    zoo: Annotated[list[str] | None, typer.Option("--zoo", help="Extra zoo folder.")] = None,
    view: Annotated[str, typer.Option("--view", help="auto, live, lines or none.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Train tutorial entries with their article's settings; compare reported vs measured."""
    from cnntui.cli.runs import _table
    from cnntui.cli.train import _sinks
    from cnntui.core.train.reproduce import reproduce as run_all

    rows = run_all(
        pattern,
        data=data,
        epochs=epochs,
        limit=limit,
        runs_dir=runs_dir,
        zoo=list(zoo or []),
        sinks=lambda: _sinks(view, as_json, False),
    )
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    table = [[r.entry, r.data, r.reported, r.measured, r.run_id or "-"] for r in rows]
    typer.echo("")
    typer.echo(_table(table, ["entry", "data", "article reported", "measured", "run"]))
    if any(r.status == "failed" for r in rows):
        raise typer.Exit(1)
