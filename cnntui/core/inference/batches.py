"""Image files decoded in batches, in input order, a couple of batches ahead of the model.

Pillow decodes (through :func:`cnntui.core.data.decode.decode_files`, the loop every reader
of files shares), or TensorFlow where that gives the very same pixels; a file that cannot be
decoded is reported by position with its reason and never stops the others.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from cnntui.core import backend
from cnntui.core.data.decode import Decoded, decode_positions
from cnntui.core.exact_png import decodes_exactly
from cnntui.core.images import Preprocessing, scale_uint8

SMALL = 8  # up to this many files are decoded in place (and a model runs them eagerly)


def decode_batch(
    paths: list[str], pre: Preprocessing
) -> tuple[np.ndarray | None, list[int], dict[int, str]]:
    """Decode ``paths``: a stacked float32 array of the good ones, their positions, and
    errors. Pixels stay uint8 until the batch is stacked, then are scaled once: the same
    arithmetic as :func:`cnntui.core.images.load_image`, element by element."""
    good, x, errors = decode_positions(list(range(len(paths))), paths, pre)
    return (scale_uint8(x, pre) if len(good) else None), good.tolist(), errors


def _inline_batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    for start in range(0, len(paths), batch_size):
        yield decode_positions(list(range(start, min(start + batch_size, len(paths)))), paths, pre)


def _png_batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    """Batches of a folder that starts with PNGs TensorFlow decodes exactly.

    The first batch is decoded by Pillow (the same pixels) while a thread checks the other
    files and builds the ``tf.data`` pipeline for them, so the model starts at once; if some
    other file is not such a PNG, the rest goes to :func:`_threaded_batches`.
    """
    head = min(batch_size, len(paths))
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(tf_png_batches, paths, head, pre, batch_size)
        yield decode_positions(list(range(head)), paths, pre)
        batches = rest.result()
    if batches is None:
        yield from _threaded_batches(paths, pre, batch_size, start=head)
        return
    for pos, x in batches:
        yield pos, x, {}


def tf_png_batches(
    paths: list[str], start: int, pre: Preprocessing, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]] | None:
    """(positions, pixels) of ``paths[start:]``, decoded by ``tf.data`` batch by batch in
    C++ threads, a couple of batches ahead, in order; ``None`` unless all are PNGs
    TensorFlow decodes exactly. A batch with a file TensorFlow fails on is left out
    (:func:`_with_fallback` then has Pillow decode it: pixels, or the reason)."""
    if not all(decodes_exactly(p, pre) for p in paths[start:]):
        return None
    import tensorflow as tf

    h, w = pre.image_size
    c = pre.channels

    def decode(positions, batch):
        images = tf.map_fn(
            lambda path: tf.io.decode_png(tf.io.read_file(path), channels=c),
            batch,
            fn_output_signature=tf.TensorSpec((None, None, c), tf.uint8),
        )
        return positions, tf.ensure_shape(images, (None, h, w, c))

    options = tf.data.Options()
    options.autotune.enabled = False  # on 2 cores its tuning thread costs more than it saves
    return (
        tf.data.Dataset.from_tensor_slices((np.arange(start, len(paths)), paths[start:]))
        .batch(batch_size)
        .map(decode, num_parallel_calls=max(1, min(8, os.cpu_count() or 1)))
        .ignore_errors()
        .prefetch(2)
        .with_options(options)
        .as_numpy_iterator()  # starts decoding now, while the model runs the first batch
    )


def _threaded_batches(
    paths: list[str], pre: Preprocessing, batch_size: int, start: int = 0
) -> Iterator[Decoded]:
    """Pillow decodes the next two batches in one background thread while the model works
    (more threads only fight over the GIL and the cores TensorFlow is using)."""
    starts = iter(range(start, len(paths), batch_size))
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: deque[Future[Decoded]] = deque()

        def submit_next() -> None:
            first = next(starts, None)
            if first is not None:
                batch = list(range(first, min(first + batch_size, len(paths))))
                pending.append(pool.submit(decode_positions, batch, paths, pre))

        submit_next()
        submit_next()
        while pending:
            decoded = pending.popleft().result()
            submit_next()
            yield decoded


def _fastest(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    """Decoded batches in order, by the fastest way that gives Pillow's pixels (TensorFlow's
    PNG decoder on the TensorFlow backend, else Pillow threads)."""
    if len(paths) <= max(SMALL, batch_size):
        return _inline_batches(paths, pre, batch_size)
    if backend.is_tensorflow() and all(decodes_exactly(p, pre) for p in paths[:batch_size]):
        return _png_batches(paths, pre, batch_size)
    return _threaded_batches(paths, pre, batch_size)


def _with_fallback(
    batches: Iterator[Decoded], paths: list[str], pre: Preprocessing
) -> Iterator[Decoded]:
    """Pass batches on with every position accounted for: positions a batch skipped (the
    pipeline dropped them) are decoded by Pillow and yielded first, in order."""
    expected = 0
    for good, x, errors in batches:
        seen = set(good.tolist()) | set(errors)
        if not seen:
            continue
        last = max(seen)
        missing = [p for p in range(expected, last + 1) if p not in seen]
        if missing:
            yield decode_positions(missing, paths, pre)
        yield good, x, errors
        expected = last + 1
    if expected < len(paths):
        yield decode_positions(list(range(expected, len(paths))), paths, pre)


def decoded_batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    """``(positions, uint8 pixels, errors)`` batches of ``paths`` in order, every position
    accounted for, by the fastest way that gives Pillow's pixels."""
    return _with_fallback(_fastest(paths, pre, batch_size), paths, pre)
