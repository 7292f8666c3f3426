"""The decoded-image cache: uint8 pixels at the training size, decoded once, in epoch 1.

A :class:`DecodedStore` holds one row per file of a folder's file list plus each row's
state (pending, decoded, bad). Pipelines ask it for rows; pending rows are decoded there and
then (that is epoch 1), later epochs read what is stored. On disk (the default) the pixels
are a memory-mapped file in the user cache folder, so they outlive RAM and runs:

    $CNNTUI_CACHE_DIR or $XDG_CACHE_HOME/cnntui or ~/.cache/cnntui
        decoded/<key>/meta.json  pixels.u8  index.npz

``<key>`` hashes the file list (paths) and the preprocessing; ``index.npz`` records each
row's state with the file's size and mtime when it was decoded, so a changed file is
decoded again. The index is written atomically after the pixels are flushed: a crash leaves
rows pending, never a row trusted that was not written. ``CNNTUI_CACHE_DIR=off`` disables it
(folders then cache in memory when they fit the budget, else stream).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.atomic import atomic_write_bytes, atomic_write_json
from cnntui.core.images import Preprocessing, try_load_image_uint8
from cnntui.core.user_dirs import cache_root

FORMAT = 2  # 2: multi-picture (MPO) JPEGs decoded at reduced scale too, as plain ones
PENDING, OK, BAD, HEADER_BAD = 0, 1, 2, 3  # BAD: failed to decode; HEADER_BAD: structural
SAVE_EVERY_S = 20.0
DEFAULT_CACHE_CAP = 4 << 30
# saves running off the pipeline's threads, per cache folder: opening an entry or listing
# the cache waits for them (and Python waits for them at exit: they are not daemons)
_SAVING: dict[Path, threading.Thread] = {}
_SAVING_LOCK = threading.Lock()


def wait_for_saves(folder: Path | None = None) -> None:
    """Wait until the background index saves (of ``folder``, or all) have finished."""
    with _SAVING_LOCK:
        threads = [t for f, t in _SAVING.items() if folder is None or f == folder]
    for t in threads:
        t.join()


def default_cache_budget() -> int:
    """A quarter of the available memory, at most 4 GiB (1 GiB if it cannot be read)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return min(DEFAULT_CACHE_CAP, int(line.split()[1]) * 1024 // 4)
    except OSError:
        pass
    return 1 << 30


def decoded_root() -> Path | None:
    root = cache_root()
    return root / "decoded" if root else None


def cache_key(paths: Sequence[str], pre: Preprocessing) -> str:
    """Hash of the file list and the preprocessing (sizes and mtimes are checked per row)."""
    h = hashlib.sha256(json.dumps({"format": FORMAT, "pre": pre.to_dict()}).encode())
    for p in paths:
        h.update(os.path.abspath(p).encode("utf-8", "surrogateescape") + b"\0")
    return h.hexdigest()[:24]


def file_stats(paths: Sequence[str]) -> np.ndarray:
    """(N, 2) int64: size and mtime in ns of each file, -1 for a missing one."""
    out = np.full((len(paths), 2), -1, np.int64)
    for i, p in enumerate(paths):
        try:
            st = os.stat(p)
        except OSError:
            continue
        out[i] = st.st_size, st.st_mtime_ns
    return out


class DecodedStore:
    """Decoded pixels of a fixed file list and the state of each row (thread-safe)."""

    def __init__(
        self,
        paths: Sequence[str],
        pre: Preprocessing,
        pixels: np.ndarray,
        *,
        folder: Path | None = None,
        skip_log: Any = None,
    ):
        self.paths = list(paths)
        self.pre = pre
        self.pixels = pixels
        self.folder = folder
        self.skip_log = skip_log
        n = len(self.paths)
        self.state = np.zeros(n, np.uint8)
        self.stats = np.zeros((n, 2), np.int64)
        self.reasons: dict[int, str] = {}
        # header facts per row (from the structural pass), so a later run can skip it
        self.sizes = np.zeros((n, 2), np.int32)  # width, height
        self.modes = np.full(n, "", "U8")
        self.formats = np.full(n, "", "U8")
        self.reused = 0
        self.train_rows = np.zeros(0, np.int64)  # set by the loader: the training split's rows
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._pending = n
        self._last_save = time.monotonic()
        self._saved_complete = False

    # --- building -----------------------------------------------------------------------
    @classmethod
    def in_memory(cls, paths: Sequence[str], pre: Preprocessing, skip_log=None) -> DecodedStore:
        pixels = np.empty((len(paths), *pre.input_shape), np.uint8)
        store = cls(paths, pre, pixels, skip_log=skip_log)
        store.stats = file_stats(store.paths)
        return store

    @classmethod
    def on_disk(
        cls, paths: Sequence[str], pre: Preprocessing, root: Path, source: str, skip_log=None
    ) -> DecodedStore:
        """Open (or create) the cache entry of ``paths`` under ``root``; raise ``OSError``
        when it cannot be created (no space, read-only folder)."""
        folder = root / cache_key(paths, pre)
        folder.mkdir(parents=True, exist_ok=True)
        shape = (len(paths), *pre.input_shape)
        nbytes = int(np.prod(shape))
        pix = folder / "pixels.u8"
        if not pix.exists() or pix.stat().st_size != nbytes:
            _allocate(pix, nbytes)
            (folder / "index.npz").unlink(missing_ok=True)
        atomic_write_json(
            folder / "meta.json",
            {"format": FORMAT, "source": source, "images": len(paths),
             "shape": list(shape[1:]), "preprocessing": pre.to_dict(),
             "used": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
        )  # fmt: skip
        pixels = np.memmap(pix, np.uint8, "r+", shape=shape) if nbytes else np.empty(shape, "u1")
        store = cls(paths, pre, pixels, folder=folder, skip_log=skip_log)
        store._load_index()
        return store

    def _load_index(self) -> None:
        wait_for_saves(self.folder)
        current = file_stats(self.paths)
        try:
            with np.load(self.folder / "index.npz", allow_pickle=False) as d:
                state, stats = d["state"], d["stats"]
                bad_rows, bad_reasons = d["bad_rows"], d["bad_reasons"]
                sizes, modes, formats = d["sizes"], d["modes"], d["formats"]
            if state.shape != self.state.shape or stats.shape != current.shape:
                raise ValueError("index does not match the file list")
        except (OSError, ValueError, KeyError):
            state = np.zeros_like(self.state)
            stats, bad_rows, bad_reasons = current, np.zeros(0, np.int64), np.zeros(0, "U1")
            sizes, modes, formats = self.sizes, self.modes, self.formats
        self.sizes, self.modes, self.formats = sizes, modes.astype("U8"), formats.astype("U8")
        unchanged = np.all(stats == current, axis=1)
        self.state = np.where(unchanged, state, PENDING).astype(np.uint8)
        self.stats = current
        self.reasons = {int(r): str(t) for r, t in zip(bad_rows, bad_reasons, strict=True)}
        self.reasons = {r: t for r, t in self.reasons.items() if self.state[r] in (BAD, HEADER_BAD)}
        self.reused = int((self.state != PENDING).sum())
        self._pending = int((self.state == PENDING).sum())
        self._saved_complete = self._pending == 0

    def failed_decode(self) -> set[int]:
        """Rows that passed the structural pass but failed to decode (in an earlier epoch)."""
        return {int(r) for r in np.flatnonzero(self.state == BAD)}

    def none_decoded(self) -> bool:
        """Whether the training rows are all resolved and not one of them decoded."""
        state = self.state[self.train_rows]
        return bool(len(state)) and not (state == PENDING).any() and not (state == OK).any()

    def known(self) -> np.ndarray:
        """Rows an earlier run already decoded or found bad (their files unchanged)."""
        return self.state != PENDING

    def record_checks(self, checks: Sequence[Any]) -> None:
        """Take the structural pass's verdicts (``FileCheck`` per row, ``None`` for rows not
        checked): header facts for good rows, ``BAD`` with the reason for the others."""
        with self._lock:
            for r, c in enumerate(checks):
                if c is None:
                    continue
                if c.ok:
                    self.sizes[r] = c.width, c.height
                    self.modes[r], self.formats[r] = c.mode, c.format
                elif self.state[r] == PENDING:
                    self.state[r] = HEADER_BAD
                    self.reasons[r] = c.reason
                    self._pending -= 1

    def cached_check(self, r: int, path: str, label: int, split: str) -> Any:
        """The ``FileCheck`` an earlier run established for row ``r``."""
        from cnntui.core.data.check import FileCheck

        if self.state[r] in (BAD, HEADER_BAD):
            return FileCheck(path, label, split, reason=self.reasons.get(r, "unreadable"))
        w, h = (int(v) for v in self.sizes[r])
        return FileCheck(path, label, split, "", w, h, str(self.modes[r]), str(self.formats[r]))

    # --- use ----------------------------------------------------------------------------
    def ensure(self, rows: np.ndarray) -> np.ndarray:
        """Decode the pending ones among ``rows``; return which of ``rows`` are usable."""
        for r in rows[self.state[rows] == PENDING]:
            arr, reason = try_load_image_uint8(self.paths[r], self.pre)  # never raises
            if arr is not None:
                self.pixels[r] = arr
            with self._lock:
                if self.state[r] != PENDING:
                    continue
                self.state[r] = OK if arr is not None else BAD
                self._pending -= 1
                if arr is None:
                    self.reasons[int(r)] = reason
            if arr is None and self.skip_log is not None:
                self.skip_log.add(self.paths[r], reason)
        if self.folder is not None:
            if self._pending == 0 and not self._saved_complete:
                self._save_in_background(wait=True)
            elif time.monotonic() - self._last_save > SAVE_EVERY_S:
                self._save_in_background(wait=False)
        return self.state[rows] == OK

    def _save_in_background(self, *, wait: bool) -> None:
        """:meth:`save` on its own thread, so the batch that completes the epoch (and the
        flush of every pixel written in it) does not wait for the disk. ``wait=True``: the
        save that records every row (queued once, after any save under way); else a
        periodic one, skipped while another is under way."""
        with _SAVING_LOCK:
            if wait:
                if self._saved_complete:
                    return
                self._saved_complete = True
            running = _SAVING.get(self.folder)
            if running is not None and not running.is_alive():
                running = None
            if not wait and running is not None:
                return
            self._last_save = time.monotonic()
            thread = threading.Thread(
                target=self._save_after, args=(running, wait), name="cnntui-cache-save"
            )
            _SAVING[self.folder] = thread
            thread.start()

    def _save_after(self, previous: threading.Thread | None, wait: bool) -> None:
        if previous is not None:
            previous.join()
        try:
            self.save(wait=wait)
        except OSError:  # a later save (or run) writes the index; rows stay pending till then
            with self._lock:
                self._saved_complete = False

    def decode_now(self, rows: Sequence[int], workers: int | None = None) -> np.ndarray:
        """Decode ``rows`` now, in parallel threads (for the fixed-order splits, whose ids
        must be known before they are read); return which are usable."""
        from concurrent.futures import ThreadPoolExecutor

        from cnntui.core.data.check import default_threads

        rows = np.asarray(rows, np.int64)
        chunks = [rows[i : i + 32] for i in range(0, len(rows), 32)]
        with ThreadPoolExecutor(max_workers=workers or default_threads()) as pool:
            list(pool.map(self.ensure, chunks))
        self.save()
        return self.state[rows] == OK

    def save(self, *, wait: bool = True) -> None:
        """Flush the pixels, then write the index atomically (disk stores only). Saves are
        serialised, each with a snapshot taken inside the lock, so an older snapshot never
        replaces a newer one; ``wait=False`` skips the save if another is under way."""
        if self.folder is None:
            return
        if not self._save_lock.acquire(blocking=wait):
            return
        try:
            with self._lock:
                state = self.state.copy()
                reasons = dict(self.reasons)
                self._last_save = time.monotonic()
                complete = self._pending == 0
            if isinstance(self.pixels, np.memmap):
                self.pixels.flush()
            rows = np.array(sorted(reasons), np.int64)
            texts = np.array([reasons[r] for r in rows] or [""], str)[: len(rows)]
            buf = io.BytesIO()
            np.savez(
                buf, state=state, stats=self.stats, bad_rows=rows, bad_reasons=texts,
                sizes=self.sizes, modes=self.modes, formats=self.formats,
            )  # fmt: skip
            atomic_write_bytes(self.folder / "index.npz", buf.getvalue())
            if complete:
                self._saved_complete = True
        finally:
            self._save_lock.release()

    @property
    def complete(self) -> bool:
        return self._pending == 0

    def describe(self) -> dict[str, Any]:
        """What the cache did, for the run's config and the begin line."""
        return {
            "mode": "disk" if self.folder is not None else "memory",
            "path": str(self.folder) if self.folder is not None else None,
            "images": len(self.paths),
            "reused": self.reused,  # rows already decoded (or found bad) by an earlier run
            "bytes": int(self.pixels.nbytes),
        }


def _allocate(path: Path, nbytes: int) -> None:
    """Create ``path`` with ``nbytes`` reserved on disk (so a full disk fails here, not as a
    bus error when a mapped page is first written), then move it into place."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        if nbytes:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(fh.fileno(), 0, nbytes)
            else:
                fh.truncate(nbytes)
    os.replace(tmp, path)


def cache_line(info: dict[str, Any] | None) -> str:
    """One line for the begin of a run: whether the decoded-image cache was used."""
    if not info:
        return "decoded-image cache: off (images decoded every epoch)"
    if info["mode"] == "memory":
        return f"decoded-image cache: in memory ({info['images']} images decoded in epoch 1)"
    n, reused = info["images"], info["reused"]
    if reused == n:
        what = f"all {n} images already decoded"
    elif reused:
        what = f"{reused} of {n} images already decoded, the rest in epoch 1"
    else:
        what = f"new, {n} images decoded in epoch 1"
    return f"decoded-image cache: {what} ({info['path']})"


def list_entries() -> list[dict[str, Any]]:
    """The disk cache's entries: key, source, images, decoded, bytes on disk, last used."""
    wait_for_saves()
    root = decoded_root()
    if root is None or not root.is_dir():
        return []
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            meta = {}
        decoded = bad = 0
        try:
            with np.load(folder / "index.npz", allow_pickle=False) as d:
                decoded, bad = int((d["state"] == OK).sum()), int((d["state"] >= BAD).sum())
        except (OSError, ValueError, KeyError):
            pass
        size = sum(f.stat().st_blocks * 512 for f in folder.iterdir() if f.is_file())
        out.append({
            "key": folder.name, "path": str(folder), "source": meta.get("source", "?"),
            "images": meta.get("images", 0), "shape": meta.get("shape"), "decoded": decoded,
            "bad": bad, "bytes": size, "used": meta.get("used"),
        })  # fmt: skip
    return out


def clear_entries(keys: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Delete the given entries (all without ``keys``); return what was removed. An unknown
    key raises ``KeyError`` before anything is deleted."""
    entries = list_entries()
    if keys:
        by_key = {e["key"]: e for e in entries}
        unknown = [k for k in keys if not any(e.startswith(k) for e in by_key)]
        if unknown:
            raise KeyError(", ".join(unknown))
        entries = [e for e in entries if any(e["key"].startswith(k) for k in keys)]
    for e in entries:
        shutil.rmtree(e["path"], ignore_errors=True)
    return entries
