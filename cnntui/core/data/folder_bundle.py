"""A :class:`DataBundle` from an image folder: scan, check, split, stream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.arrays import encode_labels, split_indices
from cnntui.core.data.augment import build_augmenter, describe, parse_augment
from cnntui.core.data.bundle import LABEL_MODES, DataBundle, _preprocessing
from cnntui.core.data.check import FileCheck, check_files
from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import FolderScan, scan_folder
from cnntui.core.data.inspect import folder_report
from cnntui.core.data.pipeline import SkipLog, default_cache_budget, file_dataset


def _limited(scan: FolderScan, limit: int | None, seed: int) -> dict[str, list[tuple[str, int]]]:
    """At most ``limit`` files in all, shared between splits in proportion, seeded."""
    total = sum(len(fs) for fs in scan.files.values())
    if not limit or limit >= total:
        return scan.files
    rng = np.random.default_rng(seed)
    out = {}
    for split, fs in scan.files.items():
        n = max(1, round(limit * len(fs) / total))
        keep = np.sort(rng.permutation(len(fs))[:n])
        out[split] = [fs[i] for i in keep]
    return out


def load_folder(
    root: str | Path,
    *,
    input_shape: Sequence[int] | None = None,
    label_mode: str = "int",
    batch_size: int = 32,
    val_split: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    augment: Sequence[str] | str | None = None,
    resize_mode: str = "stretch",
    color_mode: str | None = None,
    cache_budget_bytes: int | None = None,
    on_skip: Callable[[str, str], Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DataBundle:
    """See :func:`cnntui.core.data.load_data`."""
    if label_mode not in LABEL_MODES:
        raise DataError(f"label mode must be one of {LABEL_MODES}; got {label_mode!r}")
    if not 0.0 <= val_split < 1.0:
        raise DataError(f"validation split must be in [0, 1); got {val_split}")
    spec = parse_augment(augment)
    scan = scan_folder(root)
    k = len(scan.class_names)
    if label_mode == "binary" and k != 2:
        raise DataError(f"binary labels need exactly 2 classes; {scan.root} has {k}")
    files = _limited(scan, limit, seed)
    items = [(p, label, split) for split, fs in files.items() for p, label in fs]
    checks = check_files(items, on_progress=on_progress)
    report = folder_report(scan, checks)
    skipped = [{"path": r.path, "reason": r.reason} for r in checks if not r.ok]
    if on_skip:
        for s in skipped:
            on_skip(s["path"], s["reason"])
    good: dict[str, list[FileCheck]] = {s: [] for s in files}
    for r in checks:
        if r.ok:
            good[r.split].append(r)
    if not good["train"]:
        first = skipped[0] if skipped else {"path": str(scan.root), "reason": "no files"}
        raise DataError(
            f"none of the {len(files['train'])} training files in {scan.root} is a readable "
            f"image (first: {first['path']}: {first['reason']})"
        )
    suggested = report.get("suggested", {})
    pre = _preprocessing(
        input_shape,
        suggested.get("image_size", (128, 128)),
        suggested.get("color_mode", "rgb"),
        resize_mode,
        color_mode,
    )
    parts: dict[str, list[FileCheck]] = {"train": good["train"]}
    if "val" in good:
        parts["val"] = good["val"]
    elif val_split > 0:
        tr, va = split_indices(len(good["train"]), val_split, seed)
        parts = {"train": [good["train"][i] for i in tr], "val": [good["train"][i] for i in va]}
    if "test" in good:
        parts["test"] = good["test"]
    h, w = pre.image_size
    per_image = h * w * pre.channels
    budget = default_cache_budget() if cache_budget_bytes is None else cache_budget_bytes
    cached_bytes = per_image * (len(parts["train"]) + len(parts.get("val", [])))
    cache = cached_bytes <= budget
    log = SkipLog(skipped, on_skip)
    augmenter = build_augmenter(spec, seed) if spec else None
    datasets: dict[str, Any] = {}
    for split, rs in parts.items():
        if not rs:
            continue
        y = encode_labels(np.array([r.label for r in rs], dtype=np.int32), label_mode, k)
        datasets[split] = file_dataset(
            [r.path for r in rs], y, pre, batch_size, shuffle=split == "train", seed=seed,
            cache=cache and split != "test", skip_log=log,
            augmenter=augmenter if split == "train" else None,
        )  # fmt: skip
    warnings = list(report["warnings"])
    if not cache:
        warnings.append(
            f"decoded images ({cached_bytes / 2**20:.0f} MiB) exceed the cache budget "
            f"({budget / 2**20:.0f} MiB): images are decoded again every epoch"
        )
    return DataBundle(
        source=str(scan.root), class_names=list(scan.class_names), preprocessing=pre,
        label_mode=label_mode, batch_size=batch_size, train=datasets["train"],
        val=datasets.get("val"), test=datasets.get("test"),
        counts={s: len(rs) for s, rs in parts.items()}, skipped=skipped,
        augment=describe(spec), val_split=val_split if "val" not in good else None, seed=seed,
        kind="folder", layout=scan.layout, cached=cache, check=report, warnings=warnings,
    )  # fmt: skip
