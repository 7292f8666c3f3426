"""The first images of a dataset split, for ``cnntui predict --data SOURCE --split S``.

As the Keras tutorials do with ``model.predict(X_test[:4])``: the examples in the source's
own order, each with its true label. Arrays (the sample, Keras datasets, ``.npz``) give
uint8 images named ``source:split[i]``; folders give their files (``DIR/<split>/…``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnntui.core.data.errors import DataError

SPLITS = ("train", "test", "val")


@dataclass
class Examples:
    """The chosen examples: ``images`` (uint8 N, H, W, C) or ``paths``, with true labels."""

    source: str
    split: str
    ids: list[str]
    labels: list[str]
    images: np.ndarray | None = None
    paths: list[str] = field(default_factory=list)


def first_examples(source: str, split: str = "test", limit: int | None = None) -> Examples:
    """The first ``limit`` examples of ``split`` of ``source`` (all without a limit).

    Raises :class:`DataError` for a split the source does not have, or a source that
    cannot be loaded here (a Keras dataset offline says how to install it by hand).
    """
    from cnntui.core.data.array_sources import read_arrays
    from cnntui.core.data.arrays import as_uint8_images
    from cnntui.core.data.sources import classify_source

    if split not in SPLITS:
        raise DataError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    if limit is not None and limit < 1:
        raise DataError(f"--limit must be at least 1; got {limit}")
    src = classify_source(source)
    if src.kind == "folder":
        return _folder_examples(str(src.path), split, limit)
    splits, names = read_arrays(src)
    if split not in splits:
        have = " and ".join(splits)
        raise DataError(
            f"{src.name} has no {split} split (it has {have}); use --split {next(iter(splits))}"
        )
    x, y = splits[split]
    n = len(x) if limit is None else min(limit, len(x))
    images = as_uint8_images(np.asarray(x[:n]), src.name)
    labels = [names[int(v)] for v in np.asarray(y[:n]).reshape(-1)]
    return Examples(src.name, split, [f"{src.name}:{split}[{i}]" for i in range(n)], labels, images)


def _folder_examples(root: str, split: str, limit: int | None) -> Examples:
    from cnntui.core.data.folders import scan_folder

    scan = scan_folder(root)
    files = scan.files.get(split)
    if not files:
        have = ", ".join(s for s, f in scan.files.items() if f)
        raise DataError(
            f"{scan.root} has no {split}/ folder (it has {have}); use --split "
            f"{next(s for s, f in scan.files.items() if f)}, or predict its files by path"
        )
    files = sorted(files)[:limit]
    return Examples(
        str(scan.root),
        split,
        [p for p, _ in files],
        [scan.class_names[c] for _, c in files],
        paths=[p for p, _ in files],
    )
