"""A :class:`DataBundle` from an image folder: scan, structural pass, split, decode once.

The structural pass reads headers only; the full decode happens once, in epoch 1, into a
:class:`~cnntui.core.data.cache.DecodedStore` (on disk in the user cache folder by default,
in memory when the disk cache is off and the pixels fit the budget) that later epochs and
later runs read. With neither, every epoch streams from the files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.arrays import encode_labels, split_indices
from cnntui.core.data.augment import build_augmenter, describe, parse_augment
from cnntui.core.data.cache import DecodedStore, decoded_root, default_cache_budget
from cnntui.core.data.check import FileCheck, check_files
from cnntui.core.data.contract import DataBundle, DataOptions, resolve_preprocessing
from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import FolderScan, scan_folder
from cnntui.core.data.inspect import folder_report
from cnntui.core.data.pipeline import SkipLog
from cnntui.core.data.py_pipeline import pipeline_kind, pipelines
from cnntui.core.images import Preprocessing


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


def _open_store(
    paths: list[str], pre: Preprocessing, opts: DataOptions, source: str
) -> tuple[DecodedStore | None, list[str]]:
    """The decoded-image store for ``paths`` (disk, else memory if it fits), or None."""
    warnings: list[str] = []
    root = decoded_root()
    if root is not None:
        try:
            return DecodedStore.on_disk(paths, pre, root, source), warnings
        except OSError as exc:
            warnings.append(f"decoded-image cache unavailable in {root} ({exc})")
    budget = default_cache_budget() if opts.cache_budget_bytes is None else opts.cache_budget_bytes
    need = len(paths) * int(np.prod(pre.input_shape))
    if need <= budget:
        return DecodedStore.in_memory(paths, pre), warnings
    warnings.append(
        f"decoded images (~{need / 2**20:.0f} MiB) exceed the memory budget "
        f"({budget / 2**20:.0f} MiB) and the disk cache is off: images are decoded every epoch"
    )
    return None, warnings


def _structural_pass(
    items: list[tuple[str, int, str]],
    store: DecodedStore | None,
    checks: list[FileCheck | None],
    on_progress: Callable[[int, int], None] | None,
) -> list[FileCheck]:
    """Fill ``checks``: rows the store already knows (unchanged files) from it, the rest by
    reading their headers now; the store records the new verdicts."""
    known = store.known() if store is not None else np.zeros(len(items), bool)
    todo = [i for i in range(len(items)) if checks[i] is None and not known[i]]
    for i, c in zip(todo, check_files([items[i] for i in todo], on_progress=on_progress),
                    strict=True):  # fmt: skip
        checks[i] = c
    if store is not None:
        store.record_checks([None if known[i] else c for i, c in enumerate(checks)])
        for i in np.flatnonzero(known):
            checks[i] = store.cached_check(int(i), *items[i])
    return checks  # type: ignore[return-value]


def _split(
    scan: FolderScan,
    files: dict[str, list[tuple[str, int]]],
    checks: list[FileCheck],
    late_bad: set[int],
    skipped: list[dict[str, str]],
    val_split: float,
    seed: int,
) -> tuple[dict[str, list[int]], bool]:
    """Item indices per split, and whether the folder has its own val split. Files an earlier
    epoch 1 could not decode take part in the split (as they did in that run), then drop
    out, so the train/val split does not move between runs."""
    good: dict[str, list[int]] = {s: [] for s in files}
    for i, r in enumerate(checks):
        if r.ok or i in late_bad:
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
    parts = {split: [i for i in idx if i not in late_bad] for split, idx in parts.items()}
    if not parts["train"]:
        raise DataError(
            f"none of the {len(files['train'])} training files in {scan.root} could be decoded "
            f"(see `cnntui data inspect {scan.root}`)"
        )
    return parts, "val" in good


def _attach_store(store: DecodedStore, log: SkipLog, parts: dict[str, list[int]]) -> None:
    """Give the decoded-image store the skip log and the training rows; decode the val and
    test rows now (so their ids are exact) and drop the ones that fail."""
    store.skip_log = log
    store.train_rows = np.asarray(parts["train"], np.int64)
    for split in ("val", "test"):
        if parts.get(split):
            ok = store.decode_now(parts[split])
            parts[split] = [i for i, keep in zip(parts[split], ok, strict=True) if keep]


def _datasets(
    parts: dict[str, list[int]],
    checks: list[FileCheck],
    store: DecodedStore | None,
    pre: Preprocessing,
    opts: DataOptions,
    k: int,
    augmenter: Any,
    log: SkipLog,
    kind: str,
) -> dict[str, Any]:
    """One pipeline per non-empty split: from the decoded store, else streamed from files
    (``tf.data``, or PyDataset threads on another backend); augmented for training only."""
    build = pipelines(kind)
    datasets: dict[str, Any] = {}
    for split, idx in parts.items():
        if not idx:
            continue
        labels = np.array([checks[i].label for i in idx], dtype=np.int32)
        y = encode_labels(labels, opts.label_mode, k)
        train = split == "train"
        aug = augmenter if train else None
        if store is not None:
            datasets[split] = build.store_dataset(
                store, idx, y, opts.batch_size, shuffle=train, seed=opts.seed, augmenter=aug
            )
        else:
            datasets[split] = build.file_dataset(
                [checks[i].path for i in idx], y, pre, opts.batch_size, shuffle=train,
                seed=opts.seed, skip_log=log, augmenter=aug,
            )  # fmt: skip
    return datasets


def load_folder(
    root: str | Path,
    options: DataOptions | None = None,
    *,
    on_skip: Callable[[str, str], Any] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> DataBundle:
    """See :func:`cnntui.core.data.load_data`."""
    opts = options or DataOptions()
    label_mode, batch_size, val_split, seed = (
        opts.label_mode, opts.batch_size, opts.val_split, opts.seed
    )  # fmt: skip
    if not 0.0 <= val_split < 1.0:
        raise DataError(f"validation split must be in [0, 1); got {val_split}")
    spec = parse_augment(opts.augment)
    scan = scan_folder(root)
    k = len(scan.class_names)
    if label_mode == "binary" and k != 2:
        raise DataError(f"binary labels need exactly 2 classes; {scan.root} has {k}")
    files = _limited(scan, opts.limit, seed)
    items = [(p, label, split) for split, fs in files.items() for p, label in fs]
    paths = [p for p, _, _ in items]
    checks: list[FileCheck | None] = [None] * len(items)
    if opts.input_shape is None:  # the size comes from the headers: read them all first
        _structural_pass(items, None, checks, on_progress)
        suggested = folder_report(scan, checks).get("suggested") or {}
    else:  # the model fixes the size: a later run reads only headers of changed files
        suggested = {}
    pre = resolve_preprocessing(
        opts.input_shape, suggested.get("image_size", (128, 128)),
        suggested.get("color_mode", "rgb"), opts.resize_mode, opts.color_mode, opts.rescale,
    )  # fmt: skip
    store, cache_warnings = _open_store(paths, pre, opts, str(scan.root))
    checks = _structural_pass(items, store, checks, on_progress)
    report = folder_report(scan, checks)
    skipped = [{"path": r.path, "reason": r.reason} for r in checks if not r.ok]
    if on_skip:
        for s in skipped:
            on_skip(s["path"], s["reason"])
    late_bad = store.failed_decode() if store is not None else set()
    parts, own_val = _split(scan, files, checks, late_bad, skipped, val_split, seed)
    log = SkipLog(skipped, on_skip)
    if store is not None:
        _attach_store(store, log, parts)
    augmenter = build_augmenter(spec, seed) if spec else None
    kind = pipeline_kind(opts.pipeline)
    datasets = _datasets(parts, checks, store, pre, opts, k, augmenter, log, kind)
    return DataBundle(
        source=str(scan.root), class_names=list(scan.class_names), preprocessing=pre,
        label_mode=label_mode, batch_size=batch_size, train=datasets["train"],
        val=datasets.get("val"), test=datasets.get("test"),
        counts={s: len(ix) for s, ix in parts.items()}, skipped=skipped,
        augment=describe(spec), val_split=None if own_val else val_split, seed=seed,
        kind="folder", layout=scan.layout, cached=store is not None, check=report,
        warnings=list(report["warnings"]) + cache_warnings,
        ids={s: [checks[i].path for i in ix] for s, ix in parts.items() if s != "train"},
        options=opts, cache=store.describe() if store is not None else None,
        store=store, pipeline=kind,
    )  # fmt: skip
