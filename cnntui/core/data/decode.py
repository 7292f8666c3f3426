"""The one decode-and-skip loop over image files, shared by training's pipelines, prediction,
evaluation and explanation: each file through :func:`cnntui.core.images.try_load_image_uint8`
(never a stack trace mid-epoch), a failure reported with its reason and left out."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnntui.core.images import Preprocessing, try_load_image_uint8

OnError = Callable[[int, str], object]  # (index into the paths, reason)


def decode_files(
    paths: Sequence[str], pre: Preprocessing, on_error: OnError
) -> tuple[np.ndarray, np.ndarray]:
    """``paths`` decoded as ``pre`` says: uint8 pixels (N, H, W, C) and a mask of the files
    that decoded; ``on_error(i, reason)`` is called for each one that did not (its row is
    zeros)."""
    x = np.zeros((len(paths), *pre.input_shape), np.uint8)
    ok = np.zeros(len(paths), bool)
    for i, path in enumerate(paths):
        arr, reason = try_load_image_uint8(path, pre)
        if arr is None:
            on_error(i, reason)
        else:
            x[i], ok[i] = arr, True
    return x, ok


Decoded = tuple[np.ndarray, np.ndarray, dict[int, str]]  # positions, uint8 pixels, errors


def decode_positions(positions: list[int], paths: list[str], pre: Preprocessing) -> Decoded:
    """The files at ``positions`` of ``paths``: the positions decoded, their pixels, and the
    reason for each position that failed."""
    errors: dict[int, str] = {}
    where = np.asarray(positions, dtype=np.int64)
    x, ok = decode_files([paths[p] for p in positions], pre,
                         lambda i, reason: errors.__setitem__(positions[i], reason))  # fmt: skip
    return where[ok], (x if ok.all() else x[ok]), errors
