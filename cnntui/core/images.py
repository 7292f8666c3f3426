"""Decode any image file into the array a model expects, with Pillow.

One function serves the data pipeline's check pass, prediction and inspection, so
training and prediction preprocess identically: EXIF rotation, palette/RGBA/CMYK/16-bit
conversion, then stretch, centre-crop or pad to the target size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from cnntui.core import fastjpeg
from cnntui.core.errors import CnntuiError

IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".jfif",
    ".png",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
    ".pbm",
    ".pnm",
    ".tga",
)
RESIZE_MODES = ("stretch", "crop", "pad")
COLOR_MODES = ("grayscale", "rgb")
MAX_PIXELS = 89_478_485  # Pillow's own decompression-bomb limit


class ImageReadError(CnntuiError, ValueError):
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
        return cls(
            image_size=(int(h), int(w)),
            color_mode="grayscale" if c == 1 else "rgb",
            resize_mode=resize_mode,
        )


def open_image(path: str | Path, draft: tuple[int, int] | None = None) -> Image.Image:
    """Open and fully decode an image, EXIF-rotated; raise :class:`ImageReadError`.

    ``draft`` (height, width) lets the JPEG decoder scale down by 2, 4 or 8 while
    decoding, never below that size in either orientation: faster for photos that will
    be shrunk anyway. :func:`load_image` always uses it, so training and prediction see
    identical pixels.
    """
    return _open_loaded(path, draft)[0]


def open_image_with_info(
    path: str | Path, draft: tuple[int, int] | None = None
) -> tuple[Image.Image, ImageInfo]:
    """:func:`open_image` plus the stored size (after EXIF rotation), mode and format."""
    return _open_loaded(path, draft)


@dataclass(frozen=True)
class ImageInfo:
    """What a check pass learns about an image file (size after EXIF rotation)."""

    width: int
    height: int
    mode: str
    format: str


def _info(img: Image.Image) -> ImageInfo:
    width, height = img.size
    if _orientation(img) in (5, 6, 7, 8):
        width, height = height, width
    return ImageInfo(width, height, img.mode, img.format or "?")


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
        return 1


def _open_loaded(path: str | Path, draft: tuple[int, int] | None) -> tuple[Image.Image, ImageInfo]:
    """Decode ``path`` and apply its EXIF rotation (read once), as ImageOps.exif_transpose
    would, without rewriting the EXIF block nobody reads afterwards. With ``draft``, a plain
    JPEG goes through :mod:`cnntui.core.fastjpeg` when it is installed (the same pixels)."""
    if draft:
        fast = fastjpeg.decode(path, max(draft), MAX_PIXELS)
        if fast is not None:
            arr, orientation, mode, (width, height) = fast
            img = Image.fromarray(arr)
            method = _TRANSPOSE.get(orientation)
            if method is not None:
                img = img.transpose(method)
            if orientation in (5, 6, 7, 8):
                width, height = height, width
            return img, ImageInfo(width, height, mode, "JPEG")
    with _decoding(path) as img:
        orientation = _orientation(img)
        width, height = img.size
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        info = ImageInfo(width, height, img.mode, img.format or "?")
        if draft and img.format in ("JPEG", "MPO"):  # MPO: frame 0 is a plain JPEG stream
            side = max(draft)
            img.draft(None, (side, side))
        img.load()
        method = _TRANSPOSE.get(orientation)
        if method is not None:
            img = img.transpose(method)
        return img, info


def probe_image(path: str | Path) -> ImageInfo:
    """Decode ``path`` completely (JPEGs at 1/8 scale, which still reads every byte) to
    prove it is readable; raise :class:`ImageReadError` otherwise."""
    with _decoding(path) as img:
        info = _info(img)
        if img.format in ("JPEG", "MPO"):
            img.draft(None, (1, 1))
        img.load()
        return info


def check_header(path: str | Path) -> ImageInfo:
    """The structural check before training: size, header and format from Pillow's lazy
    open, no pixel decoding. Catches empty, text, unsupported and header-only files; a
    file damaged further in is found when epoch 1 decodes it. Raise :class:`ImageReadError`."""
    with _decoding(path) as img:
        info = _info(img)
        tile = getattr(img, "tile", None) or []
        # where the pixel data starts: the tile's offset, or (JPEG, whose tile says 0) the
        # position after the start-of-scan header, where Pillow's header parse stopped
        start = int(tile[0][2] or 0) if tile else 0
        if img.format == "JPEG" and img.fp is not None:
            start = img.fp.tell()
        if tile and os.stat(path).st_size <= start + 2:
            raise ImageReadError(path, "header only: the file ends before any image data")
        return info


def peek_image(path: str | Path) -> ImageInfo | None:
    """Size, mode and format from the file header only; ``None`` if unreadable."""
    try:
        with _decoding(path) as img:
            return _info(img)
    except ImageReadError:
        return None


@contextmanager
def _decoding(path: str | Path) -> Iterator[Image.Image]:
    """Open ``path`` with Pillow; turn every failure inside the block into ImageReadError."""
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise ImageReadError(path, f"cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")
    try:
        # (no warnings.catch_warnings here: it is not thread-safe, and the size check below
        # turns Pillow's decompression-bomb warning zone into an error anyway)
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageReadError(
                    path, f"image too large to decode safely ({img.width}x{img.height})"
                )
            yield img
    except ImageReadError:
        raise
    except Image.UnidentifiedImageError:
        raise ImageReadError(path, unidentified_reason(path)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(path, f"image too large to decode safely ({exc})") from None
    except OSError as exc:
        text = str(exc)
        if "truncated" in text.lower():
            raise ImageReadError(path, f"truncated or corrupt image ({text})") from None
        raise ImageReadError(path, f"corrupt image ({text})") from None
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
        raise ImageReadError(path, f"cannot decode image ({type(exc).__name__}: {exc})") from None


_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive"),
    (b"<svg", "an SVG vector image (unsupported format)"),
    (b"<?xml", "an XML/SVG file (unsupported format)"),
)
_FTYP = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF"}


def unidentified_reason(path: str | Path) -> str:
    """Why Pillow could not identify ``path``, from its first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    stripped = head.lstrip()
    for magic, what in _MAGIC:
        if stripped.startswith(magic):
            return f"not an image: {what}"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        name = _FTYP.get(brand, brand.decode("latin-1").strip() or "ISO media")
        return f"unsupported image format ({name}); convert it to JPEG or PNG"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "not an image: a text file"
    return "not an image file (unknown or unsupported format)"


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


def _filter(src: tuple[int, int], dst: tuple[int, int]) -> Image.Resampling:
    """Area averaging (BOX) when shrinking, as OpenCV's INTER_AREA; bilinear when enlarging.

    BOX costs about two thirds of Pillow's antialiased bilinear and does not alias: each
    output pixel is the mean of the input area it covers.
    """
    shrinking = src[0] >= dst[0] and src[1] >= dst[1]
    return Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR


def resize(img: Image.Image, size: tuple[int, int], mode: str = "stretch") -> Image.Image:
    """Resize to ``size`` (height, width) by stretching, centre-cropping or padding."""
    h, w = size
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize mode must be one of {RESIZE_MODES}; got {mode!r}")
    if img.size == (w, h):
        return img
    iw, ih = img.size
    if mode == "stretch":
        return img.resize((w, h), _filter((iw, ih), (w, h)))
    if mode == "crop":
        s = max(w / iw, h / ih)  # the covering scale: the kept area shrinks or grows by s
        return ImageOps.fit(img, (w, h), _filter((iw, ih), (iw * s, ih * s)))
    s = min(w / iw, h / ih)  # the fitting scale
    fill = 0 if img.mode == "L" else (0, 0, 0)
    return ImageOps.pad(img, (w, h), _filter((iw, ih), (iw * s, ih * s)), color=fill)


def image_to_uint8(img: Image.Image, pre: Preprocessing) -> np.ndarray:
    """A decoded image as uint8 (H, W, C), converted and resized but not yet scaled."""
    img = resize(to_color_mode(img, pre.color_mode), pre.image_size, pre.resize_mode)
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr


def scale_uint8(arr: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """uint8 pixels to float32 model input (invert, then scale) — the last step of every path."""
    out = arr.astype(np.float32)
    if pre.invert:
        out = 255.0 - out
    return out * np.float32(pre.scale)


def image_to_array(img: Image.Image, pre: Preprocessing) -> np.ndarray:
    """A decoded image as float32 (H, W, C) in model scale."""
    return scale_uint8(image_to_uint8(img, pre), pre)


def load_image_uint8(path: str | Path, pre: Preprocessing) -> np.ndarray:
    """Read ``path`` as uint8 (H, W, C) ready for :func:`scale_uint8`."""
    return image_to_uint8(_open_loaded(path, pre.image_size)[0], pre)


def try_load_image_uint8(path: str | Path, pre: Preprocessing) -> tuple[np.ndarray | None, str]:
    """:func:`load_image_uint8` that never raises: ``(pixels, "")`` or ``(None, reason)``,
    so one odd file cannot stop a folder."""
    try:
        return load_image_uint8(path, pre), ""
    except ImageReadError as exc:
        return None, exc.reason
    except MemoryError:
        return None, "image too large to decode in memory"
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's problem
        return None, f"cannot preprocess image ({type(exc).__name__}: {exc})"


def load_image(path: str | Path, pre: Preprocessing) -> np.ndarray:
    """Read ``path`` and preprocess it; raise :class:`ImageReadError` for a bad file."""
    return scale_uint8(load_image_uint8(path, pre), pre)


def is_image_path(path: str | Path) -> bool:
    """Whether the file name has an image extension."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def save_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write uint8 RGB as a PNG, atomically."""
    import io

    from PIL import Image

    from cnntui.core.atomic import atomic_write_bytes

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())


def save_npy(path: str | Path, array: np.ndarray) -> None:
    """Write a numpy array as ``.npy``, atomically."""
    import io

    from cnntui.core.atomic import atomic_write_bytes

    buf = io.BytesIO()
    np.save(buf, np.asarray(array, dtype=np.float32))
    atomic_write_bytes(path, buf.getvalue())
