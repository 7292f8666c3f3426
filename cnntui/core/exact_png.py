"""PNG files that TensorFlow decodes to exactly the pixels Pillow gives.

PNG is lossless, so for a plain 8-bit greyscale or RGB file already at the model's size
(nothing to resize, no transparency, no EXIF rotation, no animation) ``tf.io.decode_png``
and :func:`cnntui.core.images.load_image_uint8` agree bit for bit. Such files can be
decoded inside ``tf.data`` (C++ threads, no GIL) instead of through Pillow; everything else
keeps the Pillow path. Only the file's first bytes and chunk headers are read: a few
microseconds a file.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from cnntui.core.images import Preprocessing

SIGNATURE = b"\x89PNG\r\n\x1a\n"
GRAY, RGB = 0, 2  # PNG colour types
HEAD_BYTES = 8192  # small PNGs are read whole, in one call
MAX_CHUNKS = 10_000
# Transparency (Pillow composites it on white), EXIF (rotation: Pillow also reads it from
# ImageMagick's "Raw profile type exif" text chunks) and animation (APNG frames).
_DIFFERENT = (b"tRNS", b"eXIf", b"acTL")
_TEXT = (b"tEXt", b"zTXt", b"iTXt")
_IHDR = SIGNATURE + b"\0\0\0\rIHDR"


def decodes_exactly(path: str | Path, pre: Preprocessing) -> bool:
    """Whether ``tf.io.decode_png(..., channels=pre.channels)`` gives exactly the uint8
    pixels Pillow's path gives for ``path`` under ``pre`` (False when unsure)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        head = os.read(fd, HEAD_BYTES)
        if len(head) < 33 or not head.startswith(_IHDR):
            return False
        width, height, depth, color = struct.unpack_from(">IIBB", head, 16)
        if depth != 8 or (height, width) != tuple(pre.image_size):
            return False
        if color != GRAY and not (color == RGB and pre.color_mode == "rgb"):
            return False
        return _plain_chunks(head, fd)
    except OSError:
        return False
    finally:
        os.close(fd)


def _plain_chunks(head: bytes, fd: int) -> bool:
    """Walk the chunks after IHDR (in ``head`` while it lasts, then in the file): True at
    IEND if none of them changes Pillow's result; False for a truncated file."""
    offset = 33  # signature + IHDR
    for _ in range(MAX_CHUNKS):
        if offset + 8 <= len(head):
            length, kind = struct.unpack_from(">I4s", head, offset)
            keyword = head[offset + 8 : offset + 88]
        else:
            header = os.pread(fd, 88, offset)
            if len(header) < 8:
                return False  # truncated: Pillow will say why
            length, kind = struct.unpack_from(">I4s", header)
            keyword = header[8:]
        if kind == b"IEND":
            return True
        if kind in _DIFFERENT:
            return False
        if kind in _TEXT and b"exif" in keyword[:length].split(b"\0", 1)[0].lower():
            return False
        offset += 12 + length
    return False
