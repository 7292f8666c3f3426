"""Classify image files with a loaded checkpoint, streaming folders in batches.

Files are decoded ahead of the model (:mod:`cnntui.core.inference.batches`), which works on
the previous batch; a bad file becomes a :class:`Prediction` with an ``error`` and never
stops the others.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.images import scale_uint8
from cnntui.core.inference.batches import SMALL, decoded_batches
from cnntui.core.inference.calibration import apply_temperature
from cnntui.core.inference.open import LoadedModel
from cnntui.core.inference.probabilities import to_class_probabilities, top_classes
from cnntui.core.inference.tta import with_tta

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


def expand_spec(spec: str) -> list[tuple[str, str | None]]:
    """One input as ``(path, error)`` pairs: a file, every file of a folder (recursively,
    hidden entries skipped) or of a glob pattern's matches, or why there is none."""
    path = Path(spec).expanduser()
    if path.is_dir():
        found = [(str(f), None) for f in _walk(path)]
        return found or [(spec, "folder has no files")]
    if path.exists():
        return [(str(path), None)]
    if not any(c in spec for c in GLOB_CHARS):
        return [(spec, "no such file or folder")]
    matches = sorted(glob.glob(os.path.expanduser(spec), recursive=True))
    if not matches:
        return [(spec, "no files match this pattern")]
    out: list[tuple[str, str | None]] = []
    for m in matches:
        out += [(str(f), None) for f in _walk(Path(m))] if os.path.isdir(m) else [(m, None)]
    return out


def collect_inputs(specs: Iterable[str | Path]) -> list[tuple[str, str | None]]:
    """Expand files, folders (recursively, hidden entries skipped) and glob patterns.

    Returns ``(path, error)`` pairs in order, duplicates removed; ``error`` is set for a
    path that does not exist or a pattern that matches nothing.
    """
    out: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for spec in specs:
        for path, error in expand_spec(str(spec)):
            key = os.path.abspath(path) if error is None else f"\0{path}"
            if key not in seen:
                seen.add(key)
                out.append((path, error))
    return out


def make_predictor(
    loaded: LoadedModel, eager: bool = False, pad_to: int | None = None, tta: str | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch to class probabilities (N, K).

    An exported model (``loaded.runtime``) runs in its own runtime. For Keras,
    ``eager`` calls the model directly, which skips tracing a graph: best for a handful of
    images; otherwise Keras's compiled ``predict_on_batch`` is used, and a short last batch
    is padded to ``pad_to`` so the graph is traced once, not once more for its shape.
    ``tta``: test-time augmentation (:mod:`cnntui.core.inference.tta`), e.g. ``flip``.
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

    return with_tta(predict, tta)


def _to_numpy(tensor: Any) -> np.ndarray:
    """A backend tensor as numpy (PyTorch's eager outputs need ``keras.ops`` for it)."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(tensor))


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

    for positions, pixels, errors in decoded_batches(paths, pre, batch_size):
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
