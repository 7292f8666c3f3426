"""Pipeline behaviour: augmentation on train only, cache budget, seeds, real training."""

from __future__ import annotations

import numpy as np
import pytest

from cnntui.core.data import DataError, load_data
from cnntui.core.data.augment import parse_augment
from tests.image_factory import write_bad_files, write_digit_folder


def _x(ds) -> np.ndarray:
    return np.concatenate([x.numpy() for x, _ in ds])


def test_augmentation_changes_train_only(tmp_path):
    plain = load_data("sample", limit=64, val_split=0.25, seed=2, batch_size=64)
    aug = load_data(
        "sample", limit=64, val_split=0.25, seed=2, batch_size=64,
        augment=["flip", "rotation=0.2", "zoom", "translation", "contrast"],
    )  # fmt: skip
    assert aug.augment == ["flip", "rotation=0.2", "zoom=0.1", "translation=0.1", "contrast=0.2"]
    np.testing.assert_array_equal(_x(aug.val), _x(plain.val))
    xa = _x(aug.train)
    assert xa.shape == (48, 28, 28, 1) and 0.0 <= xa.min() and xa.max() <= 1.0
    plain_set = {im.tobytes() for im in _x(plain.train)}
    assert sum(im.tobytes() in plain_set for im in xa) < 5


def test_unknown_augmentation_is_a_clear_error():
    with pytest.raises(DataError, match="unknown augmentation 'blur'"):
        parse_augment(["flip", "blur"])
    assert parse_augment("flip,zoom=0.3") == [("flip", 0.0), ("zoom", 0.3)]


def test_disk_memory_and_streaming_paths_agree(tmp_path, digits_small, monkeypatch):
    x, y = digits_small
    root = write_digit_folder(tmp_path / "digits", x[:60], y[:60])
    disk = load_data(str(root), val_split=0.0, batch_size=16)
    monkeypatch.setenv("CNNTUI_CACHE_DIR", "off")
    small = load_data(str(root), val_split=0.0, cache_budget_bytes=0, batch_size=16)
    big = load_data(str(root), val_split=0.0, batch_size=16)
    assert disk.cached and disk.cache["mode"] == "disk"
    assert not small.cached and big.cached and big.cache["mode"] == "memory"
    assert any("memory budget" in w for w in small.warnings)
    assert small.input_shape == (28, 28, 1)
    for bundle in (disk, small, big):
        for _epoch in range(2):  # epoch 1 decodes, epoch 2 reads what it stored
            got = sorted(im.tobytes() for im in np.round(_x(bundle.train) * 255).astype(np.uint8))
            assert got == sorted(im[..., None].tobytes() for im in x[:60])


def test_shuffle_is_seeded_and_reshuffles_each_epoch(tmp_path, digits_small):
    x, y = digits_small
    root = write_digit_folder(tmp_path / "digits", x[:80], y[:80])
    a = load_data(str(root), val_split=0.0, seed=5, batch_size=80)
    b = load_data(str(root), val_split=0.0, seed=5, batch_size=80)
    ya1, ya2 = (next(iter(a.train))[1].numpy() for _ in range(2))
    yb1 = next(iter(b.train))[1].numpy()
    np.testing.assert_array_equal(ya1, yb1)
    assert not np.array_equal(ya1, ya2)


def test_real_training_on_a_folder_with_bad_files(tmp_path, digits_small):
    """A tiny real CNN trains two epochs on digits saved as PNGs, bad files mixed in."""
    import keras

    x, y = digits_small
    root = write_digit_folder(tmp_path / "digits", x, y)
    write_bad_files(root / "3")
    bundle = load_data(str(root), input_shape=(28, 28, 1), val_split=0.2, batch_size=32,
                       label_mode="categorical", seed=0)  # fmt: skip
    # the structural pass skips three; the truncated PNG-folder JPEG goes in epoch 1 or at
    # once if it landed in the validation split (decoded up front, so its ids are exact)
    assert len(bundle.skipped) in (3, 4)
    assert bundle.counts["train"] + bundle.counts["val"] == 301 - (len(bundle.skipped) - 3)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(bundle.input_shape),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(bundle.num_classes, activation="softmax"),
    ])  # fmt: skip
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), loss="categorical_crossentropy", metrics=["accuracy"]
    )
    hist = model.fit(bundle.train, validation_data=bundle.val, epochs=3, verbose=0)
    assert len(bundle.skipped) == 4 and "truncated" in str(bundle.skipped)
    losses = hist.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert hist.history["val_accuracy"][-1] > 0.3  # chance is 0.1
