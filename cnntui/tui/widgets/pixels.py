"""An image in the workbench as real pixels where the app was started with an image protocol
(``cnntui --graphics``: kitty's graphics protocol or sixel, drawn by textual-image's widgets),
and as half blocks (:class:`~cnntui.tui.widgets.image.ImageView`) everywhere else — the
tests' default, so snapshots stay the same on every machine."""

from __future__ import annotations

from typing import Any

import numpy as np
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from cnntui.tui.widgets.image import ImageView, to_uint8_rgb

PROTOCOLS = ("kitty", "sixel")


def graphics_of(app: Any) -> str:
    """How ``app`` draws images: ``kitty``, ``sixel`` or ``blocks`` (its ``graphics``)."""
    mode = getattr(app, "graphics", "blocks")
    return mode if mode in PROTOCOLS else "blocks"


def cells_for(
    shape: tuple[int, ...], max_width: int, max_height: int, cell: tuple[int, int]
) -> tuple[int, int]:
    """(columns, rows) showing an image of ``shape`` (H, W, …) as large as fits in
    ``max_width`` x ``max_height`` cells of ``cell`` = (width, height) pixels, aspect kept."""
    h, w = max(1, shape[0]), max(1, shape[1])
    cw, ch = cell
    scale = min(max_width * cw / w, max_height * ch / h)
    columns = max(1, min(max_width, round(w * scale / cw)))
    rows = max(1, min(max_height, round(h * scale / ch)))
    return columns, rows


def sharp_picture(rgb: np.ndarray, columns: int, rows: int, cell: tuple[int, int]) -> Any:
    """``rgb`` as a PIL image of exactly ``columns`` x ``rows`` cells' pixels, enlarged by
    nearest neighbour: textual-image then draws it unscaled, so a 28-pixel digit stays sharp."""
    from PIL import Image

    size = (columns * cell[0], rows * cell[1])
    return Image.fromarray(rgb).resize(size, Image.Resampling.NEAREST)


def _cell_size() -> tuple[int, int]:
    """A terminal cell in pixels, as textual-image measured it before the app started."""
    from textual_image._terminal import get_cell_size

    size = get_cell_size()
    return size.width, size.height


def protocol_widget(mode: str) -> type[Widget]:
    """textual-image's widget class for ``kitty`` or ``sixel``."""
    from cnntui.tui.widgets.protocols import KittyPicture, SixelPicture

    return KittyPicture if mode == "kitty" else SixelPicture


class PixelView(Widget):
    """One image (or a line saying why there is none), with an optional note below it."""

    DEFAULT_CSS = """
    PixelView { height: auto; }
    PixelView > .pixels-picture { width: auto; height: auto; }
    PixelView > .pixels-caption { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.mode = "blocks"

    def compose(self) -> ComposeResult:
        self.mode = graphics_of(self.app)
        if self.mode == "blocks":
            yield ImageView("", classes="pixels-blocks")
            return
        picture = protocol_widget(self.mode)(classes="pixels-picture")
        picture.display = False
        yield picture
        yield Static("", classes="pixels-caption")

    @property
    def picture(self) -> Any:
        """The textual-image widget (kitty or sixel mode only)."""
        return self.query_one(".pixels-picture")

    def show(
        self,
        arr: np.ndarray | None,
        max_width: int = 28,
        max_height: int = 14,
        note: str | None = None,
    ) -> None:
        """Draw ``arr`` at most ``max_width`` x ``max_height`` cells (or say there is none),
        with ``note`` below it when given."""
        if self.mode == "blocks":
            self.query_one(ImageView).show(arr, max_width, max_height, note=note)
            return
        if arr is None:
            self.show_text("(no image)" + (f"\n{note}" if note else ""))
            return
        rgb = to_uint8_rgb(arr)
        cell = _cell_size()
        columns, rows = cells_for(rgb.shape, max_width, max_height, cell)
        picture = self.picture
        picture.styles.width, picture.styles.height = columns, rows
        picture.image = sharp_picture(rgb, columns, rows, cell)
        picture.display = True
        caption = self.query_one(".pixels-caption", Static)
        caption.update(note or "")
        caption.display = bool(note)

    def show_text(self, text: str) -> None:
        """A line of text instead of an image (the image is taken off the terminal)."""
        if self.mode == "blocks":
            self.query_one(ImageView).update(text)
            return
        self.release()
        caption = self.query_one(".pixels-caption", Static)
        caption.update(text)
        caption.display = True

    def release(self) -> None:
        """Hide the picture and free it: kitty deletes the image it holds, and Textual repaints
        the cells a sixel covered."""
        if self.mode != "blocks":
            picture = self.picture
            picture.display = False
            picture.image = None
