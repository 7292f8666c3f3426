"""Image folders: both layouts, bad files skipped and listed, clear errors before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnntui.core.data import DataError, load_data
from cnntui.core.data.folders import scan_folder
from tests.image_factory import BAD_KINDS, make_image_folder, write_bad_files, write_image


def _labels(ds) -> np.ndarray:
    return np.concatenate([y.numpy() for _, y in ds])


def test_class_layout_split_by_fraction_and_seed(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 9, "dog": 7, "fox": 4})
    a = load_data(str(root), input_shape=(24, 24, 3), val_split=0.25, seed=3, batch_size=4)
    b = load_data(str(root), input_shape=(24, 24, 3), val_split=0.25, seed=3, batch_size=4)
    assert a.class_names == ["cat", "dog", "fox"] and a.layout == "classes"
    assert a.counts == {"train": 15, "val": 5} and a.skipped == []
    np.testing.assert_array_equal(_labels(a.val), _labels(b.val))
    assert sorted(np.bincount(np.concatenate([_labels(a.train), _labels(a.val)]))) == [4, 7, 9]
    assert a.to_config()["val_split"] == 0.25


@pytest.mark.parametrize("val_name", ["val", "validation"])
def test_split_layout_with_test(tmp_path, val_name):
    root = make_image_folder(
        tmp_path / "faces", ["smiling", "serious"], per_class=5, layout="split",
        val_name=val_name, val=3, test=2,
    )  # fmt: skip
    bundle = load_data(str(root), input_shape=(16, 16, 1), label_mode="binary", batch_size=8)
    assert bundle.layout == "split" and bundle.class_names == ["serious", "smiling"]
    assert bundle.counts == {"train": 10, "val": 6, "test": 4}
    y = _labels(bundle.val)
    assert y.shape == (6, 1) and sorted(y[:, 0].tolist()) == [0, 0, 0, 1, 1, 1]
    x = np.concatenate([x.numpy() for x, _ in bundle.test])
    assert x.shape == (4, 16, 16, 1)


def test_structural_pass_then_epoch_one_names_every_bad_file_and_later_epochs_skip_them(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 6, "dog": 6})
    bad = write_bad_files(root / "cat", [*BAD_KINDS, "header"])
    write_bad_files(root / "dog", ["truncated"])
    (root / "dog" / ".DS_Store").write_bytes(b"\0\0junk")  # hidden files are ignored
    heard = []
    bundle = load_data(
        str(root), input_shape=(20, 20, 3), val_split=0.0, on_skip=lambda p, r: heard.append(p)
    )

    def reasons() -> dict[str, str]:
        return {Path(s["path"]).relative_to(root).as_posix(): s["reason"] for s in bundle.skipped}

    # before training: headers only; the truncated JPEGs have valid headers
    structural = {f"cat/{n}" for n, kind in bad.items() if kind != "truncated"}
    assert set(reasons()) == structural
    assert "0 bytes" in reasons()["cat/empty.jpg"]
    assert "text file" in reasons()["cat/notes.jpg"]
    assert "unsupported" in reasons()[f"cat/{BAD_KINDS['unsupported']}"]
    assert "header only" in reasons()["cat/header_only.jpg"]
    assert bundle.counts == {"train": 14} and bundle.cached
    assert {Path(s["path"]).name for s in bundle.new_skips()} == set(bad) - {"truncated.jpg"}
    # epoch 1 decodes, drops the two truncated files from their batches, names them
    assert sorted(_labels(bundle.train).tolist()) == [0] * 6 + [1] * 6
    assert set(reasons()) == structural | {"cat/truncated.jpg", "dog/truncated.jpg"}
    assert "truncated" in reasons()["dog/truncated.jpg"]
    assert sorted(Path(s["path"]).parent.name for s in bundle.new_skips()) == ["cat", "dog"]
    assert sorted(heard) == sorted(s["path"] for s in bundle.skipped)
    # epoch 2 reads the cache and does not see them again
    assert sorted(_labels(bundle.train).tolist()) == [0] * 6 + [1] * 6
    assert bundle.new_skips() == [] and len(bundle.skipped) == len(bad) + 1
    assert bundle.check["splits"]["train"]["classes"] == {"cat": 7, "dog": 7}


def test_a_file_that_breaks_after_the_structural_pass_is_skipped_not_fatal(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 5, "dog": 5}, kinds=["rgb"])
    bundle = load_data(str(root), input_shape=(16, 16, 3), val_split=0.0)
    victim = root / "dog" / "img_0002.jpg"
    victim.write_bytes(victim.read_bytes()[:100])
    assert len(_labels(bundle.train)) == 9
    assert (
        bundle.skipped == [{"path": str(victim), "reason": bundle.skipped[0]["reason"]}]
        and "truncated" in bundle.skipped[0]["reason"]
    )


def test_streaming_without_any_cache_skips_a_file_that_breaks(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNTUI_CACHE_DIR", "off")
    root = make_image_folder(tmp_path / "pets", {"cat": 5, "dog": 5}, kinds=["rgb"])
    bundle = load_data(str(root), input_shape=(16, 16, 3), val_split=0.0, cache_budget_bytes=0)
    assert not bundle.cached and bundle.cache is None
    assert any("decoded every epoch" in w for w in bundle.warnings)
    victim = root / "dog" / "img_0002.jpg"
    victim.write_bytes(victim.read_bytes()[:100])
    assert len(_labels(bundle.train)) == 9
    assert [s["path"] for s in bundle.skipped] == [str(victim)]


def test_limit_caps_the_files_checked_and_used(tmp_path):
    root = make_image_folder(tmp_path / "p", {"a": 20, "b": 20}, kinds=["png"])
    bundle = load_data(str(root), input_shape=(8, 8, 1), limit=10, val_split=0.2)
    assert bundle.counts["train"] + bundle.counts["val"] == 10


def test_default_size_and_colour_come_from_the_inspection(tmp_path):
    root = make_image_folder(tmp_path / "g", ["a", "b"], per_class=3, kinds=["gray"],
                             size=(300, 200), vary_sizes=False)  # fmt: skip
    bundle = load_data(str(root), val_split=0.0)
    assert bundle.input_shape == (128, 85, 1)
    assert bundle.check["suggested"] == {"image_size": [128, 85], "color_mode": "grayscale"}


def test_errors_before_any_work(tmp_path):
    with pytest.raises(DataError, match="data path not found"):
        load_data(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="data folder is empty"):
        load_data(str(tmp_path / "empty"))
    one = make_image_folder(tmp_path / "one", ["cat"], per_class=2)
    with pytest.raises(DataError, match=r"only one class folder \('cat'\)"):
        load_data(str(one))
    loose = tmp_path / "loose"
    write_image(loose / "a.jpg")
    with pytest.raises(DataError, match="no class folders"):
        load_data(str(loose))
    allbad = tmp_path / "allbad"
    write_bad_files(allbad / "x", ["empty", "text", "unsupported", "header"])
    write_bad_files(allbad / "y", ["empty"])
    with pytest.raises(DataError, match="none of the 5 training files"):
        load_data(str(allbad))


def test_class_folders_differing_between_train_and_val(tmp_path):
    root = make_image_folder(tmp_path / "d", ["cat", "dog"], per_class=2, layout="split")
    (root / "val" / "dog").rename(root / "val" / "doggo")
    with pytest.raises(DataError, match="val lacks dog; val has extra doggo"):
        scan_folder(root)


def test_header_checks_use_threads_only_while_reads_wait_on_the_disk(tmp_path, monkeypatch):
    """The structural pass stays in the calling thread on a fast disk (threads only queue
    for the GIL there) and hands the rest to threads when the reads wait; either way every
    file gets its verdict, in order, the same as a threaded check."""
    import threading
    import time

    from cnntui.core.data import check

    root = make_image_folder(tmp_path / "imgs", per_class=40, size=(20, 24))
    bad = write_bad_files(root / "cat", ["empty", "text", "header"])
    items = [(str(p), 0, "train") for p in sorted(root.rglob("*")) if p.is_file()]
    assert len(items) > check.PROBE + 8
    expected = check.check_files(items, workers=2)
    assert {Path(c.path).name for c in expected if not c.ok} == {Path(b).name for b in bad}

    threads: list[int] = []
    real = check._check_one

    def recording(*args, slow: bool = False):
        threads.append(threading.get_ident())
        if slow:  # waiting on a read: wall time without CPU time
            time.sleep(0.002)
        return real(*args)

    monkeypatch.setattr(check, "_check_one", recording)
    assert check.check_files(items) == expected
    assert set(threads) == {threading.get_ident()}

    threads.clear()
    monkeypatch.setattr(check, "_check_one", lambda *a: recording(*a, slow=True))
    assert check.check_files(items) == expected
    assert set(threads[: check.PROBE]) == {threading.get_ident()}
    assert threading.get_ident() not in set(threads[check.PROBE :])
