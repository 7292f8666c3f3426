"""Write real image folders with Pillow for tests and benchmarks.

Typical use::

    from tests.image_factory import make_image_folder, write_bad_files

    root = make_image_folder(tmp_path / "pets", classes={"cat": 6, "dog": 4})
    bad = write_bad_files(root / "cat")        # {"truncated.jpg": "truncated", ...}

- ``make_image_folder(root, classes, layout="classes"|"split", val=…, test=…, size=…,
  kinds=…)``: one sub-folder per class (or ``train/``, ``val/``, ``test/`` first), images
  cycling through ``kinds`` (default: every kind in :data:`IMAGE_KINDS`). Each class has
  its own colour/pattern so a model can tell them apart. Returns ``root``.
- ``write_image(path, kind, size=(h, w), seed=…)``: one image of a given kind.
- ``write_bad_files(folder, kinds=BAD_KINDS)``: one bad file of each kind; returns
  ``{file name: kind}``.
- ``write_digit_folder(root, x, y, …)``: real MNIST digits (e.g. the ``digits`` fixture)
  saved as PNGs, one folder per label.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# kind → file suffix; every kind is a valid image Pillow (and cnntui) must handle.
IMAGE_KINDS: dict[str, str] = {
    "rgb": ".jpg",  # plain RGB JPEG
    "png": ".png",  # RGB PNG
    "rgba": ".png",  # RGBA with transparent corner
    "palette": ".gif",  # palette ("P") image
    "cmyk": ".jpg",  # CMYK JPEG
    "gray": ".png",  # 8-bit grayscale
    "gray16": ".png",  # 16-bit grayscale ("I;16")
    "exif": ".jpg",  # stored sideways with EXIF orientation 6 (display rotated 90°)
    "bmp": ".bmp",
    "webp": ".webp",
}
# kind → file name written by write_bad_files
BAD_KINDS: dict[str, str] = {
    "truncated": "truncated.jpg",  # a JPEG cut in half
    "empty": "empty.jpg",  # zero bytes
    "text": "notes.jpg",  # a text file named .jpg
    "unsupported": "drawing.svg",  # an SVG: an image format Pillow cannot read
}
# more bad kinds, written only when asked for (the default set above stays as issue 3 had it)
MORE_BAD_KINDS: dict[str, str] = {
    "header": "header_only.jpg",  # a JPEG that ends right after its headers
}

CLASS_COLOURS = [
    (220, 40, 40), (40, 160, 60), (40, 80, 220), (230, 200, 40), (160, 60, 200),
    (40, 200, 200), (240, 130, 20), (120, 120, 120),
]  # fmt: skip


def class_pattern(label: int, size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """uint8 RGB (h, w, 3): a class colour plus stripes whose direction depends on the class."""
    h, w = size
    rng = np.random.default_rng(seed)
    colour = np.array(CLASS_COLOURS[label % len(CLASS_COLOURS)], dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = ((xx if label % 2 else yy) // max(2, min(h, w) // 6)) % 2
    img = colour * (0.6 + 0.4 * stripes[..., None]) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def write_image(
    path: str | Path,
    kind: str = "rgb",
    size: tuple[int, int] = (32, 40),
    seed: int = 0,
    label: int = 0,
    quality: int = 90,
) -> Path:
    """Write one image of ``kind`` (see :data:`IMAGE_KINDS`), ``size`` = (height, width)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rgb = class_pattern(label, size, seed)
    img = Image.fromarray(rgb, "RGB")
    if kind in ("rgb", "png", "bmp"):
        img.save(path, quality=quality) if kind == "rgb" else img.save(path)
    elif kind == "webp":
        img.save(path, "WEBP", quality=quality)
    elif kind == "rgba":
        rgba = img.convert("RGBA")
        alpha = np.full(size, 255, np.uint8)
        alpha[: size[0] // 3, : size[1] // 3] = 0
        rgba.putalpha(Image.fromarray(alpha, "L"))
        rgba.save(path)
    elif kind == "palette":
        img.convert("P", palette=Image.Palette.ADAPTIVE, colors=32).save(path)
    elif kind == "cmyk":
        img.convert("CMYK").save(path, "JPEG", quality=quality)
    elif kind == "gray":
        img.convert("L").save(path)
    elif kind == "gray16":
        gray = np.asarray(img.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(gray).save(path)  # uint16 → mode "I;16"
    elif kind == "exif":
        # Stored turned 90° counter-clockwise; orientation 6 (display rotated 90° clockwise)
        # gives back the upright picture of shape ``size``.
        stored = img.transpose(Image.Transpose.ROTATE_90)
        exif = Image.Exif()
        exif[0x0112] = 6
        stored.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    else:
        raise ValueError(f"unknown image kind {kind!r}; choose from {', '.join(IMAGE_KINDS)}")
    return path


def write_bad_file(path: str | Path, kind: str) -> Path:
    """Write one unreadable file of ``kind`` (see :data:`BAD_KINDS`, :data:`MORE_BAD_KINDS`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "truncated":
        buf = io.BytesIO()
        Image.fromarray(class_pattern(0, (64, 64), 1), "RGB").save(buf, "JPEG", quality=95)
        path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    elif kind == "header":
        buf = io.BytesIO()
        Image.fromarray(class_pattern(0, (64, 64), 1), "RGB").save(buf, "JPEG", quality=95)
        with Image.open(io.BytesIO(buf.getvalue())) as img:
            start = img.fp.tell()  # just after the start-of-scan header
        path.write_bytes(buf.getvalue()[:start])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a picture\njust some notes\n")
    elif kind == "unsupported":
        path.write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            '<rect width="10" height="10" fill="red"/></svg>\n'
        )
    else:
        raise ValueError(f"unknown bad-file kind {kind!r}; choose from {', '.join(BAD_KINDS)}")
    return path


def write_bad_files(folder: str | Path, kinds: Iterable[str] = tuple(BAD_KINDS)) -> dict[str, str]:
    """One bad file of each kind in ``folder``; returns ``{file name: kind}``."""
    out = {}
    names = {**BAD_KINDS, **MORE_BAD_KINDS}
    for kind in kinds:
        write_bad_file(Path(folder) / names[kind], kind)
        out[names[kind]] = kind
    return out


def _write_class(
    folder: Path, label: int, count: int, kinds: Sequence[str], size, seed: int, vary: bool
) -> None:
    rng = np.random.default_rng(seed + 1000 * label)
    for i in range(count):
        kind = kinds[i % len(kinds)]
        h, w = size
        if vary and i % 3 == 1:
            h, w = int(h * rng.uniform(0.7, 1.6)), int(w * rng.uniform(0.7, 1.6))
        write_image(folder / f"img_{i:04d}{IMAGE_KINDS[kind]}", kind, (h, w), seed + i, label)


def make_image_folder(
    root: str | Path,
    classes: Mapping[str, int] | Sequence[str] = ("cat", "dog"),
    *,
    per_class: int = 6,
    layout: str = "classes",
    val: Mapping[str, int] | int | None = None,
    test: Mapping[str, int] | int | None = None,
    val_name: str = "val",
    size: tuple[int, int] = (32, 40),
    kinds: Sequence[str] = tuple(IMAGE_KINDS),
    vary_sizes: bool = True,
    seed: int = 0,
) -> Path:
    """Write an image folder; ``classes`` maps class name → image count (or a list of
    names with ``per_class`` each). ``layout="split"`` puts them under ``train/`` and adds
    ``val_name/`` (and ``test/``) with ``val``/``test`` images per class (default 2)."""
    root = Path(root)
    counts = dict(classes) if isinstance(classes, Mapping) else dict.fromkeys(classes, per_class)
    if layout == "classes":
        parts = {"": counts}
    elif layout == "split":

        def per(spec, default):
            if isinstance(spec, Mapping):
                return dict(spec)
            return dict.fromkeys(counts, default if spec is None else spec)

        parts = {"train": counts, val_name: per(val, 2)}
        if test is not None:
            parts["test"] = per(test, 2)
    else:
        raise ValueError(f"layout must be 'classes' or 'split'; got {layout!r}")
    names = sorted(counts)
    for j, (split, split_counts) in enumerate(parts.items()):
        for name, n in split_counts.items():
            folder = root / split / name if split else root / name
            folder.mkdir(parents=True, exist_ok=True)
            _write_class(folder, names.index(name), n, kinds, size, seed + 7919 * j, vary_sizes)
    return root


def write_digit_folder(
    root: str | Path, x: np.ndarray, y: np.ndarray, *, ext: str = ".png"
) -> Path:
    """Save uint8 digits (N, 28, 28) as ``root/<label>/<i>.png``; returns ``root``."""
    root = Path(root)
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        folder = root / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.asarray(img, dtype=np.uint8), "L").save(folder / f"{i:05d}{ext}")
    return root


def photo_like(label: int, size: tuple[int, int], seed: int) -> np.ndarray:
    """uint8 RGB (h, w, 3): gradient background, class-dependent soft shapes, mild noise."""
    h, w = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a, b = rng.uniform(40, 220, (2, 3)).astype(np.float32)
    angle = rng.uniform(0, np.pi)
    t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h + 1) / 2
    img = Image.fromarray(np.clip(a + (b - a) * t[..., None], 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(3 + label % 4):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(0.05, 0.25) * min(h, w)
        ry = r * (0.5 + 0.2 * (label % 4))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if label % 2 else draw.rectangle)((cx - r, cy - ry, cx + r, cy + ry), fill)
    img = img.filter(ImageFilter.GaussianBlur(1.5))
    small = rng.integers(0, 256, (max(1, h // 4), max(1, w // 4)), dtype=np.uint8)
    texture = np.asarray(
        Image.fromarray(small, "L").resize((w, h), Image.Resampling.BICUBIC), np.float32
    )
    arr = np.asarray(img, np.float32) + rng.normal(0, 3.0, (h, w, 3))
    arr += (texture[..., None] - 128) * 0.25
    return np.clip(arr, 0, 255).astype(np.uint8)
