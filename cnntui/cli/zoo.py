"""``cnntui zoo list`` and ``cnntui zoo show``: browse the architecture zoo."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cnntui.cli.errors import handle_errors
from cnntui.cli.options import AsJson, Zoo

app = typer.Typer(help="Browse the architecture zoo.", no_args_is_help=True)


def _load(zoo_dirs: list[str] | None) -> None:
    from cnntui.core import registry

    registry.load_zoo(zoo_dirs or [])


def _report_load_errors() -> None:
    from cnntui.core.registry import load_errors

    for err in load_errors():
        typer.echo(f"warning: could not load zoo file {err.path}: {err.error}", err=True)


def _fmt_reported(r) -> str:
    if r.value is None:
        return r.note or "-"
    value = f"{r.value:.2%}" if r.metric.endswith("accuracy") and r.value <= 1 else f"{r.value:g}"
    epochs = f" @{r.epochs}ep" if r.epochs else ""
    return f"{r.metric} {value}{epochs}"


def _fmt_figure(metric: str, value: float) -> str:
    """A figure as the article gives it: proportions in %, seconds with their unit."""
    if "accuracy" in metric or "precision" in metric:
        return f"{value:.2%}"
    return f"{value:g} s" if "seconds" in metric else f"{value:g}"


def _fmt_protocol(r) -> str:
    """How ``cnntui reproduce`` trains the entry: data, validation, scaling, stopping."""
    data = r.data or f"a folder ({r.needs})"
    val = "validated on the test set" if r.split == "test" else "validated on the val split"
    pixels = "raw 0-255 pixels" if r.rescale == "none" else "pixels /255"
    stop = f"early stopping (patience {r.patience})" if r.patience else "no early stopping"
    return f"{data}; {val}; {pixels}; {stop}"


_RECIPE_FIELDS = ("schedule", "warmup", "weight_decay", "label_smoothing", "ema", "mixup", "cutmix")


def _fmt_recipe_overrides(hp) -> str:
    """The recipe fields an entry sets itself (the rest are its recipe's defaults)."""
    out = ""
    for f in _RECIPE_FIELDS:
        value = getattr(hp, f)
        if value is not None:
            shown = value if isinstance(value, str | bool) else f"{value:g}"
            out += f", {f.replace('_', ' ')} {shown}"
    return out


def _fmt_builder_params(params: dict) -> str:
    if not params:
        return "-"
    return ", ".join(f"{k}={'(required)' if v is None else repr(v)}" for k, v in params.items())


@app.command("list")
@handle_errors
def list_(
    pattern: Annotated[
        list[str] | None, typer.Argument(help="Wildcard pattern(s), e.g. 'mnist-*'.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only entries with this tag.")
    ] = None,
    as_json: AsJson = False,
    zoo: Zoo = None,
) -> None:
    """List zoo entries (no TensorFlow needed)."""
    from cnntui.core.registry import list_models

    _load(zoo)
    entries = list_models(pattern or None, tag or None)
    _report_load_errors()
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], indent=2))
        return
    if not entries:
        typer.echo("no zoo entries match", err=True)
        raise typer.Exit(1)
    width = max(len(e.name) for e in entries)
    for e in entries:
        shape = "x".join(map(str, e.input_shape))
        typer.echo(
            f"{e.name:<{width}}  {e.title[:46]:<46}  {shape:>10}  {_fmt_reported(e.reported):<26}"
            f"  {','.join(e.tags)}"
        )


RECIPE_WORDS = {
    "modern": "cnntui's modern training recipe",
    "article": "the article's own setup",
    "finetune": "the head first, then the backbone at a lower LR: docs/training.md",
}


def _pretrained_lines(pre) -> list[str]:
    """What a backbone entry's weights are and expect (none for other entries)."""
    if pre is None:
        return []
    size = f", {pre.size_mb:g} MB" if pre.size_mb else ""
    return [
        f"backbone:       keras.applications.{pre.application}: ImageNet top-1 "
        f"{pre.top1:.1%}, {pre.params_m:g}M parameters{size} ({pre.source})",
        f"weights:        imagenet by default (--weights FILE | RUN | none); native input "
        f"{'x'.join(map(str, pre.native_input))}, at least {pre.min_side} px a side",
        f"preprocessing:  {pre.preprocessing}, inside the model",
    ]


@app.command("show")
@handle_errors
def show(
    name: Annotated[str, typer.Argument(help="Zoo entry name.")],
    as_json: AsJson = False,
    zoo: Zoo = None,
) -> None:
    """Show an entry: reference, reported results, defaults and its source."""
    from cnntui.core.registry import get_model

    _load(zoo)
    entry = get_model(name)
    if as_json:
        typer.echo(json.dumps({**entry.to_dict(), "source": entry.source()}, indent=2))
        return
    r, hp = entry.reported, entry.hyperparameters
    lines = [
        f"{entry.name} — {entry.title}",
        "",
        entry.description,
        "",
        f"reference:      {entry.reference or '-'}",
    ]
    if entry.reference_url:
        lines.append(f"                {entry.reference_url}")
    lines += [
        f"reported:       {_fmt_reported(r)}"
        + (f" on {r.dataset}" if r.dataset else "")
        + (f"; {r.params:,} params" if r.params else ""),
    ]
    if r.figures:
        also = ", ".join(f"{k} {_fmt_figure(k, v)}" for k, v in r.figures.items())
        lines.append(f"                also: {also}")
    if r.note and r.value is not None:
        lines.append(f"                {r.note}")
    if r.data or r.needs:
        lines.append(f"protocol:       {_fmt_protocol(r)}")
    if r.not_stated:
        lines.append(
            f"not stated:     {', '.join(r.not_stated)}: the article does not state them; "
            "the choices below fill them in"
        )
    lines += [
        f"input shape:    {'x'.join(map(str, entry.input_shape))}   classes: {entry.num_classes}",
        f"defaults:       optimizer {hp.optimizer}, lr {hp.learning_rate:g}, loss {hp.loss}, "
        f"batch {hp.batch_size}, epochs {hp.epochs}" + _fmt_recipe_overrides(hp),
        f"recipe:         {entry.recipe}   ({RECIPE_WORDS.get(entry.recipe, '')})",
        f"builder params: {_fmt_builder_params(entry.builder_params())}",
        f"tags:           {', '.join(entry.tags) or '-'}",
        *_pretrained_lines(entry.pretrained),
    ]
    if entry.choices:
        lines += ["", "choices where the article was silent:", f"  {entry.choices}"]
    lines += ["", f"source ({entry.source_file}):", "", entry.source()]
    typer.echo("\n".join(lines))
