"""Classify image files with a loaded checkpoint, streaming folders in batches.

Files are decoded by :mod:`cnntui.core.images` (the code the data pipeline uses) in a
background thread pool while the model works on the previous batch; a bad file becomes a
:class:`Prediction` with an ``error`` and never stops the others.
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

from cnntui.core.checkpoints import LoadedModel
from cnntui.core.images import ImageReadError, Preprocessing, load_image_uint8, scale_uint8

GLOB_CHARS = "*?["
DEFAULT_BATCH = 64


@dataclass
class Prediction:
    """One file's result: the top classes, or why it could not be classified."""

    path: str
    top: list[dict[str, Any]] | None = None
    probabilities: np.ndarray | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "top": self.top}


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
    """Decode ``paths``: a stacked array of the good ones, their positions, and errors.

    Pixels stay uint8 until the batch is stacked, then are scaled once: the same arithmetic
    as :func:`cnntui.core.images.load_image`, element by element, without per-image copies.
    """
    arrays, good, errors = [], [], {}
    for i, p in enumerate(paths):
        try:
            arrays.append(load_image_uint8(p, pre))
            good.append(i)
        except ImageReadError as exc:
            errors[i] = exc.reason
        except MemoryError:
            errors[i] = "image too large to decode in memory"
        except Exception as exc:  # noqa: BLE001 - one odd file must not stop the others
            errors[i] = f"cannot preprocess image ({type(exc).__name__}: {exc})"
    x = scale_uint8(np.stack(arrays), pre) if arrays else None
    return x, good, errors


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
    loaded: LoadedModel, eager: bool = False, pad_to: int | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch to class probabilities (N, K).

    ``eager`` calls the model directly, which skips tracing a graph: best for a handful of
    images; otherwise Keras's compiled ``predict_on_batch`` is used, and a short last batch
    is padded to ``pad_to`` so the graph is traced once, not once more for its shape.
    """
    model = loaded.model

    def predict(x: np.ndarray) -> np.ndarray:
        n = len(x)
        if eager:
            raw = np.asarray(model(x, training=False))
        elif pad_to and n < pad_to:
            padded = np.zeros((pad_to, *x.shape[1:]), dtype=x.dtype)
            padded[:n] = x
            raw = np.asarray(model.predict_on_batch(padded))[:n]
        else:
            raw = model.predict_on_batch(x)
        return to_class_probabilities(raw, loaded.binary, loaded.logits)

    return predict


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
    workers: int = 1,
) -> Iterator[Prediction]:
    """Yield one :class:`Prediction` per input, in order, batch by batch.

    Decoding runs up to two batches ahead in ``workers`` threads, overlapping the model
    (one is enough: decoding a batch is quicker than running it through a CNN, and more
    threads only fight over the GIL and the cores TensorFlow is using).
    """
    pre, names = loaded.preprocessing, loaded.class_names
    n_good = sum(1 for _, err in inputs if err is None)
    predict = make_predictor(
        loaded, eager=n_good <= 8, pad_to=batch_size if n_good > batch_size else None
    )
    batches = [inputs[i : i + batch_size] for i in range(0, len(inputs), batch_size)]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque[Future] = deque()
        queue = iter(batches)

        def submit_next() -> None:
            batch = next(queue, None)
            if batch is not None:
                paths = [p for p, err in batch if err is None]
                pending.append(pool.submit(_decode_with_inputs, batch, paths, pre))

        for _ in range(max(2, workers + 1)):
            submit_next()
        while pending:
            batch, paths, (x, good, errors) = pending.popleft().result()
            submit_next()
            probs = predict(x) if x is not None else np.zeros((0, len(loaded.class_names)))
            order = np.argsort(-probs, axis=1, kind="stable")[:, : max(1, top_k)]
            row_of = {g: j for j, g in enumerate(good)}
            i = 0
            for path, err in batch:
                if err is not None:
                    yield Prediction(path=path, error=err)
                    continue
                if i in row_of:
                    pr = probs[row_of[i]]
                    top = [
                        {"label": names[c], "index": int(c), "probability": round(float(pr[c]), 6)}
                        for c in order[row_of[i]]
                    ]
                    yield Prediction(path=path, top=top, probabilities=pr)
                else:
                    yield Prediction(path=path, error=errors.get(i, "could not be decoded"))
                i += 1


def _decode_with_inputs(batch, paths, pre):
    return batch, paths, decode_batch(paths, pre)
