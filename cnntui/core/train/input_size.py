"""The input size a run trains at, and why.

Order: ``--input-shape`` > for a folder, when the entry's builder takes any input size, a
size chosen from the images > the entry's own input shape. The chosen size is the most
common (height, width) among (a seeded sample of) the folder's image headers, scaled down,
keeping the aspect, so the short side is at most ``FOLDER_SHORT_SIDE`` (128) and the long
side at most ``FOLDER_LONG_SIDE``; colour is grayscale only when every image is. When no
size is shared by at least ``COMMON_SHARE`` of the headers (photos of many sizes), the
median height and width stand in for the most common size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

FOLDER_SHORT_SIDE = 128
FOLDER_LONG_SIDE = 512
HEADER_SAMPLE = 2000
COMMON_SHARE = 0.5  # below this share the most common size says little: take the median
MIN_SIDE = 8


@dataclass(frozen=True)
class InputChoice:
    """The (H, W, C) to train at and a short reason for people."""

    shape: tuple[int, int, int]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"shape": list(self.shape), "reason": self.reason}


def fit_size(height: int, width: int, short_side: int = FOLDER_SHORT_SIDE) -> tuple[int, int]:
    """(height, width) scaled down (never up), keeping the aspect, to the short-side cap."""
    factor = min(
        1.0, short_side / max(1, min(height, width)), FOLDER_LONG_SIDE / max(height, width, 1)
    )
    return max(MIN_SIDE, round(height * factor)), max(MIN_SIDE, round(width * factor))


def takes_any_size(entry, builder_args: dict[str, Any] | None = None) -> bool:
    """Whether the entry's builder makes a model for unknown height and width (imports Keras)."""
    import keras

    try:
        model = entry.builder(
            input_shape=(None, None, entry.input_shape[-1]),
            num_classes=max(2, entry.num_classes),
            **(builder_args or {}),
        )
    except Exception:  # noqa: BLE001 - any failure means "needs a fixed size"
        return False
    finally:
        keras.backend.clear_session(free_memory=False)
    del model
    return True


def folder_image_size(root: str, seed: int = 0) -> tuple[tuple[int, int], str, str, int]:
    """A folder's typical (height, width), how it was found (``most common`` or ``median``),
    the suggested colour mode and the files peeked."""
    from cnntui.core.data.folders import scan_folder
    from cnntui.core.data.inspect import suggest_color_mode
    from cnntui.core.images import peek_image

    scan = scan_folder(root)
    paths = [p for fs in scan.files.values() for p, _ in fs]
    order = np.random.default_rng(seed).permutation(len(paths))[:HEADER_SAMPLE]
    infos = [i for i in (peek_image(paths[k]) for k in order) if i]
    if not infos:
        raise ValueError(f"no readable image in {root}; check the folder (`cnntui data {root}`)")
    ((size, times),) = Counter((i.height, i.width) for i in infos).most_common(1)
    how = "most common"
    if times < COMMON_SHARE * len(infos):
        size = tuple(int(np.median([getattr(i, k) for i in infos])) for k in ("height", "width"))
        how = "median"
    modes = Counter(i.mode for i in infos)
    return size, how, suggest_color_mode(modes), len(infos)


def choose_input(
    entry, source_kind: str, source_path: str | None, requested, builder_args=None, seed=0
) -> InputChoice:
    """Pick the run's input shape (see the module docstring)."""
    if requested:
        shape = tuple(int(v) for v in requested)
        return InputChoice(shape, "from --input-shape")
    own = tuple(entry.input_shape)
    label = "x".join(map(str, own))
    if source_kind != "folder":
        return InputChoice(own, f"{entry.name}'s default input {label}")
    if not takes_any_size(entry, builder_args):
        return InputChoice(own, f"{entry.name} takes a fixed input size ({label})")
    (h, w), how, color, n = folder_image_size(str(source_path), seed)
    fh, fw = fit_size(h, w)
    channels = 1 if color == "grayscale" else 3
    scaled = "" if (fh, fw) == (h, w) else f", short side capped at {FOLDER_SHORT_SIDE}"
    return InputChoice(
        (fh, fw, channels),
        f"the folder's {how} image size {h}x{w} (of {n} peeked){scaled}; "
        f"{entry.name} takes any size",
    )
