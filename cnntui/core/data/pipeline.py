"""``tf.data`` pipelines over a decoded-image store, image files or in-memory uint8 arrays.

Store (folders, by default): shuffled row indices → batches whose pending rows the store
decodes (epoch 1) and whose decoded rows it gathers (later epochs); bad files drop out of
their batch. Files (no cache, too big for memory): paths → parallel Pillow decode in chunks
(``cnntui.core.images``, the code prediction uses) → drop any file that fails (recorded,
never raised) → batch. Arrays: shuffled indices → batches gathered from the array. Then,
for all: scale to [0, 1] → augment (train) → prefetch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from cnntui.core.data.decode import decode_files
from cnntui.core.images import Preprocessing

if TYPE_CHECKING:
    from cnntui.core.data.cache import DecodedStore

DECODE_CHUNK = 16  # files per Python call when streaming from disk


class SkipLog:
    """Thread-safe record of files the pipeline had to leave out while streaming."""

    def __init__(self, skipped: list[dict[str, str]], on_skip: Callable[[str, str], Any] | None):
        self.skipped = skipped
        self.on_skip = on_skip
        self._seen = {s["path"] for s in skipped}
        self._lock = threading.Lock()

    def add(self, path: str, reason: str) -> None:
        with self._lock:
            if path in self._seen:
                return
            self._seen.add(path)
            self.skipped.append({"path": path, "reason": reason})
        if self.on_skip:
            self.on_skip(path, reason)


def _to_float(x, pre: Preprocessing, tf):
    """uint8 pixels to model scale inside the graph (as :func:`scale_uint8` does in numpy)."""
    x = tf.cast(x, tf.float32)
    if pre.invert:
        x = 255.0 - x
    return x * np.float32(pre.scale)


def _finish(
    ds, pre: Preprocessing, batch_size: int, augmenter, tf, *, batched: bool = False,
    scaled: bool = False,
):  # fmt: skip
    """Batch (unless ``batched``), scale (unless ``scaled``), augment, prefetch."""
    if not batched:
        ds = ds.batch(batch_size)
    if not scaled:
        ds = ds.map(lambda x, y: (_to_float(x, pre, tf), y), num_parallel_calls=tf.data.AUTOTUNE)
    if augmenter is not None:

        def augment(x, y):
            return augmenter(x, training=True), y

        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _is_ok(img, label, ok):
    return ok


def _drop_flag(img, label, ok):
    return img, label


def array_dataset(
    x: np.ndarray,
    y: np.ndarray,
    pre: Preprocessing,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    augmenter=None,
    rows: np.ndarray | list[int] | None = None,
):
    """Batched (x float32 in model scale, y) from uint8 images already at ``pre``'s size.

    ``rows`` picks which images of ``x`` this split uses (all by default; ``y`` is aligned
    with them). Only indices go through ``tf.data``: shuffling moves integers, and each
    batch is gathered from ``x`` where it lies, so the images are never copied into
    TensorFlow as a whole nor held a second time in a shuffle buffer.
    """
    import tensorflow as tf

    rows = np.arange(len(x)) if rows is None else np.asarray(rows, dtype=np.int64)
    y = np.asarray(y)
    if len(y) != len(rows):
        raise ValueError(f"{len(rows)} images but {len(y)} labels")
    y_dtype = tf.as_dtype(y.dtype)

    def gather(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[rows[positions]], y[positions]

    def tf_gather(positions):
        xb, yb = tf.numpy_function(gather, [positions], [tf.uint8, y_dtype], stateful=False)
        xb.set_shape((None, *x.shape[1:]))
        yb.set_shape((None, *y.shape[1:]))
        return _to_float(xb, pre, tf), yb  # scaled in the same map: one stage less

    ds = tf.data.Dataset.range(len(rows))
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(tf_gather, num_parallel_calls=tf.data.AUTOTUNE)
    return _finish(ds, pre, batch_size, augmenter, tf, batched=True, scaled=True)


def store_dataset(
    store: DecodedStore,
    rows: np.ndarray | list[int],
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    augmenter=None,
):
    """Batched (x, y) over ``store`` rows: the first pass decodes (model and cache fed by the
    same decode), later passes read the stored pixels; a file that fails is left out of its
    batch and of every later epoch. One call per batch, one call in flight per core."""
    import tensorflow as tf

    rows = np.asarray(rows, dtype=np.int64)
    y = np.asarray(y)
    if len(y) != len(rows):
        raise ValueError(f"{len(rows)} images but {len(y)} labels")
    y_dtype = tf.as_dtype(y.dtype)
    shape = store.pre.input_shape

    def gather(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = store.ensure(rows[positions])
        if ok.all():
            return store.pixels[rows[positions]], y[positions]
        return store.pixels[rows[positions[ok]]], y[positions[ok]]

    def tf_gather(positions):
        xb, yb = tf.numpy_function(gather, [positions], [tf.uint8, y_dtype], stateful=False)
        xb.set_shape((None, *shape))
        yb.set_shape((None, *y.shape[1:]))
        return _to_float(xb, store.pre, tf), yb  # scaled in the same map: one stage less

    ds = tf.data.Dataset.range(len(rows))
    if shuffle:
        ds = ds.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)
    workers = max(1, min(16, os.cpu_count() or 1))
    ds = ds.batch(batch_size).map(tf_gather, num_parallel_calls=workers)
    ds = ds.filter(_not_empty)  # a batch of files that all failed to decode (NaN loss)
    return _finish(ds, store.pre, batch_size, augmenter, tf, batched=True, scaled=True)


def _not_empty(x, y):
    import tensorflow as tf

    return tf.shape(x)[0] > 0


def file_dataset(
    paths: list[str],
    y: np.ndarray,
    pre: Preprocessing,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    skip_log: SkipLog,
    augmenter=None,
):
    """Batched (x, y) streamed from image files, decoded in parallel by Pillow.

    Files go to Pillow :data:`DECODE_CHUNK` at a time, one chunk per pipeline thread: one
    Python call per chunk instead of per file keeps the GIL-held bookkeeping small, and
    Pillow decodes with the GIL released. A file that fails is logged and dropped.
    """
    import tensorflow as tf

    h, w = pre.image_size
    c = pre.channels

    def decode(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        paths = [raw.decode() if isinstance(raw, bytes) else str(raw) for raw in chunk]
        return decode_files(paths, pre, lambda i, reason: skip_log.add(paths[i], reason))

    def tf_decode(chunk, labels):
        x, ok = tf.numpy_function(decode, [chunk], [tf.uint8, tf.bool], stateful=False)
        x.set_shape((None, h, w, c))
        ok.set_shape((None,))
        return x, labels, ok

    paths_arr = np.asarray(paths, dtype=object).astype(str)
    ds = tf.data.Dataset.from_tensor_slices((paths_arr, np.asarray(y)))
    if shuffle:
        ds = ds.shuffle(len(paths_arr), seed=seed, reshuffle_each_iteration=True)
    workers = max(1, min(16, os.cpu_count() or 1))
    ds = ds.batch(DECODE_CHUNK).map(tf_decode, num_parallel_calls=workers)
    ds = ds.unbatch().filter(_is_ok).map(_drop_flag)
    return _finish(ds, pre, batch_size, augmenter, tf)
