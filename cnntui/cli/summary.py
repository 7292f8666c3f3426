"""``cnntui summary``: Keras's summary plus a parameter table with MACs and memory."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import L1, L2, AsJson, Depth, InputShape, Width, Zoo


@handle_errors
def summary(
    model: Annotated[str, typer.Argument(help="Zoo entry name or a .keras file.")],
    input_shape: InputShape = None,
    classes: Annotated[
        int | None, typer.Option("--classes", min=2, help="Number of classes (zoo entries).")
    ] = None,
    width: Width = None,
    depth: Depth = None,
    l1: L1 = None,
    l2: L2 = None,
    as_json: AsJson = False,
    keras_summary: Annotated[
        bool, typer.Option("--keras/--no-keras", help="Include Keras's own summary.")
    ] = True,
    zoo: Zoo = None,
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
