"""``load_data``, the one entry point for data, and the bundle of in-memory arrays.

The contract (:class:`DataBundle`, :class:`DataOptions`) lives in
:mod:`cnntui.core.data.contract`; folders are loaded by :mod:`cnntui.core.data.folder_bundle`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cnntui.core.data.array_sources import read_arrays, sample_path
from cnntui.core.data.arrays import (
    as_uint8_images,
    encode_labels,
    limit_indices,
    prepare_arrays,
    split_indices,
)
from cnntui.core.data.augment import build_augmenter, describe, parse_augment
from cnntui.core.data.contract import DataBundle, DataOptions, resolve_preprocessing
from cnntui.core.data.errors import DataError
from cnntui.core.data.folder_bundle import load_folder
from cnntui.core.data.sources import SAMPLE_NAME, classify_source, resolve_source

__all__ = [
    "SAMPLE_NAME",
    "DataBundle",
    "DataOptions",
    "load_arrays",
    "load_data",
    "read_arrays",
    "resolve_source",
    "sample_path",
]


def load_arrays(
    source: str,
    x: np.ndarray,
    y: np.ndarray,
    class_names: list[str],
    options: DataOptions | None = None,
    *,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    kind: str = "arrays",
) -> DataBundle:
    """A bundle from in-memory arrays, shuffled and split by ``val_split`` and ``seed``."""
    from cnntui.core.data.py_pipeline import pipeline_kind, pipelines

    opts = options or DataOptions()
    kind_of_pipeline = pipeline_kind(opts.pipeline)
    array_dataset = pipelines(kind_of_pipeline).array_dataset
    label_mode, batch_size, seed, limit = (
        opts.label_mode, opts.batch_size, opts.seed, opts.limit
    )  # fmt: skip
    y = np.asarray(y).reshape(-1)
    if len(x) != len(y):
        raise DataError(f"{source}: x has {len(x)} images but y has {len(y)} labels")
    x = as_uint8_images(x, source)
    keep = limit_indices(len(x), limit, seed)
    x, y = x[keep], y[keep]
    native_color = "grayscale" if x.shape[-1] == 1 else "rgb"
    pre = resolve_preprocessing(
        opts.input_shape,
        x.shape[1:3],
        native_color,
        opts.resize_mode,
        opts.color_mode,
        opts.rescale,
    )
    spec = parse_augment(opts.augment)
    train_idx, val_idx = split_indices(len(x), opts.val_split, seed)
    k = len(class_names)
    xs = prepare_arrays(x, pre)
    ys = encode_labels(y, label_mode, k)
    augmenter = build_augmenter(spec, seed) if spec else None
    train = array_dataset(
        xs,
        ys[train_idx],
        pre,
        batch_size,
        shuffle=True,
        seed=seed,
        augmenter=augmenter,
        rows=train_idx,
    )
    val = None
    if len(val_idx):
        val = array_dataset(
            xs, ys[val_idx], pre, batch_size, shuffle=False, seed=seed, rows=val_idx
        )
    counts = {"train": int(len(train_idx)), "val": int(len(val_idx))}
    test = None
    if x_test is not None and y_test is not None:
        xt = as_uint8_images(x_test, f"{source} (test)")
        yt = np.asarray(y_test).reshape(-1)
        tkeep = limit_indices(len(xt), limit and max(1, limit // 5), seed)
        xt, yt = xt[tkeep], yt[tkeep]
        test = array_dataset(
            prepare_arrays(xt, pre), encode_labels(yt, label_mode, k), pre, batch_size,
            shuffle=False, seed=seed,
        )  # fmt: skip
        counts["test"] = int(len(xt))
    ids = {"val": [f"{source}[{int(keep[i])}]" for i in val_idx]}
    if test is not None:
        ids["test"] = [f"{source}:test[{int(i)}]" for i in tkeep]
    return DataBundle(
        source=source, class_names=list(class_names), preprocessing=pre, label_mode=label_mode,
        batch_size=batch_size, train=train, val=val, test=test, counts=counts,
        augment=describe(spec), val_split=opts.val_split, seed=seed, kind=kind, layout="arrays",
        ids=ids, options=opts, pipeline=kind_of_pipeline,
    )  # fmt: skip


def load_data(
    source: str | None = None,
    options: DataOptions | None = None,
    *,
    on_skip: Callable[[str, str], Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    **kwargs: Any,
) -> DataBundle:
    """Load ``source`` (``sample`` by default) as batched pipelines. Imports TensorFlow.

    ``options`` (a :class:`DataOptions`), or its fields as keyword arguments: ``input_shape``
    (the model's input) sets size and colour; without it arrays keep their own shape and
    folders take the inspection's suggestion. ``resize_mode``: stretch, crop or pad.
    ``augment``: names from :mod:`cnntui.core.data.augment`. Folders only:
    ``cache_budget_bytes`` caps the decoded pixels kept in memory (see
    :mod:`cnntui.core.data.cache`), ``on_skip(path, reason)`` hears of every skipped file,
    ``on_progress(done, total)`` follows the structural pass. Raises :class:`DataError`
    (a ``ValueError``) for a source that cannot be used, before any decoding work.
    """
    if options is None:
        options = DataOptions.from_kwargs(**kwargs)
    elif kwargs:
        options = options.with_(**kwargs)
    src = classify_source(source)
    if src.kind == "folder":
        return load_folder(src.path, options, on_skip=on_skip, on_progress=on_progress)
    splits, names = read_arrays(src)
    x, y = splits["train"]
    xt, yt = splits.get("test", (None, None))
    name = src.name if src.kind != "npz" else str(src.path)
    return load_arrays(name, x, y, names, options, x_test=xt, y_test=yt, kind=src.kind)
