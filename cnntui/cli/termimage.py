"""Draw an image in a terminal: Unicode half blocks with 24-bit or 256-colour ANSI.

Each text cell shows two pixels stacked (``▀``: foreground = upper pixel, background =
lower pixel). Terminals without colour get ASCII shading, one character per cell.
Headless: returns lines of text; the caller prints them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from cnntui.core.images import open_image

ASCII_RAMP = " .:-=+*#%@"
UPPER_HALF = "▀"
RESET = "\x1b[0m"
DEPTHS = ("truecolor", "256", "ascii")


def color_depth(env: Mapping[str, str] | None = None, is_tty: bool = True) -> str:
    """``truecolor``, ``256`` or ``ascii`` for this terminal (``NO_COLOR`` means ascii)."""
    env = os.environ if env is None else env
    if not is_tty or "NO_COLOR" in env or env.get("TERM") == "dumb":
        return "ascii"
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit"):
        return "truecolor"
    term = env.get("TERM", "")
    if "256" in term or "kitty" in term or "direct" in term:
        return "256"
    return "256" if term.startswith(("xterm", "screen", "tmux", "rxvt")) else "ascii"


def _to_pil(image: Image.Image | np.ndarray | str | Path) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, (str, Path)):
        return open_image(image)
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype != np.uint8:
        hi = 1.0 if float(arr.max(initial=0)) <= 1.0 else 255.0
        arr = np.clip(arr.astype(np.float64) / hi * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def _rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if img.mode.startswith("I") or img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        hi = max(float(arr.max(initial=0)), 1.0)
        return Image.fromarray((arr / hi * 255).astype(np.uint8)).convert("RGB")
    return img.convert("RGB")


def rgb_pixels(image: Image.Image | np.ndarray | str | Path) -> np.ndarray:
    """``image`` (a file, PIL image or array) as uint8 RGB, transparency over black."""
    return np.asarray(_rgb(_to_pil(image)), dtype=np.uint8)


def _ansi256(rgb: np.ndarray) -> np.ndarray:
    """Nearest xterm-256 colour index (6x6x6 cube or grey ramp) per pixel."""
    rgb = rgb.astype(np.int64)
    cube_levels = np.array([0, 95, 135, 175, 215, 255])
    idx = np.abs(rgb[..., None] - cube_levels).argmin(axis=-1)
    cube = 16 + 36 * idx[..., 0] + 6 * idx[..., 1] + idx[..., 2]
    cube_err = ((cube_levels[idx] - rgb) ** 2).sum(axis=-1)
    grey = rgb.mean(axis=-1)
    g = np.clip(np.round((grey - 8) / 10), 0, 23).astype(np.int64)
    grey_err = (((8 + 10 * g)[..., None] - rgb) ** 2).sum(axis=-1)
    return np.where(grey_err < cube_err, 232 + g, cube)


def render(
    image: Image.Image | np.ndarray | str | Path,
    width: int = 32,
    depth: str = "truecolor",
    max_height: int | None = None,
) -> list[str]:
    """Lines of text drawing ``image`` ``width`` cells wide, keeping its aspect ratio."""
    if depth not in DEPTHS:
        raise ValueError(f"colour depth must be one of {DEPTHS}; got {depth!r}")
    img = _rgb(_to_pil(image))
    w, h = img.size
    width = max(1, min(width, w if w >= 8 else width))
    if depth == "ascii":
        rows = max(1, round(h / w * width / 2))
        if max_height:
            rows = min(rows, max_height)
        grey = np.asarray(img.convert("L").resize((width, rows), Image.Resampling.BOX))
        ramp = np.array(list(ASCII_RAMP))
        levels = (grey.astype(np.int64) * (len(ASCII_RAMP) - 1) + 127) // 255
        return ["".join(row) for row in ramp[levels]]
    rows = max(1, round(h / w * width / 2))
    if max_height:
        rows = min(rows, max_height)
    px = np.asarray(img.resize((width, rows * 2), Image.Resampling.BOX), dtype=np.uint8)
    top, bottom = px[0::2], px[1::2]
    lines = []
    if depth == "truecolor":
        for t_row, b_row in zip(top, bottom, strict=True):
            cells = [
                f"\x1b[38;2;{t[0]};{t[1]};{t[2]}m\x1b[48;2;{b[0]};{b[1]};{b[2]}m{UPPER_HALF}"
                for t, b in zip(t_row, b_row, strict=True)
            ]
            lines.append("".join(cells) + RESET)
    else:
        t_idx, b_idx = _ansi256(top), _ansi256(bottom)
        for t_row, b_row in zip(t_idx, b_idx, strict=True):
            cells = [
                f"\x1b[38;5;{t}m\x1b[48;5;{b}m{UPPER_HALF}"
                for t, b in zip(t_row, b_row, strict=True)
            ]
            lines.append("".join(cells) + RESET)
    return lines
