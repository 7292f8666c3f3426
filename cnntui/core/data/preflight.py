"""A training request's data, checked before its run exists, so a mistake in it makes no
run (exit 2) and is said once: the augmentation names, a folder's layout and classes, an
``.npz`` file's arrays, and a Keras dataset in Keras's cache (else downloaded by Keras now;
offline, the error says how to put the files in place by hand)."""

from __future__ import annotations

from collections.abc import Sequence

from cnntui.core.data import keras_datasets
from cnntui.core.data.array_sources import check_npz_names
from cnntui.core.data.augment import parse_augment
from cnntui.core.data.errors import DataError
from cnntui.core.data.sources import Source, classify_source


def check_training_data(source: str | None, augment: Sequence[str] | str | None = ()) -> Source:
    """Raise :class:`DataError` for data a run could not train on; the classified source.

    No Keras unless a Keras dataset is not in Keras's cache yet (it is fetched then)."""
    parse_augment(augment)
    src = classify_source(source)
    if src.kind == "folder":
        from cnntui.core.data.folders import scan_folder

        scan_folder(src.path)  # a layout or class mistake, before any image is read
    elif src.kind == "npz":
        _check_npz(src)
    elif src.kind == "keras" and not in_keras_cache(src.name):
        keras_datasets.load_keras_dataset(src.name)  # Keras's download; offline: DataError
    return src


def in_keras_cache(name: str) -> bool:
    """Whether every file of Keras dataset ``name`` is in Keras's datasets folder."""
    where = keras_datasets.keras_datasets_dir()
    return all((where / dest).exists() for _, dest in keras_datasets.MANUAL_FILES.get(name, []))


def _check_npz(src: Source) -> None:
    """An ``.npz`` file that opens and names x and y (its arrays are not read)."""
    import numpy as np

    try:
        with np.load(src.path, allow_pickle=False) as arrays:
            names = list(arrays.files)
    except Exception as exc:  # noqa: BLE001 - a broken file is the user's to fix
        raise DataError(f"{src.path}: cannot read as .npz ({exc})") from None
    check_npz_names(src.path, names)
