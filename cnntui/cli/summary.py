"""``cnntui summary``: Keras's summary plus a parameter table with MACs and memory."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors


@handle_errors
def summary(
    model: Annotated[str, typer.Argument(help="Zoo entry name or a .keras file.")],
    input_shape: Annotated[
        str | None, typer.Option("--input-shape", help="H,W,C, e.g. 32,32,3 (zoo entries).")
    ] = None,
    classes: Annotated[
        int | None, typer.Option("--classes", min=2, help="Number of classes (zoo entries).")
    ] = None,
    width: Annotated[
        int | None,
        typer.Option("--width", min=1, help="Builder parameter `width` (see `cnntui zoo show`)."),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=1, help="Builder parameter `depth` (see `cnntui zoo show`)."),
    ] = None,
    l1: Annotated[
        float | None, typer.Option("--l1", min=0, help="Builder parameter `l1` (L1 penalty).")
    ] = None,
    l2: Annotated[
        float | None, typer.Option("--l2", min=0, help="Builder parameter `l2` (L2 penalty).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    keras_summary: Annotated[
        bool, typer.Option("--keras/--no-keras", help="Include Keras's own summary.")
    ] = True,
    zoo: Annotated[
        list[str] | None, typer.Option("--zoo", help="Extra zoo folder; repeatable.")
    ] = None,
) -> None:
    """Summarise a model: per-layer params, kernels, strides, MACs; totals and memory."""
    from cnntui.core import registry
    from cnntui.core.checkpoint_info import load_model_for_inspection
    from cnntui.core.model_table import format_table, layer_table, summary_text

    registry.load_zoo(zoo or [])
    shape = registry.parse_input_shape(input_shape) if input_shape else None
    given = (("width", width), ("depth", depth), ("l1", l1), ("l2", l2))
    builder_args = {k: v for k, v in given if v is not None}
    built, label = load_model_for_inspection(model, shape, classes, builder_args=builder_args)
    table = layer_table(built)
    if as_json:
        typer.echo(json.dumps({"model": label, **table}, indent=2))
        return
    if keras_summary:
        typer.echo(summary_text(built))
    typer.echo(format_table(table))
