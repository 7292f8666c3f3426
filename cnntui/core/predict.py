"""Classify image files with a loaded checkpoint, streaming folders in batches.

Files are decoded by :mod:`cnntui.core.images` (the code the data pipeline uses), or by
TensorFlow where that gives the very same pixels, ahead of the model, which works on the
previous batch; a bad file becomes a :class:`Prediction` with an ``error``
and never stops the others.
"""

from __future__ import annotations

import glob
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core import backend
from cnntui.core.calibration import apply_temperature
from cnntui.core.checkpoints import LoadedModel
from cnntui.core.exact_png import decodes_exactly
from cnntui.core.images import Preprocessing, scale_uint8, try_load_image_uint8

GLOB_CHARS = "*?["
DEFAULT_BATCH = 64


@dataclass
class Prediction:
    """One file's result: the top classes, or why it could not be classified."""

    path: str
    top: list[dict[str, Any]] | None = None
    probabilities: np.ndarray | None = None
    error: str | None = None
    true: str | None = None  # the known label (a dataset's example)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        known = {"true": self.true} if self.true is not None else {}
        if self.error is not None:
            return {"path": self.path, **known, "error": self.error}
        return {"path": self.path, **known, "top": self.top}


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def collect_inputs(specs: Iterable[str | Path]) -> list[tuple[str, str | None]]:
    """Expand files, folders (recursively, hidden entries skipped) and glob patterns.

    Returns ``(path, error)`` pairs in order, duplicates removed; ``error`` is set for a
    path that does not exist or a pattern that matches nothing.
    """
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()

    def add(path: str, error: str | None = None) -> None:
        key = os.path.abspath(path) if error is None else f"\0{path}"
        if key not in seen:
            seen.add(key)
            out.append((path, error))

    for spec in specs:
        spec = str(spec)
        path = Path(spec).expanduser()
        if path.is_dir():
            found = list(_walk(path))
            if not found:
                add(spec, "folder has no files")
            for f in found:
                add(str(f))
        elif path.exists():
            add(str(path))
        elif any(c in spec for c in GLOB_CHARS):
            matches = sorted(glob.glob(os.path.expanduser(spec), recursive=True))
            if not matches:
                add(spec, "no files match this pattern")
            for m in matches:
                if os.path.isdir(m):
                    for f in _walk(Path(m)):
                        add(str(f))
                else:
                    add(m)
        else:
            add(spec, "no such file or folder")
    return out


def decode_batch(
    paths: list[str], pre: Preprocessing
) -> tuple[np.ndarray | None, list[int], dict[int, str]]:
    """Decode ``paths``: a stacked float32 array of the good ones, their positions, and
    errors. Pixels stay uint8 until the batch is stacked, then are scaled once: the same
    arithmetic as :func:`cnntui.core.images.load_image`, element by element."""
    good, x, errors = _decode_positions(list(range(len(paths))), paths, pre)
    return (scale_uint8(x, pre) if len(good) else None), good.tolist(), errors


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def to_class_probabilities(raw: np.ndarray, binary: bool, logits: bool) -> np.ndarray:
    """Model output (N, units) as probabilities (N, K); a sigmoid unit becomes [1-p, p]."""
    raw = np.asarray(raw, dtype=np.float64).reshape(len(raw), -1)
    if binary:
        p = raw[:, 0]
        if logits:
            p = 1.0 / (1.0 + np.exp(-p))
        return np.stack([1.0 - p, p], axis=1)
    return _softmax(raw) if logits else raw


def make_predictor(
    loaded: LoadedModel, eager: bool = False, pad_to: int | None = None, tta: str | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch to class probabilities (N, K).

    An exported model (``loaded.runtime``) runs in its own runtime. For Keras,
    ``eager`` calls the model directly, which skips tracing a graph: best for a handful of
    images; otherwise Keras's compiled ``predict_on_batch`` is used, and a short last batch
    is padded to ``pad_to`` so the graph is traced once, not once more for its shape.
    ``tta``: test-time augmentation (:mod:`cnntui.core.tta`), e.g. ``flip``.
    """
    model = loaded.model

    def predict(x: np.ndarray) -> np.ndarray:
        n = len(x)
        if loaded.runtime is not None:  # an exported model, in its own runtime
            raw = loaded.runtime.predict(x)
        elif eager:
            raw = _to_numpy(model(x, training=False))
        elif pad_to and n < pad_to:
            padded = np.zeros((pad_to, *x.shape[1:]), dtype=x.dtype)
            padded[:n] = x
            raw = np.asarray(model.predict_on_batch(padded))[:n]
        else:
            raw = model.predict_on_batch(x)
        probs = to_class_probabilities(raw, loaded.binary, loaded.logits)
        return apply_temperature(probs, loaded.temperature)

    from cnntui.core.tta import with_tta

    return with_tta(predict, tta)


def _to_numpy(tensor: Any) -> np.ndarray:
    """A backend tensor as numpy (PyTorch's eager outputs need ``keras.ops`` for it)."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(tensor))


def top_classes(probs: np.ndarray, class_names: list[str], k: int) -> list[dict[str, Any]]:
    """The ``k`` most probable classes of one image, most probable first."""
    order = np.argsort(-probs, kind="stable")[: max(1, k)]
    return [
        {"label": class_names[i], "index": int(i), "probability": round(float(probs[i]), 6)}
        for i in order
    ]


def predict_paths(
    loaded: LoadedModel,
    inputs: list[tuple[str, str | None]],
    top_k: int = 3,
    batch_size: int = DEFAULT_BATCH,
    tta: str | None = None,
) -> Iterator[Prediction]:
    """Yield one :class:`Prediction` per input, in order, batch by batch.

    A handful of images is decoded in place and run eagerly. More are decoded a couple of
    batches ahead while the model works: a folder of plain PNGs already at the model's size
    by ``tf.data`` (:mod:`cnntui.core.exact_png`: the very pixels Pillow gives), anything
    else by Pillow in a background thread.
    """
    pre, names = loaded.preprocessing, loaded.class_names
    paths = [p for p, err in inputs if err is None]
    predict = make_predictor(
        loaded,
        eager=len(paths) <= SMALL,
        pad_to=batch_size if len(paths) > batch_size else None,
        tta=tta,
    )
    k = max(1, top_k)
    results: dict[int, Prediction] = {}  # by position in ``paths``, until given out
    i = given = 0

    def ready() -> Iterator[Prediction]:
        """Give out, in input order, every result that no earlier one is still waiting for."""
        nonlocal i, given
        while i < len(inputs):
            path, err = inputs[i]
            if err is not None:
                yield Prediction(path=path, error=err)
            elif given in results:
                yield results.pop(given)
                given += 1
            else:
                return
            i += 1

    for positions, pixels, errors in _with_fallback(_batches(paths, pre, batch_size), paths, pre):
        for pos, reason in errors.items():
            results[pos] = Prediction(path=paths[pos], error=reason)
        if len(positions):
            probs = predict(scale_uint8(pixels, pre))
            order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
            top_p = np.take_along_axis(probs, order, axis=1).round(6).tolist()
            for row, (pos, classes) in enumerate(zip(positions.tolist(), order.tolist())):
                top = [
                    {"label": names[c], "index": c, "probability": p}
                    for c, p in zip(classes, top_p[row], strict=True)
                ]
                results[pos] = Prediction(path=paths[pos], top=top, probabilities=probs[row])
        yield from ready()
    yield from ready()  # trailing bad inputs (or everything, when no path could run)


def predict_images(
    loaded: LoadedModel,
    images: np.ndarray,
    ids: list[str],
    top_k: int = 3,
    batch_size: int = DEFAULT_BATCH,
    tta: str | None = None,
) -> Iterator[Prediction]:
    """One :class:`Prediction` per uint8 image (N, H, W, C), brought to the model's input
    as training brought arrays (:func:`cnntui.core.data.arrays.prepare_arrays`)."""
    from cnntui.core.data.arrays import prepare_arrays

    pre, names = loaded.preprocessing, loaded.class_names
    predict = make_predictor(loaded, eager=len(images) <= SMALL, tta=tta)
    for start in range(0, len(images), batch_size):
        probs = predict(scale_uint8(prepare_arrays(images[start : start + batch_size], pre), pre))
        for i, row in enumerate(probs):
            top = top_classes(row, names, top_k)
            yield Prediction(path=ids[start + i], top=top, probabilities=row)


SMALL = 8
Decoded = tuple[np.ndarray, np.ndarray, dict[int, str]]  # positions, uint8 pixels, errors


def _decode_positions(positions: list[int], paths: list[str], pre: Preprocessing) -> Decoded:
    good, arrays, errors = [], [], {}
    for pos in positions:
        arr, reason = try_load_image_uint8(paths[pos], pre)
        if arr is None:
            errors[pos] = reason
        else:
            good.append(pos)
            arrays.append(arr)
    h, w = pre.image_size
    x = np.stack(arrays) if arrays else np.zeros((0, h, w, pre.channels), np.uint8)
    return np.asarray(good, dtype=np.int64), x, errors


def _inline_batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    for start in range(0, len(paths), batch_size):
        yield _decode_positions(list(range(start, min(start + batch_size, len(paths)))), paths, pre)


def _png_batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
    """Batches of a folder that starts with PNGs TensorFlow decodes exactly.

    The first batch is decoded by Pillow (the same pixels) while a thread checks the other
    files and builds the ``tf.data`` pipeline for them, so the model starts at once; if some
    other file is not such a PNG, the rest goes to :func:`_threaded_batches`.
    """
    head = min(batch_size, len(paths))
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(_png_batches_from, paths, head, pre, batch_size)
        yield _decode_positions(list(range(head)), paths, pre)
        batches = rest.result()
    if batches is None:
        yield from _threaded_batches(paths, pre, batch_size, start=head)
        return
    for pos, x in batches:
        yield pos, x, {}


def _png_batches_from(
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
                pending.append(pool.submit(_decode_positions, batch, paths, pre))

        submit_next()
        submit_next()
        while pending:
            decoded = pending.popleft().result()
            submit_next()
            yield decoded


def _batches(paths: list[str], pre: Preprocessing, batch_size: int) -> Iterator[Decoded]:
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
            yield _decode_positions(missing, paths, pre)
        yield good, x, errors
        expected = last + 1
    if expected < len(paths):
        yield _decode_positions(list(range(expected, len(paths))), paths, pre)
