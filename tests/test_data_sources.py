"""Sources: the bundled sample, .npz files, Keras datasets (download replaced), errors."""

from __future__ import annotations

import numpy as np
import pytest

from cnntui.core.data import DataError, load_data
from cnntui.core.data.sources import classify_source


def _batches(ds):
    xs, ys = [], []
    for x, y in ds:
        xs.append(x.numpy())
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def test_sample_is_the_default_with_real_digits(digits):
    bundle = load_data(None, limit=200, val_split=0.25, batch_size=50, seed=1)
    assert bundle.source == "sample" and bundle.kind == "sample"
    assert bundle.class_names == [str(i) for i in range(10)]
    assert bundle.counts == {"train": 150, "val": 50}
    assert bundle.input_shape == (28, 28, 1)
    x, y = _batches(bundle.train)
    assert x.shape == (150, 28, 28, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    assert y.dtype == np.int32 and set(np.unique(y)) <= set(range(10))
    # every training image is one of the real digits, scaled by 1/255
    pool = {digits[0][i].tobytes() for i in range(len(digits[0]))}
    as_uint8 = np.round(x * 255).astype(np.uint8)
    assert all(img[..., 0].tobytes() in pool for img in as_uint8[:20])


def test_sample_resized_to_model_input_and_label_modes():
    bundle = load_data("sample", input_shape=(32, 32, 3), label_mode="categorical", limit=60)
    x, y = _batches(bundle.train)
    assert x.shape[1:] == (32, 32, 3)
    np.testing.assert_array_equal(x[..., 0], x[..., 2])  # gray replicated to RGB
    assert y.shape[1:] == (10,) and np.all(y.sum(axis=1) == 1)
    assert bundle.to_config()["preprocessing"]["image_size"] == [32, 32]
    with pytest.raises(DataError, match="binary labels need exactly 2 classes"):
        load_data("sample", label_mode="binary", limit=20)


def test_npz_source_with_test_split_and_class_names(tmp_path, digits_small):
    x, y = digits_small
    keep = y < 2
    path = tmp_path / "two.npz"
    np.savez(
        path, x=x[keep][:40], y=y[keep][:40], x_test=x[keep][40:], y_test=y[keep][40:],
        class_names=np.array(["zero", "one"]),
    )  # fmt: skip
    bundle = load_data(str(path), label_mode="binary", val_split=0.2)
    assert bundle.kind == "npz" and bundle.class_names == ["zero", "one"]
    assert bundle.counts == {"train": 32, "val": 8, "test": int(keep.sum()) - 40}
    xt, yt = _batches(bundle.test)
    assert yt.shape == (bundle.counts["test"], 1) and yt.dtype == np.float32
    np.testing.assert_array_equal(yt[:, 0], y[keep][40:].astype(np.float32))
    np.testing.assert_array_equal(np.round(xt[..., 0] * 255), x[keep][40:])


def test_npz_without_labels_says_what_it_needs(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, images=np.zeros((4, 8, 8), np.uint8))
    with pytest.raises(DataError, match=r"missing array x and y.*it has images"):
        load_data(str(path))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("no/such/folder", "data path not found"),
        ("nonsense", "unknown data source 'nonsense'"),
    ],
)
def test_unknown_or_missing_source(source, message):
    with pytest.raises(DataError, match=message):
        classify_source(source)


def test_keras_dataset_offline_says_where_to_put_the_file(monkeypatch, tmp_path):
    import keras.src.datasets.mnist as mnist_module

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://x/mnist.npz: None -- [Errno -3] no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    monkeypatch.setattr(mnist_module, "get_file", offline)
    with pytest.raises(DataError) as err:
        load_data("mnist")
    text = str(err.value)
    assert "could not download the mnist dataset" in text
    assert str(tmp_path / "kh" / "datasets" / "mnist.npz") in text
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in text


def test_cifar10_offline_names_the_archive(monkeypatch, tmp_path):
    import keras.src.datasets.cifar10 as cifar_module

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(cifar_module, "get_file", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(DataError, match="cifar-10-batches-py-target_archive"):
        load_data("cifar10")


def test_keras_mnist_through_the_real_loader(monkeypatch, tmp_path, digits_small):
    """The real ``keras.datasets.mnist.load_data`` reads a file 'downloaded' by our stand-in."""
    import keras.src.datasets.mnist as mnist_module

    x, y = digits_small
    fake = tmp_path / "mnist.npz"
    np.savez(fake, x_train=x[:250], y_train=y[:250], x_test=x[250:], y_test=y[250:])
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append(origin)
        return str(fake)

    monkeypatch.setattr(mnist_module, "get_file", fake_get_file)
    bundle = load_data("mnist", val_split=0.2, batch_size=64)
    assert calls and calls[0].endswith("mnist.npz")
    assert bundle.kind == "keras" and bundle.class_names == [str(i) for i in range(10)]
    assert bundle.counts == {"train": 200, "val": 50, "test": 50}
    xt, yt = _batches(bundle.test)
    np.testing.assert_array_equal(yt, y[250:])
