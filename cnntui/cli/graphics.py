"""Real pixels in the terminal through an image protocol — kitty's graphics protocol or
sixel — drawn by ``textual-image`` (the optional ``graphics`` extra) where the terminal
answers for one; cnntui's own half blocks (:mod:`cnntui.core.termimage`) everywhere else."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # numpy is not imported for `cnntui --help`
    import numpy as np

GRAPHICS = ("auto", "kitty", "sixel", "blocks")
INSTALL = "pip install 'cnntui[graphics]'"
GRAPHICS_HELP = (
    "How images are drawn: auto (kitty or sixel when the terminal has it and textual-image "
    "is installed, else half blocks), kitty, sixel or blocks."
)


def choose_graphics(requested: str, is_tty: bool) -> str:
    """``kitty``, ``sixel`` or ``blocks``: what ``--graphics requested`` draws with here.

    ``auto`` asks the terminal (textual-image sends the queries when it is imported, ~0.1 s
    each, only on a terminal); a protocol named outright is used without asking.
    """
    if requested not in GRAPHICS:
        raise typer.BadParameter(
            f"--graphics must be one of {', '.join(GRAPHICS)}; got {requested!r}"
        )
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
    if requested != "auto":
        return requested
    found = {protocols.SixelImage: "sixel", protocols.TGPImage: "kitty"}
    return found.get(protocols.Image, "blocks")


def print_image(rgb: np.ndarray, mode: str, width: int) -> None:
    """Print uint8 RGB ``width`` cells wide with the protocol ``mode`` (``kitty``/``sixel``),
    enlarged first by whole pixels so small inputs stay sharp instead of blurred."""
    from PIL import Image
    from rich.console import Console
    from textual_image.renderable import sixel, tgp

    from cnntui.core.explain.explainer import upscale

    renderable = sixel.Image if mode == "sixel" else tgp.Image
    picture = renderable(Image.fromarray(upscale(rgb)), width=width, height="auto")
    Console(file=sys.stdout, force_terminal=True, soft_wrap=True).print(picture)
