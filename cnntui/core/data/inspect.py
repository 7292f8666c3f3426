"""Inspection of a data source: counts, sizes, modes, formats, bad files, sample previews.

Returns plain dicts (JSON-ready) so the CLI and the TUI only format them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.array_sources import read_arrays
from cnntui.core.data.arrays import as_uint8_images
from cnntui.core.data.check import FileCheck, bad_files, check_files
from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import FolderScan, scan_folder
from cnntui.core.data.sources import classify_source

IMBALANCE_RATIO = 1.5
SUGGEST_MAX_SIDE = 128
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def suggest_image_size(shape: Sequence[int], max_side: int = SUGGEST_MAX_SIDE) -> tuple[int, int]:
    """The most common (height, width), scaled down (keeping aspect) to ``max_side`` at most."""
    h, w = int(shape[0]), int(shape[1])
    factor = min(1.0, max_side / max(h, w, 1))
    return max(8, round(h * factor)), max(8, round(w * factor))


def suggest_color_mode(modes: Counter) -> str:
    """``grayscale`` when every readable image is single-channel, else ``rgb``."""
    return "grayscale" if modes and all(m in GRAY_MODES for m in modes) else "rgb"


def imbalance_warnings(split: str, classes: dict[str, int]) -> list[str]:
    """A warning when the largest class has over 1.5 times the images of the smallest."""
    if len(classes) < 2:
        return []
    (small, n_small), (big, n_big) = (
        min(classes.items(), key=lambda kv: kv[1]),
        max(classes.items(), key=lambda kv: kv[1]),
    )
    if n_small == 0:
        return [f"{split}: class {small!r} has no usable images"]
    if n_big / n_small > IMBALANCE_RATIO:
        return [
            f"{split}: classes are imbalanced: {big!r} has {n_big} images, {small!r} has "
            f"{n_small} ({n_big / n_small:.1f}x); consider class weights or more data"
        ]
    return []


def _size_summary(shapes: Counter, top: int = 8) -> dict[str, Any]:
    if not shapes:
        return {"most_common": None, "histogram": [], "distinct": 0}
    hist = [{"height": h, "width": w, "count": n} for (h, w), n in shapes.most_common(top)]
    rest = sum(shapes.values()) - sum(e["count"] for e in hist)
    heights = np.repeat([h for h, _ in shapes], list(shapes.values()))
    widths = np.repeat([w for _, w in shapes], list(shapes.values()))
    return {
        "most_common": list(shapes.most_common(1)[0][0]),
        "histogram": hist,
        "other": rest,
        "distinct": len(shapes),
        "height": {"min": int(heights.min()), "median": float(np.median(heights)),
                   "max": int(heights.max())},
        "width": {"min": int(widths.min()), "median": float(np.median(widths)),
                  "max": int(widths.max())},
    }  # fmt: skip


def folder_report(scan: FolderScan, checks: Sequence[FileCheck]) -> dict[str, Any]:
    """The inspection dict of a checked folder."""
    names = scan.class_names
    splits: dict[str, Any] = {}
    warnings = list(scan.warnings)
    shapes: Counter = Counter()
    modes: Counter = Counter()
    formats: Counter = Counter()
    for split in scan.files:
        classes = dict.fromkeys(names, 0)
        bad = 0
        for r in checks:
            if r.split != split:
                continue
            if r.ok:
                classes[names[r.label]] += 1
                shapes[(r.height, r.width)] += 1
                modes[r.mode] += 1
                formats[r.format] += 1
            else:
                bad += 1
        splits[split] = {
            "path": scan.split_dirs.get(split, str(scan.root)),
            "classes": classes,
            "images": sum(classes.values()),
            "bad": bad,
        }
        warnings += imbalance_warnings(split, classes)
    sizes = _size_summary(shapes)
    report: dict[str, Any] = {
        "source": str(scan.root),
        "kind": "folder",
        "layout": scan.layout,
        "class_names": names,
        "splits": splits,
        "images": sum(s["images"] for s in splits.values()),
        "sizes": sizes,
        "color_modes": dict(modes.most_common()),
        "formats": dict(formats.most_common()),
        "bad_files": bad_files(checks),
        "warnings": warnings,
    }
    if sizes["most_common"]:
        report["suggested"] = {
            "image_size": list(suggest_image_size(sizes["most_common"])),
            "color_mode": suggest_color_mode(modes),
        }
    if scan.layout == "classes":
        report["note"] = "one folder per class: train/val are split by --val-split and --seed"
    return report


def arrays_report(
    source: str, kind: str, splits_xy: dict[str, tuple[np.ndarray, np.ndarray]], names: list[str]
) -> dict[str, Any]:
    """The inspection dict of in-memory arrays (sample, Keras datasets, npz)."""
    splits: dict[str, Any] = {}
    warnings: list[str] = []
    for split, (x, y) in splits_xy.items():
        counts = np.bincount(np.asarray(y, dtype=np.int64).reshape(-1), minlength=len(names))
        classes = {names[i]: int(counts[i]) for i in range(len(names))}
        splits[split] = {"classes": classes, "images": int(len(x)), "bad": 0}
        warnings += imbalance_warnings(split, classes)
    x0 = next(iter(splits_xy.values()))[0]
    h, w = int(x0.shape[1]), int(x0.shape[2])
    c = 1 if x0.ndim == 3 else int(x0.shape[-1])
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(c, f"{c} channels")
    total = sum(s["images"] for s in splits.values())
    return {
        "source": source,
        "kind": kind,
        "layout": "arrays",
        "class_names": names,
        "splits": splits,
        "images": total,
        "sizes": _size_summary(Counter({(h, w): total})),
        "color_modes": {mode: total},
        "formats": {f"array {x0.dtype}": total},
        "bad_files": [],
        "warnings": warnings,
        "suggested": {"image_size": [h, w], "color_mode": "grayscale" if c == 1 else "rgb"},
    }


def _folder_samples(checks: Sequence[FileCheck], names: list[str], k: int) -> dict[str, list]:
    picked: dict[str, list] = {n: [] for n in names}
    for r in checks:
        if r.ok and r.split == "train" and len(picked[names[r.label]]) < k:
            picked[names[r.label]].append(r.path)
    return picked


def _array_samples(x: np.ndarray, y: np.ndarray, names: list[str], k: int) -> dict[str, list]:
    y = np.asarray(y).reshape(-1)
    return {n: [x[i] for i in np.flatnonzero(y == j)[:k]] for j, n in enumerate(names)}


def inspect_source(
    source: str | None,
    *,
    samples_per_class: int = 0,
    preview_size: tuple[int, int] = (16, 16),
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Inspect ``source``; with ``samples_per_class``, add ``samples``: class → list of
    ``{"path"?, "pixels"}`` (uint8 grayscale previews of ``preview_size``, not JSON)."""
    from cnntui.core.data.preview import preview_array, preview_file  # only with samples

    src = classify_source(source)
    if src.kind == "folder":
        scan = scan_folder(src.path)
        items = [(p, label, split) for split, fs in scan.files.items() for p, label in fs]
        checks = check_files(items, full=True, on_progress=on_progress)
        report = folder_report(scan, checks)
        if report["images"] == 0:
            raise DataError(
                f"none of the {len(items)} files in {scan.root} is a readable image "
                f"(first: {checks[0].path}: {checks[0].reason})"
            )
        if samples_per_class:
            chosen = _folder_samples(checks, scan.class_names, samples_per_class)
            report["samples"] = {
                n: [{"path": p, "pixels": preview_file(p, preview_size)} for p in ps]
                for n, ps in chosen.items()
            }
        return report
    splits_xy, names = read_arrays(src)
    report = arrays_report(src.name if src.kind != "npz" else str(src.path), src.kind, splits_xy,
                           names)  # fmt: skip
    if samples_per_class:
        x, y = splits_xy["train"]
        x = as_uint8_images(x, src.name)
        chosen = _array_samples(x, y, names, samples_per_class)
        report["samples"] = {
            n: [{"pixels": preview_array(a, preview_size)} for a in arrs]
            for n, arrs in chosen.items()
        }
    return report


def json_ready(report: dict[str, Any]) -> dict[str, Any]:
    """``report`` without preview pixels, sample paths kept."""
    out = dict(report)
    if "samples" in out:
        out["samples"] = {
            n: [s["path"] for s in items if "path" in s] for n, items in out["samples"].items()
        }
    return out


def relative(path: str, root: str | Path) -> str:
    """``path`` relative to ``root`` when inside it (for compact listings)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path
