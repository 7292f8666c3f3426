"""``cnntui data split``: a class-layout folder written as ``train/val/test/<class>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.errors import DataError
from cnntui.core.data.folders import scan_folder
from cnntui.core.data.linkdir import check_destination, write_linked


def split_counts(n: int, val: float, test: float) -> tuple[int, int, int]:
    """(train, val, test) for ``n`` files of one class: rounded, train keeps at least one."""
    n_val, n_test = round(n * val), round(n * test)
    while n_val + n_test >= n and (n_val or n_test):
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def split_folder(
    source: str | Path,
    dst: str | Path,
    *,
    val: float = 0.2,
    test: float = 0.1,
    seed: int = 0,
    copy: bool = False,
) -> dict[str, Any]:
    """Write ``dst/train|val|test/<class>/…`` from the class folders of ``source``, stratified
    by class (each class split in the same proportions, seeded). Raise :class:`DataError`
    before writing anything for a bad fraction, a split-layout source or a non-empty ``dst``."""
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise DataError(f"--val and --test must be in [0, 1) with a sum below 1; got {val}, {test}")
    scan = scan_folder(source)
    if scan.layout != "classes":
        raise DataError(
            f"{scan.root} is already split into {', '.join(scan.split_dirs)}; data split takes "
            "a folder with one sub-folder per class"
        )
    out = check_destination(dst, scan.root)
    rng = np.random.default_rng(seed)
    pairs: list[tuple[str, str]] = []
    counts: dict[str, dict[str, int]] = {s: {} for s in ("train", "val", "test")}
    for label, name in enumerate(scan.class_names):
        files = sorted(p for p, lab in scan.files["train"] if lab == label)
        order = rng.permutation(len(files))
        n_train, n_val, _ = split_counts(len(files), val, test)
        for rank, i in enumerate(order):
            split = "train" if rank < n_train else "val" if rank < n_train + n_val else "test"
            rel = Path(files[i]).relative_to(scan.root / name)
            pairs.append((files[i], str(Path(split) / name / rel)))
            counts[split][name] = counts[split].get(name, 0) + 1
    for split in counts:
        counts[split] = {n: counts[split].get(n, 0) for n in scan.class_names}
    if not any(counts["test"].values()):
        del counts["test"]
    if not any(counts["val"].values()):
        del counts["val"]
    dirs = [f"{split}/{name}" for split in counts for name in scan.class_names]
    how = write_linked(out, pairs, copy=copy, dirs=dirs)
    return {
        "source": str(scan.root), "destination": str(out), "seed": seed, "val": val,
        "test": test, "how": how, "counts": counts,
        "images": {s: sum(c.values()) for s, c in counts.items()},
    }  # fmt: skip
