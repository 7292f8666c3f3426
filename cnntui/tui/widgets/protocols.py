"""textual-image's kitty and sixel widgets, made to leave nothing behind: the kitty image is
deleted from the terminal when its widget goes, and the sixel widget paints its cells with
the background before the sixel (textual-image 0.13's fix, which needs Python 3.12, on
the 0.12.0 cnntui pins), so a smaller or moved image never shows the old one's edges.

Imported only when the workbench draws with a protocol (textual-image is an optional extra).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual_image.renderable.tgp import Image as TGPRenderable
from textual_image.widget import SixelImage, TGPImage
from textual_image.widget.sixel import _ImageSixelImpl, _NoopRenderable


class KittyPicture(TGPImage, Renderable=TGPRenderable):
    """An image through kitty's graphics protocol (unicode placeholders: text drawn over
    its cells replaces it)."""

    def on_unmount(self) -> None:
        self.image = None  # deletes the image data from the terminal


class _ClearedSixels(_ImageSixelImpl):
    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        if not lines:
            return lines
        _, background = self.background_colors
        clear = Segment(" " * crop.width, Style(bgcolor=background.rich_color))
        cleared = [Strip([clear], cell_length=crop.width) for _ in lines[:-1]]
        return [*cleared, Strip([clear, *lines[-1]], cell_length=crop.width)]


class SixelPicture(SixelImage, Renderable=_NoopRenderable):
    """An image as sixels, drawn over cells first cleared to the background."""

    def compose(self) -> ComposeResult:
        yield _ClearedSixels(self.image, self._sixel_options)
