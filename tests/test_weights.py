"""``--weights`` resolved and loaded for real: Keras's cache used without the network, the
offline error that names the file, files in Keras's and Keras 3's formats, a file that does
not fit, and the backbone of an earlier run."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from cnntui.core import registry
from cnntui.core.weights import (
    WeightsChoice,
    WeightsError,
    classify_weights,
    find_backbone,
    keras_weights_file,
    load_backbone_weights,
    resolve_weights,
)

SHAPE = (32, 32, 1)


@pytest.fixture(scope="module")
def entry():
    registry.load_zoo()
    return registry.get_model("mobilenetv3-small")


@pytest.fixture(scope="module")
def made(entry, tmp_path_factory):
    """A backbone with weights cnntui made, saved in both formats."""
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(1)
    model = entry.build(SHAPE, 5)
    backbone = find_backbone(model)
    folder = tmp_path_factory.mktemp("weights")
    backbone.save_weights(folder / "mine.weights.h5")
    with h5py.File(folder / "keras-style.h5", "w") as f:  # the layout Keras publishes
        legacy_h5_format.save_weights_to_hdf5_group(f, backbone)
    return folder, backbone.get_weights()


def same(model, weights) -> bool:
    ours = find_backbone(model).get_weights()
    return len(ours) == len(weights) and all(np.array_equal(a, b) for a, b in zip(ours, weights))


def test_values_are_classified_without_keras(entry, tmp_path):
    assert classify_weights(None, entry) == classify_weights("ImageNet", entry) == "imagenet"
    assert classify_weights("none", entry) == "none"
    (tmp_path / "w.h5").write_bytes(b"x")
    assert classify_weights(str(tmp_path / "w.h5"), entry) == "file"
    assert classify_weights("a1b2", entry) == "run"
    with pytest.raises(WeightsError, match="no such file"):
        classify_weights(str(tmp_path / "missing.weights.h5"), entry)
    with pytest.raises(WeightsError, match="backbone entries"):
        classify_weights("imagenet", registry.get_model("mnist-2conv"))


def test_keras_names_the_file_it_would_download(entry):
    wanted = keras_weights_file("MobileNetV3Small", entry.pretrained.native_input)
    assert wanted.name == "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
    assert wanted.url.endswith("/mobilenet_v3/" + wanted.name) and wanted.file_hash


def test_imagenet_from_keras_cache_without_the_network(entry, made, tmp_path, monkeypatch):
    import shutil

    from keras.src.utils import file_utils

    def no_network(*args, **kwargs):
        raise AssertionError("the network was used")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    folder, weights = made
    wanted = keras_weights_file("MobileNetV3Small", entry.pretrained.native_input)
    (tmp_path / "keras" / "models").mkdir(parents=True)
    shutil.copy(folder / "keras-style.h5", wanted.cached)  # the cache, seeded by hand
    choice = resolve_weights("imagenet", entry)
    assert choice.kind == "imagenet" and choice.path == str(wanted.cached)
    assert "hash differs" in choice.note  # ours, not the file Keras publishes
    model = entry.build(SHAPE, 3)
    load_backbone_weights(model, choice)
    assert same(model, weights)


def test_imagenet_offline_names_the_file_the_url_and_the_folder(entry, tmp_path, monkeypatch):
    import urllib.error

    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(WeightsError) as caught:
        resolve_weights(None, entry)
    text = caught.value.describe()
    wanted = keras_weights_file("MobileNetV3Small", entry.pretrained.native_input)
    assert wanted.name in text and wanted.url in text and str(wanted.cached.parent) in text
    assert caught.value.exit_code == 2 and "--weights FILE" in text
    assert not wanted.cached.exists()  # nothing half-written left behind


@pytest.mark.parametrize("name", ["mine.weights.h5", "keras-style.h5"])
def test_a_weights_file_in_either_format_fills_the_backbone(entry, made, name):
    folder, weights = made
    choice = resolve_weights(str(folder / name), entry)
    model = entry.build(SHAPE, 4)
    assert not same(model, weights)
    load_backbone_weights(model, choice)
    assert same(model, weights)


def test_a_file_with_the_imagenet_top_is_refused_with_advice(entry, tmp_path):
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    with_top = keras.applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3))
    with h5py.File(tmp_path / "top.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, with_top)
    with pytest.raises(WeightsError, match="does not fit this backbone") as caught:
        load_backbone_weights(
            entry.build(SHAPE, 2), WeightsChoice("file", str(tmp_path / "top.h5"))
        )
    assert "without the ImageNet top" in caught.value.describe()


def test_the_backbone_of_a_run_of_the_same_entry(entry, made, tmp_path):
    from run_factory import write_run

    folder, weights = made
    model = entry.build(SHAPE, 5)
    load_backbone_weights(model, WeightsChoice("file", str(folder / "mine.weights.h5")))
    run = write_run(model, [str(i) for i in range(5)])
    with pytest.raises(WeightsError, match="trained tiny-cnn, not mobilenetv3-small"):
        resolve_weights(run.id, entry)
    config = run.config
    config["model"] = "mobilenetv3-small"
    from cnntui.core.atomic import atomic_write_json

    atomic_write_json(run.path("config.json"), config)
    choice = resolve_weights(run.id, entry)
    other = entry.build(SHAPE, 2)  # another head: only the backbone is taken
    load_backbone_weights(other, choice)
    assert choice.kind == "run" and same(other, weights)
    with pytest.raises(WeightsError, match="not imagenet, none, a weights file or a run"):
        resolve_weights("no-such-run", entry)
