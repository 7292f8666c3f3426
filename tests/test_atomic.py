"""Atomic file helpers: a copy by hard link (or bytes), never a half-written file."""

from __future__ import annotations

import os

from cnntui.core.atomic import atomic_copy, atomic_write_bytes


def test_atomic_copy_links_and_keeps_its_bytes_when_the_source_is_replaced(tmp_path):
    src, dst = tmp_path / "last.keras", tmp_path / "best.keras"
    atomic_write_bytes(src, b"epoch 3 weights")
    atomic_write_bytes(dst, b"epoch 1 weights")
    atomic_copy(src, dst)
    assert os.path.samefile(src, dst)  # a hard link: no bytes copied
    atomic_write_bytes(src, b"epoch 4 weights")  # the next epoch renames a new file in
    assert dst.read_bytes() == b"epoch 3 weights" and src.read_bytes() == b"epoch 4 weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "last.keras"]


def test_atomic_copy_copies_bytes_where_hard_links_fail(tmp_path, monkeypatch):
    src, dst = tmp_path / "last.keras", tmp_path / "best.keras"
    atomic_write_bytes(src, b"weights")

    def no_links(*args, **kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    atomic_copy(src, dst)
    assert dst.read_bytes() == b"weights" and not os.path.samefile(src, dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "last.keras"]
