"""Decode any image file into the array a model expects, with Pillow.

One function serves the data pipeline's check pass, prediction and inspection, so
training and prediction preprocess identically: EXIF rotation, palette/RGBA/CMYK/16-bit
conversion, then stretch, centre-crop or pad to the target size.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
RESIZE_MODES = ("stretch", "crop", "pad")
COLOR_MODES = ("grayscale", "rgb")
MAX_PIXELS = 89_478_485  # Pillow's own decompression-bomb limit


class ImageReadError(ValueError):
    """An image file that cannot be used, with a reason fit for people."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class Preprocessing:
    """Everything needed to turn an image file into model input, recorded with every run."""

    image_size: tuple[int, int] = (28, 28)  # (height, width)
    color_mode: str = "grayscale"
    resize_mode: str = "stretch"
    scale: float = 1.0 / 255.0
    invert: bool = False

    @property
    def channels(self) -> int:
        return 1 if self.color_mode == "grayscale" else 3

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["image_size"] = list(self.image_size)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Preprocessing:
        return cls(
            image_size=tuple(d.get("image_size", (28, 28))),
            color_mode=d.get("color_mode", "grayscale"),
            resize_mode=d.get("resize_mode", "stretch"),
            scale=float(d.get("scale", 1.0 / 255.0)),
            invert=bool(d.get("invert", False)),
        )

    @classmethod
    def for_input_shape(cls, shape: tuple[int, ...], resize_mode: str = "stretch") -> Preprocessing:
        h, w, c = shape[-3:]
        return cls(image_size=(int(h), int(w)), color_mode="grayscale" if c == 1 else "rgb",
                   resize_mode=resize_mode)


def open_image(path: str | Path) -> Image.Image:
    """Open and fully decode an image, EXIF-rotated; raise :class:`ImageReadError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageReadError(path, f"cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageReadError(
                        path, f"image too large to decode safely ({img.width}x{img.height})"
                    )
                img.load()
                img = ImageOps.exif_transpose(img) or img
                return img.copy()
    except ImageReadError:
        raise
    except Image.UnidentifiedImageError:
        raise ImageReadError(path, "not an image file (unknown or unsupported format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(path, f"image too large to decode safely ({exc})") from None
    except OSError as exc:
        text = str(exc)
        if "truncated" in text.lower():
            raise ImageReadError(path, f"truncated or corrupt image ({text})") from None
        raise ImageReadError(path, f"corrupt image ({text})") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
        raise ImageReadError(path, f"cannot decode image ({type(exc).__name__}: {exc})") from None


def to_color_mode(img: Image.Image, color_mode: str) -> Image.Image:
    """Convert any Pillow mode (P, RGBA, CMYK, I;16, LA…) to ``L`` or ``RGB``."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color mode must be one of {COLOR_MODES}; got {color_mode!r}")
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode == "P":
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    target = "L" if color_mode == "grayscale" else "RGB"
    return img.convert(target) if img.mode != target else img


def resize(img: Image.Image, size: tuple[int, int], mode: str = "stretch") -> Image.Image:
    """Resize to ``size`` (height, width) by stretching, centre-cropping or padding."""
    h, w = size
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES}; got {mode!r}")
    if img.size == (w, h):
        return img
    if mode == "stretch":
        return img.resize((w, h), Image.Resampling.BILINEAR)
    if mode == "crop":
        return ImageOps.fit(img, (w, h), Image.Resampling.BILINEAR)
    fill = 0 if img.mode == "L" else (0, 0, 0)
    return ImageOps.pad(img, (w, h), Image.Resampling.BILINEAR, color=fill)


def image_to_array(img: Image.Image, pre: Preprocessing) -> np.ndarray:
    """A decoded image as float32 (H, W, C) in model scale."""
    img = resize(to_color_mode(img, pre.color_mode), pre.image_size, pre.resize_mode)
    arr = np.asarray(img, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if pre.invert:
        arr = 255.0 - arr
    return arr * np.float32(pre.scale)


def load_image(path: str | Path, pre: Preprocessing) -> np.ndarray:
    """Read ``path`` and preprocess it; raise :class:`ImageReadError` for a bad file."""
    return image_to_array(open_image(path), pre)


def is_image_path(path: str | Path) -> bool:
    """Whether the file name has an image extension."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS
