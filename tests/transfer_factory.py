"""Data for proving fine-tuning offline, with weights cnntui makes itself: the bundled real
digits split by class, 0-4 (all of them) to pretrain a backbone on, 5-9 (a few dozen per
class, the rest as a test set) to fine-tune it on."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1] / "cnntui" / "assets" / "mnist_5k.npz"


def write_transfer_split(folder: Path, per_class: int = 40, seed: int = 0) -> tuple[Path, Path]:
    """``(pretrain.npz, small.npz)`` in ``folder``: digits 0-4 as classes "0".."4"; digits
    5-9, ``per_class`` of each for training (chosen by ``seed``) and every other one as the
    ``x_test``/``y_test`` split, as classes "5".."9"."""
    with np.load(SAMPLE) as d:
        x, y = d["x"], d["y"]
    folder.mkdir(parents=True, exist_ok=True)
    low = y <= 4
    pretrain = folder / "digits-0-4.npz"
    np.savez(pretrain, x=x[low], y=y[low], class_names=np.array([str(k) for k in range(5)]))
    high = np.flatnonzero(~low)
    np.random.default_rng(seed).shuffle(high)
    train = np.concatenate([high[y[high] == k][:per_class] for k in range(5, 10)])
    test = np.setdiff1d(high, train)
    small = folder / f"digits-5-9-{per_class}-seed{seed}.npz"
    np.savez(
        small, x=x[train], y=y[train] - 5, x_test=x[test], y_test=y[test] - 5,
        class_names=np.array([str(k) for k in range(5, 10)]),
    )  # fmt: skip
    return pretrain, small
