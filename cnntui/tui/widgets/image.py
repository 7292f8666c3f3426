"""Images drawn in the terminal with half blocks: two pixels per character cell."""

from __future__ import annotations

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.widgets import Static


def fit(arr: np.ndarray, max_width: int, max_height: int) -> np.ndarray:
    """Nearest-neighbour downscale of (H, W[, C]) so it fits ``max_width`` x ``2*max_height``."""
    h, w = arr.shape[:2]
    scale = min(1.0, max_width / w, (2 * max_height) / h)
    nh, nw = max(1, int(h * scale)), max(1, int(w * scale))
    rows = (np.arange(nh) * h / nh).astype(int)
    cols = (np.arange(nw) * w / nw).astype(int)
    return arr[rows][:, cols]


def to_uint8_rgb(arr: np.ndarray) -> np.ndarray:
    """Any (H, W), (H, W, 1|3|4) array in [0, 1] or [0, 255] as uint8 RGB."""
    a = np.asarray(arr)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.dtype != np.uint8:
        a = a.astype(np.float32)
        if a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        a = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    return a[..., :3]


class HalfBlockImage:
    """A Rich renderable: the image with ``▀`` cells (top pixel fg, bottom pixel bg)."""

    def __init__(self, arr: np.ndarray, max_width: int = 28, max_height: int = 14):
        self.pixels = fit(to_uint8_rgb(arr), max_width, max_height)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = int(self.pixels.shape[1])
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        px = self.pixels
        h = px.shape[0]
        for y in range(0, h, 2):
            top = px[y]
            bottom = px[y + 1] if y + 1 < h else None
            for x in range(px.shape[1]):
                r, g, b = (int(v) for v in top[x])
                style = f"rgb({r},{g},{b})"
                if bottom is not None:
                    r2, g2, b2 = (int(v) for v in bottom[x])
                    style += f" on rgb({r2},{g2},{b2})"
                yield Segment("▀", Style.parse(style))
            yield Segment.line()


class ImageView(Static):
    """Shows one image array, or a message when there is none."""

    def show(
        self,
        arr: np.ndarray | None,
        max_width: int = 28,
        max_height: int = 14,
        note: str | None = None,
    ) -> None:
        """Draw ``arr`` (or say there is none), with ``note`` below it when given."""
        image = "(no image)" if arr is None else HalfBlockImage(arr, max_width, max_height)
        self.update(Group(image, Text(note)) if note else image)
