"""The check pass: decode every candidate file once, in parallel, before any training.

Unreadable files (truncated or corrupt, zero bytes, text named ``.jpg``, unsupported
formats) come back as ``bad`` with a reason; the rest with their size, mode and format.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from cnntui.core.images import ImageReadError, Preprocessing, load_image_checked, probe_image


@dataclass(frozen=True)
class FileCheck:
    """One file's verdict: ``reason`` is empty for a usable image."""

    path: str
    label: int
    split: str
    reason: str = ""
    width: int = 0
    height: int = 0
    mode: str = ""
    format: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def _check_one(
    path: str, label: int, split: str, pre: Preprocessing | None, out: np.ndarray | None, i: int
) -> FileCheck:
    try:
        if out is None:
            info = probe_image(path)
        else:
            out[i], info = load_image_checked(path, pre)
    except ImageReadError as exc:
        return FileCheck(path, label, split, reason=exc.reason)
    except Exception as exc:  # noqa: BLE001 - one odd file must never stop the pass
        return FileCheck(path, label, split, reason=f"cannot read ({type(exc).__name__}: {exc})")
    return FileCheck(path, label, split, "", info.width, info.height, info.mode, info.format)


def check_files(
    items: Sequence[tuple[str, int, str]],
    *,
    pre: Preprocessing | None = None,
    out: np.ndarray | None = None,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[FileCheck]:
    """Check ``(path, label, split)`` items in parallel threads (Pillow decodes without the
    GIL); results keep the input order. With ``pre`` and ``out`` (uint8 (N, h, w, c)), the
    check *is* the decode: ``out[i]`` receives item i's preprocessed pixels."""
    total = len(items)
    workers = workers or min(16, 2 * (os.cpu_count() or 1))
    results: list[FileCheck] = []

    def one(i: int) -> FileCheck:
        return _check_one(*items[i], pre, out, i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, result in enumerate(pool.map(one, range(total), chunksize=16)):
            results.append(result)
            if on_progress and ((i + 1) % 256 == 0 or i + 1 == total):
                on_progress(i + 1, total)
    return results


def bad_files(results: Sequence[FileCheck]) -> list[dict[str, str]]:
    """``[{"path", "reason"}]`` for the unreadable files."""
    return [{"path": r.path, "reason": r.reason} for r in results if not r.ok]
