"""Real pixels in the terminal through an image protocol — kitty's graphics protocol or
sixel — drawn by ``textual-image`` (the optional ``graphics`` extra) where the terminal
answers for one; cnntui's own half blocks (:mod:`cnntui.cli.termimage`) everywhere else."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # numpy is not imported for `cnntui --help`
    import numpy as np

GRAPHICS = ("auto", "kitty", "sixel", "blocks")
INSTALL = "pip install 'cnntui[graphics]'"
ENV = "$CNNTUI_GRAPHICS"
GRAPHICS_HELP = (
    "How images are drawn: auto (kitty or sixel when the terminal has it and textual-image "
    "is installed, else half blocks), kitty, sixel or blocks."
)
WORKBENCH_GRAPHICS_HELP = (
    "How the workbench draws images (Predict, Evaluate): auto, kitty, sixel or blocks; "
    "commands that draw take their own --graphics."
)


def check_graphics(requested: str, name: str = "--graphics") -> str:
    """``requested`` when it is one of :data:`GRAPHICS`, else a usage error (exit 2)."""
    if requested not in GRAPHICS:
        raise typer.BadParameter(f"{name} must be one of {', '.join(GRAPHICS)}; got {requested!r}")
    return requested


def _from_environment(ctx: typer.Context) -> bool:
    source = ctx.get_parameter_source("graphics")
    return source is not None and source.name == "ENVIRONMENT"


def graphics_option(ctx: typer.Context, value: str) -> str:
    """Typer callback of a command's ``--graphics``: a bad value, typed or from
    ``$CNNTUI_GRAPHICS``, is a usage error that names where it came from."""
    return check_graphics(value, ENV if _from_environment(ctx) else "--graphics")


def workbench_graphics_option(ctx: typer.Context, value: str) -> str:
    """Typer callback of ``cnntui --graphics``: a bad typed value is a usage error; a bad
    ``$CNNTUI_GRAPHICS`` only once the workbench opens, so it never stops other commands."""
    return value if _from_environment(ctx) else check_graphics(value)


def choose_graphics(requested: str, is_tty: bool) -> str:
    """``kitty``, ``sixel`` or ``blocks``: what ``--graphics requested`` draws with here.

    ``auto`` asks the terminal (textual-image sends the queries when it is imported, ~0.1 s
    each, only on a terminal); a protocol named outright is used whatever the terminal says.
    """
    check_graphics(requested)
    if requested == "blocks" or (requested == "auto" and not is_tty):
        return "blocks"
    try:
        import textual_image.renderable as protocols
    except ImportError:
        if requested == "auto":
            return "blocks"
        raise typer.BadParameter(
            f"--graphics {requested} draws with textual-image, which is not installed: {INSTALL}"
        ) from None
    found = {protocols.SixelImage: "sixel", protocols.TGPImage: "kitty"}
    mode = requested if requested != "auto" else found.get(protocols.Image, "blocks")
    if mode != "blocks":
        _measure_cells()
    return mode


def _measure_cells() -> None:
    """Have textual-image measure a cell in pixels now (it caches the answer). A terminal
    that reports 0 columns (a bare pseudo-terminal) makes 0.12.0 divide by zero: it then gets
    the size textual-image assumes when nothing answers, a VT340's 10 x 20 pixels."""
    from textual_image import _terminal

    try:
        _terminal.get_cell_size()
    except ZeroDivisionError:
        _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]


def prepare_workbench(requested: str) -> str:
    """What the workbench (on a terminal) draws images with, asked before Textual starts.

    textual-image queries the terminal when imported (the protocols, then the cell size in
    pixels), which no longer works once Textual reads the keyboard; ``blocks`` asks nothing.
    """
    check_graphics(requested, f"--graphics (or {ENV})")
    mode = choose_graphics(requested, is_tty=True)
    if mode != "blocks":
        import textual_image.widget  # noqa: F401  (its import asks for the cell size too)
    return mode


def print_image(rgb: np.ndarray, mode: str, width: int, console: Any = None) -> None:
    """Print uint8 RGB ``width`` cells wide with the protocol ``mode`` (``kitty``/``sixel``),
    enlarged first by whole pixels so small inputs stay sharp instead of blurred; on
    ``console`` (a Rich console, e.g. the one drawing a progress bar) or on stdout."""
    from PIL import Image
    from rich.console import Console
    from textual_image.renderable import sixel, tgp

    from cnntui.core.judge.explain.explainer import upscale

    renderable = sixel.Image if mode == "sixel" else tgp.Image
    picture = renderable(Image.fromarray(upscale(rgb)), width=width, height="auto")
    console = console or Console(file=sys.stdout, force_terminal=True)
    console.print(picture, soft_wrap=True)
