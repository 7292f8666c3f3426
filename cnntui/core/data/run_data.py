"""The data a run was trained and judged on: its recorded source, seed, validation split and
limit loaded again (``load_run_data``), and the labelled split to judge it on (``load_split``).
"""

from __future__ import annotations

from typing import Any

from cnntui.core.data.bundle import load_data
from cnntui.core.data.contract import DataOptions
from cnntui.core.data.errors import DataError

SPLITS = ("test", "val")


def _bundle_ids(bundle: Any, split: str) -> list[str] | None:
    found = bundle.ids.get(split)  # every DataBundle has ids (val/test: one per example)
    return None if found is None else [str(i) for i in found]


def load_run_data(
    config: dict[str, Any], data: str | None = None, split: str = "test", limit: int | None = None
) -> tuple[Any, str, Any, list[str]]:
    """The run's data loaded as training loaded it: ``(bundle, source, DataOptions, notes)``.

    Without ``data``: the recorded source, seed, validation split and limit (so ``val`` is
    the split training held out and ``train`` the one it learned from, unaugmented).
    """
    d = config.get("data") if isinstance(config.get("data"), dict) else {}
    source = data or d.get("source") or "sample"
    notes: list[str] = []
    options = DataOptions.from_config(config).with_(augment=None)
    if config.get("input_shape"):  # the model's input decides, as when it was trained
        options = options.with_(input_shape=tuple(config["input_shape"]))
    if data is None:
        options = options.with_(limit=limit or options.limit)
    else:
        options = options.with_(
            val_split=(options.val_split or 0.1) if split == "val" else 0.0, limit=limit
        )
    rec = d.get("preprocessing")
    bundle = load_data(source, options)
    if isinstance(rec, dict) and bundle.preprocessing.to_dict() != rec:
        notes.append(
            f"data preprocessing {bundle.preprocessing.to_dict()} differs from the "
            f"run's recorded {rec}"
        )
    skipped = bundle.skipped
    if skipped:
        first = skipped[0]
        notes.append(
            f"{len(skipped)} unreadable file(s) left out, e.g. {first['path']}: {first['reason']}"
        )
    return bundle, source, options, notes


def load_split(
    config: dict[str, Any], data: str | None = None, split: str = "test", limit: int | None = None
) -> tuple[Any, str, str, list[str] | None, list[str]]:
    """The labelled dataset to evaluate on: ``(dataset, source, split, ids, notes)``.

    Without ``data``, the run's recorded source is loaded with its recorded seed, validation
    split and limit, so ``val`` is exactly the split training held out; ``test`` is the
    source's own test set when it has one, else that same validation split.
    """
    if split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    bundle, source, options, notes = load_run_data(config, data, split, limit)
    if split == "test" and bundle.test is not None:
        return bundle.test, source, "test", _bundle_ids(bundle, "test"), notes
    if data is not None and split == "test":
        notes.append(
            f"{source} has no test split: evaluating on all of it, in shuffled order, so "
            "examples are numbered, not named (a test/ folder or test arrays name them)"
        )
        return bundle.train, source, "all", _bundle_ids(bundle, "train"), notes
    if bundle.val is None:
        raise DataError(
            f"{source} gave no validation split (val_split {options.val_split}); "
            "evaluate on other data with --data SOURCE"
        )
    if split == "test":
        notes.append(f"{source} has no test split: using the validation split training held out")
    return bundle.val, source, "val", _bundle_ids(bundle, "val"), notes
