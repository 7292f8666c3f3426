"""The backend-neutral pipeline (core/data/py_pipeline.py) against tf.data: the same pixels
and labels, the same examples in each shuffled epoch, the same bad-file behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnntui.core.data import load_data
from cnntui.core.data.py_pipeline import is_python_dataset, pipeline_kind
from cnntui.core.train.batch_augment import BatchAugment, apply
from cnntui.core.train.prepare import reencode_labels
from tests.image_factory import make_image_folder, write_bad_files


def _arrays(ds) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*((np.asarray(x), np.asarray(y)) for x, y in ds), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def _examples(x: np.ndarray, y: np.ndarray) -> list[tuple[int, bytes]]:
    """One epoch as a sorted multiset of (label, pixels): order-free comparison."""
    return sorted((int(label), img.tobytes()) for img, label in zip(x, y, strict=True))


def _both(source: str, **options):
    tf_bundle = load_data(source, pipeline="tf.data", **options)
    py_bundle = load_data(source, pipeline="python", **options)
    assert not is_python_dataset(tf_bundle.train) and is_python_dataset(py_bundle.train)
    assert (tf_bundle.pipeline, py_bundle.pipeline) == ("tf.data", "python")
    assert py_bundle.to_config()["pipeline"] == "python"
    return tf_bundle, py_bundle


def test_auto_is_tf_data_on_tensorflow_and_a_bad_name_is_refused():
    assert pipeline_kind("auto") == "tf.data" and pipeline_kind("python") == "python"
    with pytest.raises(ValueError, match="pipeline must be one of"):
        pipeline_kind("grain")


def test_arrays_same_pixels_labels_and_shuffled_epochs():
    a, b = _both("sample", limit=400, batch_size=32, val_split=0.25, seed=5)
    assert a.counts == b.counts == {"train": 300, "val": 100}
    np.testing.assert_array_equal(*(_arrays(d.val)[0] for d in (a, b)))  # unshuffled: exact
    np.testing.assert_array_equal(*(_arrays(d.val)[1] for d in (a, b)))
    tf_epoch = _examples(*_arrays(a.train))
    first = _arrays(b.train)
    assert first[0].dtype == np.float32 and 0.0 <= first[0].min() and first[0].max() <= 1.0
    assert _examples(*first) == tf_epoch  # the same examples, each once
    b.train.on_epoch_end()  # Keras calls it after each epoch: a new order, same examples
    second = _arrays(b.train)
    assert _examples(*second) == tf_epoch
    assert not np.array_equal(first[1], second[1])
    again = load_data("sample", pipeline="python", limit=400, batch_size=32, val_split=0.25, seed=5)
    np.testing.assert_array_equal(_arrays(again.train)[1], first[1])  # seeded


@pytest.mark.parametrize("cache", ["store", "files"])
def test_folders_same_pixels_and_bad_files_dropped_and_recorded(tmp_path, monkeypatch, cache):
    if cache == "files":
        monkeypatch.setenv("CNNTUI_CACHE_DIR", "off")
    root = make_image_folder(tmp_path / "pets", {"cat": 6, "dog": 5}, kinds=["rgb"])
    write_bad_files(root / "dog", ["truncated"])  # a good header: found while decoding
    opts = dict(input_shape=(16, 16, 3), val_split=0.0, batch_size=4, cache_budget_bytes=0)
    a, b = _both(str(root), **opts)
    assert a.cached == b.cached == (cache == "store")
    x_tf, y_tf = _arrays(a.train)
    x_py, y_py = _arrays(b.train)
    assert len(y_py) == 11  # the truncated file is left out of its batch
    assert _examples(x_py, y_py) == _examples(x_tf, y_tf)
    for bundle in (a, b):
        assert [Path(s["path"]).name for s in bundle.skipped] == ["truncated.jpg"]
        assert "truncated" in bundle.skipped[0]["reason"]
    assert len(_arrays(b.train)[1]) == 11  # a later epoch: still left out, not raised


def test_labels_and_batch_augmentation_on_the_python_pipeline():
    bundle = load_data("sample", pipeline="python", limit=64, batch_size=16, val_split=0.0)
    onehot = reencode_labels(bundle.train, "categorical", 10)
    x, y = onehot[0]
    assert y.shape == (16, 10) and np.allclose(y.sum(1), 1) and set(np.unique(y)) == {0.0, 1.0}
    spec = BatchAugment(mixup=0.4, randaugment=(2, 5), random_erasing=0.5)
    xa, ya = apply(onehot, spec, 10, seed=1)[0]
    assert xa.shape == x.shape and xa.dtype == np.float32 and ya.shape == (16, 10)
    assert np.allclose(ya.sum(1), 1, atol=1e-5) and 0 < ya.max() and (ya < 1).any()  # mixed
    assert not np.allclose(xa, x) and xa.min() >= 0.0 and xa.max() <= 1.0 + 1e-6


def test_training_on_the_python_pipeline_announces_files_epoch_one_could_not_decode(
    tmp_path, monkeypatch
):
    import json

    from cnntui.core.train.config import TrainConfig
    from cnntui.core.train.runner import train

    monkeypatch.setenv("CNNTUI_PIPELINE", "python")  # Keras reads batches before fit's begin
    root = make_image_folder(tmp_path / "pets", {"cat": 8, "dog": 8}, kinds=["rgb"])
    write_bad_files(root / "dog", ["truncated"])
    result = train(TrainConfig("mnist-mlp", data=str(root), epochs=1, val_split=0.0))
    assert result.status == "finished" and result.run.config["data"]["pipeline"] == "python"
    events = [json.loads(line) for line in result.run.path("events.jsonl").read_text().splitlines()]
    late = [e for e in events if e["event"] == "skipped"]
    assert [Path(f["path"]).name for e in late for f in e["skipped_files"]] == ["truncated.jpg"]
    assert "truncated.jpg\t" in result.run.path("skipped.txt").read_text()


def test_batches_are_built_ahead_in_order_and_never_from_a_stale_epoch():
    """Worker threads build the next batches while one is used; Keras sees one worker (no
    enqueuer of its own); an epoch cut short, or a batch asked out of order, gets the batch
    of the current order, as building each one on demand would."""
    import threading

    import keras

    from cnntui.core.data.py_pipeline import QUEUE, array_dataset
    from cnntui.core.images import Preprocessing

    x = np.arange(200, dtype=np.uint8).reshape(200, 1, 1, 1)
    y = np.arange(200)
    pre = Preprocessing(image_size=(1, 1), scale=1.0)
    threads: set[str] = set()
    asked = threading.Semaphore(0)

    def make(workers: int):
        ds = array_dataset(x, y, pre, 8, shuffle=True, seed=3)
        ds.threads = workers
        gather = ds.fetch

        def fetch(positions):
            threads.add(threading.current_thread().name)
            asked.release()
            return gather(positions)

        ds.fetch = fetch
        return ds

    ahead, on_demand = make(2), make(1)
    assert isinstance(ahead, keras.utils.PyDataset) and ahead.workers == 1
    first = ahead[0]
    for _ in range(1 + QUEUE):  # batch 0 and the QUEUE after it, without being asked
        assert asked.acquire(timeout=10)
    assert any(name.startswith("cnntui-batches") for name in threads)
    np.testing.assert_array_equal(first[1], on_demand[0][1])
    for i in (1, 2, 7, 3):  # in order, then one out of order, then back
        np.testing.assert_array_equal(ahead[i][1], on_demand[i][1])
    for ds in (ahead, on_demand):  # the epoch cut short after batch 3: a new order
        ds.on_epoch_end()
    epoch = [ahead[i][1] for i in range(len(ahead))]
    expected = [on_demand[i][1] for i in range(len(on_demand))]
    for got, want in zip(epoch, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert sorted(np.concatenate(epoch).tolist()) == list(range(200))
