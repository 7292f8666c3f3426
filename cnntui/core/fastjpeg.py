"""Faster JPEG decode: libjpeg-turbo through ``simplejpeg`` (a default dependency where
its wheels exist), pixel for pixel what Pillow's reduce-on-load path in
:mod:`cnntui.core.images` gives.

Both call libjpeg-turbo with the same settings (accurate integer DCT, fancy upsampling,
the same 1/2, 1/4 or 1/8 scale), so the pixels are the same bytes; what this skips is
Pillow's Python around each file (header parse, load loop): 1.37 instead of 1.47 CPU ms
per 375x500 photo in epoch 1 (docs/data.md). It only takes plain files: a baseline or
progressive JPEG in YCbCr or grey, at most one EXIF block, no XMP orientation, no
multi-picture (MPO) data.
Anything else, any doubt and any error returns ``None``, and Pillow decodes the file
(and names what is wrong with it). Without ``simplejpeg`` installed, or with
``CNNTUI_JPEG_DECODER=pillow``, Pillow decodes every file.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

DECODER_ENV = "CNNTUI_JPEG_DECODER"
_STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}  # markers without a length
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"


@functools.cache
def _module() -> Any:
    try:
        import simplejpeg
    except ImportError:
        return None
    return simplejpeg


def decoder_name() -> str:
    """``simplejpeg`` when the fast path is on, else ``pillow``."""
    off = os.environ.get(DECODER_ENV, "").strip().lower() == "pillow"
    return "pillow" if off or _module() is None else "simplejpeg"


def _segments(data: bytes) -> list[tuple[int, bytes]] | None:
    """The (marker, payload) segments before the start of scan; ``None`` for a file that is
    not a JPEG, has a malformed segment or no start of scan."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    out = []
    i, n = 2, len(data)
    while i + 4 <= n:
        marker = data[i + 1]
        if data[i] != 0xFF:
            return None
        if marker == 0xFF or marker in _STANDALONE:  # a fill byte, a marker without length
            i += 1 if marker == 0xFF else 2
            continue
        if marker == 0xDA:
            return out
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > n:
            return None
        out.append((marker, data[i + 4 : i + 2 + length]))
        i += 2 + length
    return None


def plain_orientation(data: bytes) -> int | None:
    """The EXIF orientation (1-8) of a JPEG both decoders read alike, or ``None`` when
    Pillow must decide: not a JPEG, a malformed segment, two EXIF blocks, XMP without an
    EXIF orientation (Pillow reads it there), or multi-picture data (Pillow opens MPO)."""
    segments = _segments(data)
    if segments is None:
        return None
    exif = [p for m, p in segments if m == 0xE1 and p.startswith(b"Exif\x00\x00")]
    xmp = any(m == 0xE1 and p.startswith(_XMP) for m, p in segments)
    if len(exif) > 1 or any(m == 0xE2 and p.startswith(b"MPF\x00") for m, p in segments):
        return None
    orientation = _exif_orientation(exif[0]) if exif else None
    if orientation is None:
        return None if xmp else 1
    return orientation


def _exif_orientation(payload: bytes) -> int | None:
    """Tag 0x0112 read by Pillow's own EXIF parser; 1 for a broken block (as
    :func:`cnntui.core.images._orientation` treats it), ``None`` without the tag."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(payload)
        value = exif.get(0x0112)
        if value is None:
            return None
        value = int(value)
    except Exception:  # noqa: BLE001 - a broken EXIF block is not a broken image
        return 1
    return value if 1 <= value <= 8 else 1


def draft_scale(width: int, height: int, side: int) -> int:
    """The DCT scale Pillow's ``draft(None, (side, side))`` picks: 8, 4, 2 or 1."""
    scale = min(width // side, height // side)
    return next((s for s in (8, 4, 2, 1) if scale >= s), 1)


def decode(
    path: str | Path, side: int, max_pixels: int
) -> tuple[Any, int, str, tuple[int, int]] | None:
    """``(pixels, orientation, mode, (width, height))`` of ``path`` decoded at Pillow's draft
    scale for ``side``: uint8 (H, W, 3) ``RGB`` or (H, W) ``L`` before EXIF rotation, and the
    stored size; ``None`` when Pillow should decode the file."""
    sj = _module()
    if sj is None or decoder_name() == "pillow":
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    orientation = plain_orientation(data)
    if orientation is None:
        return None
    try:
        height, width, colorspace, _ = sj.decode_jpeg_header(data)
        if colorspace not in ("YCbCr", "Gray") or not width or width * height > max_pixels:
            return None
        s = draft_scale(width, height, side)
        h, w = (height + s - 1) // s, (width + s - 1) // s
        gray = colorspace == "Gray"
        arr = sj.decode_jpeg(data, "GRAY" if gray else "RGB", min_height=h, min_width=w)
    except Exception:  # noqa: BLE001 - strict mode refuses any damage; Pillow says what
        return None
    if arr.shape[:2] != (h, w):
        return None
    return (arr[:, :, 0] if gray else arr), orientation, "L" if gray else "RGB", (width, height)
