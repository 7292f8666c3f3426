"""Backend-neutral pipelines: ``keras.utils.PyDataset`` batches built by worker threads.

The same three variants as the ``tf.data`` pipelines of :mod:`cnntui.core.data.pipeline`,
over the same code: in-memory uint8 arrays (rows gathered per batch), a decoded-image
store (:meth:`DecodedStore.ensure` decodes pending rows, feeding the cache, in epoch 1;
later epochs read stored pixels) and files streamed through Pillow
(:func:`~cnntui.core.data.decode.decode_files`, the loop prediction uses). Then, for all:
scale to model input (:func:`~cnntui.core.images.scale_uint8`), augment (train), and any
mapped batch functions. A file that fails is recorded in the :class:`SkipLog` and left out
of its batch. The order is reshuffled after each epoch from ``(seed, epoch)``.

``workers`` threads (one per core, as the ``tf.data`` versions) prepare up to ``QUEUE``
batches ahead of the model while batches are asked for in order, in one pool that lives as
long as the dataset. Keras's own enqueuer is not used: it starts a thread pool each epoch
and, stopping it, waits 0.1 s on its empty queue, for the training and again for the
validation split (about a tenth of an epoch of the bundled digits on JAX). Used whenever
the Keras backend is not TensorFlow, and on TensorFlow when asked for (:func:`pipeline_kind`).
"""

from __future__ import annotations

import copy
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from cnntui.core.data.decode import decode_files
from cnntui.core.data.errors import DataError
from cnntui.core.images import Preprocessing, scale_uint8

if TYPE_CHECKING:
    from cnntui.core.data.cache import DecodedStore
    from cnntui.core.data.pipeline import SkipLog

PIPELINES = ("auto", "tf.data", "python")
PIPELINE_ENV = "CNNTUI_PIPELINE"
QUEUE = 8  # batches prepared ahead of the model

Fetch = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
BatchFn = Callable[[Any, Any], tuple[Any, Any]]


def pipeline_kind(requested: str | None = None) -> str:
    """``tf.data`` or ``python``: ``requested`` (or ``$CNNTUI_PIPELINE``); ``auto`` means
    ``tf.data`` on the TensorFlow backend and ``python`` on any other."""
    from cnntui.core import backend

    if requested in (None, "", "auto"):
        requested = os.environ.get(PIPELINE_ENV)
    value = (requested or "auto").strip().lower()
    if value not in PIPELINES:
        raise DataError(f"pipeline must be one of {', '.join(PIPELINES)}; got {value!r}")
    if value == "auto":
        return "tf.data" if backend.is_tensorflow() else "python"
    if value == "tf.data" and not backend.is_tensorflow():
        backend.require_tensorflow("the tf.data pipeline")
    return value


def default_workers() -> int:
    """Threads preparing batches: one per core, at most 16 (as the tf.data versions)."""
    return max(1, min(16, os.cpu_count() or 1))


def is_python_dataset(dataset: Any) -> bool:
    """Whether ``dataset`` is one of this module's (else a ``tf.data.Dataset`` or None)."""
    return isinstance(dataset, BatchSource)


class BatchSource:
    """The batches of one split: an order over ``n`` examples, cut into batches, each
    fetched as uint8 (bad rows already left out), scaled, augmented and mapped.

    Mixed into ``keras.utils.PyDataset`` by :func:`_make` (Keras is imported only then).
    """

    def _setup(
        self,
        n: int,
        fetch: Fetch,
        pre: Preprocessing,
        batch_size: int,
        *,
        shuffle: bool,
        seed: int,
        augmenter: Any = None,
    ) -> None:
        self.n, self.fetch, self.pre, self.batch_size = n, fetch, pre, batch_size
        self.shuffle, self.seed, self.augmenter = shuffle, seed, augmenter
        self.functions: tuple[BatchFn, ...] = ()
        self.epoch = 0
        self._random_lock = threading.Lock()  # Keras random layers keep their seed state
        self._order = self._order_for(0)
        self.threads = 1
        self._pool: ThreadPoolExecutor | None = None
        self._reset_ahead()

    def _reset_ahead(self) -> None:
        self._ahead: dict[int, Future] = {}  # batch index -> its batch, this epoch's order
        self._ahead_order: np.ndarray | None = None
        self._last_index = -1
        self._ahead_lock = threading.Lock()

    def _read_ahead(self, index: int) -> Future | None:
        """Batch ``index``'s future, after queueing the next ``QUEUE`` batches (when asked in
        order; a batch asked out of order is built at once, and nothing is queued)."""
        if self.threads <= 1:
            return None
        with self._ahead_lock:
            order = self._order
            if self._ahead_order is not order:  # another epoch: its batches are stale
                for stale in self._ahead.values():
                    stale.cancel()
                self._ahead, self._ahead_order = {}, order
            in_order = index in (0, self._last_index + 1) or index in self._ahead
            self._last_index = index
            if not in_order:
                return None
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="cnntui-batches")
            for j in range(index, min(len(self), index + 1 + QUEUE)):
                if j not in self._ahead:
                    self._ahead[j] = self._pool.submit(self._build, order, j)
            return self._ahead.pop(index)

    def _order_for(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order (a resumed run continues the sequence)."""
        self.epoch = epoch
        self._order = self._order_for(epoch)
        with self._ahead_lock:  # an epoch cut short leaves batches queued: not built now
            for stale in self._ahead.values():
                stale.cancel()

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def positions(self, index: int) -> np.ndarray:
        """Which examples batch ``index`` of this epoch holds (in this epoch's order)."""
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        future = self._read_ahead(index)
        return future.result() if future is not None else self._build(self._order, index)

    def _build(self, order: np.ndarray, index: int) -> tuple[Any, Any]:
        """Batch ``index`` of the epoch whose order is ``order``."""
        bs = self.batch_size
        x, y = self.fetch(order[index * bs : (index + 1) * bs])
        nxt = index + 1
        while not len(x) and nxt < index + len(self):  # every file of it failed to decode:
            i = nxt % len(self)  # the next batch stands in
            x, y = self.fetch(order[i * bs : (i + 1) * bs])
            nxt += 1
        if not len(x):
            raise DataError("no image of this split could be decoded")
        out: tuple[Any, Any] = (scale_uint8(x, self.pre), y)
        if self.augmenter is not None or self.functions:
            with self._random_lock:
                if self.augmenter is not None:
                    out = (np.asarray(self.augmenter(out[0], training=True)), out[1])
                for fn in self.functions:
                    out = fn(*out)
            out = (np.asarray(out[0]), np.asarray(out[1]))
        return out

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)

    def map(self, fn: BatchFn) -> BatchSource:
        """A copy that also applies ``fn(x, y) -> (x, y)`` to each batch (numpy or
        backend tensors in, anything ``np.asarray`` takes out), after augmentation."""
        out = copy.copy(self)
        out.functions = (*self.functions, fn)
        out._random_lock = self._random_lock
        out._pool = None  # its own threads and queue: its batches are not this one's
        out._reset_ahead()
        return out

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        """One epoch of batches, in order (like iterating a ``tf.data.Dataset``)."""
        for i in range(len(self)):
            yield self[i]

    def repeat(self) -> Iterator[tuple[Any, Any]]:
        """Batches without end, epoch after epoch (the order reshuffled between them)."""
        return _Repeat(self)


class _Repeat:
    def __init__(self, source: BatchSource):
        self.source = source

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        while True:
            yield from self.source
            self.source.on_epoch_end()


_CLASS: type | None = None


def _make(n: int, fetch: Fetch, pre: Preprocessing, batch_size: int, **kwargs: Any) -> Any:
    """A ``keras.utils.PyDataset`` (a :class:`BatchSource`) over ``fetch``."""
    global _CLASS
    if _CLASS is None:
        from keras.utils import PyDataset

        class Batches(BatchSource, PyDataset):
            """Batches for ``model.fit``/``evaluate``/``predict`` on any Keras backend."""

        _CLASS = Batches
    workers = kwargs.pop("workers", None) or default_workers()
    ds = _CLASS(workers=1, use_multiprocessing=False)  # 1: no Keras enqueuer (see above)
    ds._setup(n, fetch, pre, batch_size, **kwargs)
    ds.threads = workers
    return ds


def _labels(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if len(y) != len(rows):
        raise ValueError(f"{len(rows)} images but {len(y)} labels")
    return y


def array_dataset(
    x: np.ndarray,
    y: np.ndarray,
    pre: Preprocessing,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    augmenter: Any = None,
    rows: np.ndarray | list[int] | None = None,
) -> Any:
    """Batches (x float32 in model scale, y) gathered from uint8 images already at ``pre``'s
    size; ``rows`` picks this split's images of ``x`` (``y`` is aligned with them)."""
    rows = np.arange(len(x)) if rows is None else np.asarray(rows, dtype=np.int64)
    y = _labels(y, rows)

    def gather(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x[rows[positions]], y[positions]

    return _make(len(rows), gather, pre, batch_size, shuffle=shuffle, seed=seed,
                 augmenter=augmenter)  # fmt: skip


def store_dataset(
    store: DecodedStore,
    rows: np.ndarray | list[int],
    y: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    augmenter: Any = None,
) -> Any:
    """Batches over ``store`` rows: the first pass decodes them (feeding the cache), later
    passes read the stored pixels; a row that fails to decode is left out of its batch."""
    rows = np.asarray(rows, dtype=np.int64)
    y = _labels(y, rows)

    def gather(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ok = store.ensure(rows[positions])
        if ok.all():
            return store.pixels[rows[positions]], y[positions]
        return store.pixels[rows[positions[ok]]], y[positions[ok]]

    return _make(len(rows), gather, store.pre, batch_size, shuffle=shuffle, seed=seed,
                 augmenter=augmenter)  # fmt: skip


def file_dataset(
    paths: list[str],
    y: np.ndarray,
    pre: Preprocessing,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    skip_log: SkipLog,
    augmenter: Any = None,
) -> Any:
    """Batches decoded from image files by Pillow in the worker threads (Pillow decodes
    with the GIL released); a file that fails is recorded in ``skip_log`` and left out."""
    paths = [str(p) for p in paths]
    y = _labels(y, np.arange(len(paths)))

    def decode(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        chunk = [paths[p] for p in positions]
        x, ok = decode_files(chunk, pre, lambda i, reason: skip_log.add(chunk[i], reason))
        return (x, y[positions]) if ok.all() else (x[ok], y[positions[ok]])

    return _make(len(paths), decode, pre, batch_size, shuffle=shuffle, seed=seed,
                 augmenter=augmenter)  # fmt: skip


def pipelines(kind: str) -> Any:
    """The module whose ``array_dataset``, ``store_dataset`` and ``file_dataset`` build
    ``kind`` (``tf.data`` or ``python``) pipelines."""
    if kind == "python":
        import cnntui.core.data.py_pipeline as module
    else:
        import cnntui.core.data.pipeline as module
    return module
