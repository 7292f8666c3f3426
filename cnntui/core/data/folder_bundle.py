"""A :class:`DataBundle` from an image folder: scan, check, split, stream."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.arrays import encode_labels, split_indices
from cnntui.core.data.augment import build_augmenter, describe, parse_augment
from cnntui.core.data.check import check_files
from cnntui.core.data.contract import DataBundle, DataOptions, resolve_preprocessing
from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import FolderScan, scan_folder
from cnntui.core.data.inspect import folder_report, suggest_color_mode, suggest_image_size
from cnntui.core.data.pipeline import SkipLog, array_dataset, default_cache_budget, file_dataset
from cnntui.core.images import peek_image


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


def _suggest_from_headers(
    items: list[tuple[str, int, str]], seed: int, sample: int = 5000
) -> tuple[tuple[int, int], str]:
    """Target size and colour suggested by the headers of (a seeded sample of) the files."""
    order = np.random.default_rng(seed).permutation(len(items))[:sample]
    infos = [peek_image(items[i][0]) for i in order]
    shapes = Counter((i.height, i.width) for i in infos if i)
    if not shapes:
        return (128, 128), "rgb"
    modes = Counter(i.mode for i in infos if i)
    return suggest_image_size(shapes.most_common(1)[0][0]), suggest_color_mode(modes)


def load_folder(
    root: str | Path,
    options: DataOptions | None = None,
    *,
    on_skip: Callable[[str, str], Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DataBundle:
    """See :func:`cnntui.core.data.load_data`."""
    opts = options or DataOptions()
    input_shape, label_mode, batch_size = opts.input_shape, opts.label_mode, opts.batch_size
    val_split, seed, limit = opts.val_split, opts.seed, opts.limit
    if not 0.0 <= val_split < 1.0:
        raise DataError(f"validation split must be in [0, 1); got {val_split}")
    spec = parse_augment(opts.augment)
    scan = scan_folder(root)
    k = len(scan.class_names)
    if label_mode == "binary" and k != 2:
        raise DataError(f"binary labels need exactly 2 classes; {scan.root} has {k}")
    files = _limited(scan, limit, seed)
    items = [(p, label, split) for split, fs in files.items() for p, label in fs]
    if input_shape is None:
        native_size, native_color = _suggest_from_headers(items, seed)
    else:
        native_size, native_color = (128, 128), "rgb"
    pre = resolve_preprocessing(
        input_shape, native_size, native_color, opts.resize_mode, opts.color_mode
    )
    h, w = pre.image_size
    per_image = h * w * pre.channels
    budget = default_cache_budget() if opts.cache_budget_bytes is None else opts.cache_budget_bytes
    cached_bytes = per_image * len(items)  # shuffling moves indices, not images
    cache = cached_bytes <= budget
    # When the decoded images fit the budget, the check pass decodes them once into memory;
    # otherwise it only proves every file readable and the pipeline streams from disk.
    pixels = np.empty((len(items), h, w, pre.channels), np.uint8) if cache else None
    checks = check_files(items, pre=pre, out=pixels, on_progress=on_progress)
    report = folder_report(scan, checks)
    skipped = [{"path": r.path, "reason": r.reason} for r in checks if not r.ok]
    if on_skip:
        for s in skipped:
            on_skip(s["path"], s["reason"])
    good: dict[str, list[int]] = {s: [] for s in files}
    for i, r in enumerate(checks):
        if r.ok:
            good[r.split].append(i)
    if not good["train"]:
        first = skipped[0] if skipped else {"path": str(scan.root), "reason": "no files"}
        raise DataError(
            f"none of the {len(files['train'])} training files in {scan.root} is a readable "
            f"image (first: {first['path']}: {first['reason']})"
        )
    parts: dict[str, list[int]] = {"train": good["train"]}
    if "val" in good:
        parts["val"] = good["val"]
    elif val_split > 0:
        tr, va = split_indices(len(good["train"]), val_split, seed)
        parts = {"train": [good["train"][i] for i in tr], "val": [good["train"][i] for i in va]}
    if "test" in good:
        parts["test"] = good["test"]
    log = SkipLog(skipped, on_skip)
    augmenter = build_augmenter(spec, seed) if spec else None
    datasets: dict[str, Any] = {}
    for split, idx in parts.items():
        if not idx:
            continue
        y = encode_labels(np.array([checks[i].label for i in idx], dtype=np.int32), label_mode, k)
        aug = augmenter if split == "train" else None
        train = split == "train"
        if pixels is not None:
            datasets[split] = array_dataset(
                pixels, y, pre, batch_size, shuffle=train, seed=seed, augmenter=aug, rows=idx
            )
        else:
            datasets[split] = file_dataset(
                [checks[i].path for i in idx], y, pre, batch_size, shuffle=train, seed=seed,
                skip_log=log, augmenter=aug,
            )  # fmt: skip
    del pixels
    warnings = list(report["warnings"])
    if not cache:
        warnings.append(
            f"decoded images (~{cached_bytes / 2**20:.0f} MiB) exceed the cache "
            f"budget ({budget / 2**20:.0f} MiB): images are decoded again every epoch"
        )
    return DataBundle(
        source=str(scan.root), class_names=list(scan.class_names), preprocessing=pre,
        label_mode=label_mode, batch_size=batch_size, train=datasets["train"],
        val=datasets.get("val"), test=datasets.get("test"),
        counts={s: len(ix) for s, ix in parts.items()}, skipped=skipped,
        augment=describe(spec), val_split=val_split if "val" not in good else None, seed=seed,
        kind="folder", layout=scan.layout, cached=cache, check=report, warnings=warnings,
        ids={s: [checks[i].path for i in ix] for s, ix in parts.items() if s != "train"},
        options=opts,
    )  # fmt: skip
