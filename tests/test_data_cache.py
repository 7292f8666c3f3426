"""The decoded-image disk cache: reused by later runs, changed files decoded again, never
trusted beyond what its index says was written."""

from __future__ import annotations

import os

import numpy as np

from cnntui.core.data import load_data
from cnntui.core.data.cache import cache_line, clear_entries, list_entries, wait_for_saves
from cnntui.core.images import Preprocessing, load_image_uint8
from tests.image_factory import make_image_folder, write_image


def _pixels(bundle) -> dict[str, bytes]:
    """Path → uint8 pixels, read through the (unshuffled) validation pipeline."""
    x = np.concatenate([x.numpy() for x, _ in bundle.val])
    return {p: im.tobytes() for p, im in zip(bundle.ids["val"], np.round(x * 255).astype("u1"))}


def _load(root):
    return load_data(str(root), input_shape=(12, 16, 3), val_split=0.5, seed=1, batch_size=4)


def test_a_second_run_reuses_the_cache_and_a_changed_file_is_decoded_again(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 4, "dog": 4}, kinds=["rgb", "png"])
    first = _load(root)
    assert first.cache["reused"] == 0 and "new" in cache_line(first.cache)
    assert first.cache["reused"] == 0
    np.concatenate([y for _, y in first.train])  # epoch 1 decodes the training rows
    second = _load(root)
    assert second.cache["path"] == first.cache["path"]
    assert second.cache["reused"] == 8 and "all 8 images already decoded" in cache_line(
        second.cache
    )
    # change one validation file: same name, new picture and mtime
    victim = second.ids["val"][0]
    write_image(victim, "rgb" if victim.endswith(".jpg") else "png", (30, 40), seed=99, label=1)
    os.utime(victim, ns=(1, 1))
    third = _load(root)
    assert third.cache["reused"] == 7
    pre = Preprocessing(image_size=(12, 16), color_mode="rgb")
    got = _pixels(third)
    assert got[victim] == load_image_uint8(victim, pre).tobytes()
    for p in third.ids["val"]:
        assert got[p] == load_image_uint8(p, pre).tobytes()


def test_an_index_lost_in_a_crash_means_decode_again_not_trust(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 3, "dog": 3}, kinds=["png"])
    first = _load(root)
    folder = first.cache["path"]
    pixels = np.memmap(os.path.join(folder, "pixels.u8"), "u1", "r+")
    pixels[:] = 7  # garbage where a crash interrupted writing
    pixels.flush()
    assert _load(root).cache["reused"] == 3  # the index trusts the validation rows it saved
    pixels[:] = 7
    pixels.flush()
    os.remove(os.path.join(folder, "index.npz"))
    again = _load(root)
    assert again.cache["reused"] == 0
    pre = Preprocessing(image_size=(12, 16), color_mode="rgb")
    for p, px in _pixels(again).items():
        assert px == load_image_uint8(p, pre).tobytes()


def test_list_and_clear(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 2, "dog": 2}, kinds=["png"])
    bundle = _load(root)
    entries = list_entries()
    assert [e["path"] for e in entries] == [bundle.cache["path"]]
    assert entries[0]["source"] == str(root) and entries[0]["images"] == 4
    assert entries[0]["bytes"] >= 4 * 12 * 16 * 3
    removed = clear_entries()
    assert [e["key"] for e in removed] == [entries[0]["key"]] and list_entries() == []


def test_a_later_run_skips_the_structural_pass_and_keeps_the_same_split(tmp_path, monkeypatch):
    from cnntui.core.data import folder_bundle
    from tests.image_factory import write_bad_files

    root = make_image_folder(tmp_path / "pets", {"cat": 6, "dog": 6}, kinds=["rgb", "png"])
    write_bad_files(root / "cat", ["truncated", "empty"])
    first = _load(root)
    np.concatenate([y for _, y in first.train])  # epoch 1 finds the truncated file
    assert len(first.skipped) == 2
    checked = []
    real = folder_bundle.check_files
    monkeypatch.setattr(
        folder_bundle, "check_files", lambda items, **kw: checked.extend(items) or real(items, **kw)
    )
    second = _load(root)
    assert [p for p, _, _ in checked] == []  # every header is known from the cache
    assert second.ids["val"] == first.ids["val"]
    assert sorted(s["path"] for s in second.skipped) == sorted(s["path"] for s in first.skipped)
    assert second.counts["train"] == first.counts["train"] - 1  # the truncated one, known now
    changed = root / "dog" / sorted(p.name for p in (root / "dog").iterdir())[0]
    os.utime(changed, ns=(5, 5))
    _load(root)
    assert [p for p, _, _ in checked] == [str(changed)]


def test_a_folder_whose_files_all_fail_to_decode(tmp_path):
    import pytest

    from cnntui.core.data import DataError
    from tests.image_factory import write_bad_file

    root = tmp_path / "broken"
    for c in "ab":
        for i in range(3):
            write_bad_file(root / c / f"t{i}.jpg", "truncated")
    bundle = load_data(str(root), input_shape=(16, 16, 3), val_split=0.0, batch_size=4)
    assert not bundle.store.none_decoded()  # nothing known before epoch 1
    assert sum(int(x.shape[0]) for x, _ in bundle.train) == 0  # empty batches are dropped
    assert bundle.store.none_decoded() and len(bundle.skipped) == 6
    with pytest.raises(DataError, match="none of the 6 training files .* could be decoded"):
        load_data(str(root), input_shape=(16, 16, 3), val_split=0.0)


def test_the_epoch_that_completes_the_cache_saves_its_index_off_the_pipeline(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cat": 4, "dog": 4}, kinds=["rgb", "png"])
    bundle = _load(root)
    np.concatenate([y for _, y in bundle.train])  # the last training row: the save is queued
    wait_for_saves()
    with np.load(os.path.join(bundle.cache["path"], "index.npz")) as d:
        assert (d["state"] == 1).all()  # every row recorded as decoded, on disk
    (entry,) = list_entries()
    assert entry["decoded"] == 8 and entry["bad"] == 0
