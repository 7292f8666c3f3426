"""Shared fixtures: tests never touch the user's real runs or zoo folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_SAMPLE = Path(__file__).resolve().parents[1] / "cnntui" / "assets" / "mnist_5k.npz"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Point runs, user zoo folders and the decoded-image cache at a fresh temporary place
    for every test."""
    root = tmp_path_factory.mktemp("cnntui-home")
    monkeypatch.setenv("CNNTUI_RUNS_DIR", str(root / "runs"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("CNNTUI_CACHE_DIR", str(root / "cache"))
    monkeypatch.delenv("CNNTUI_ZOO_PATH", raising=False)
    return root


@pytest.fixture(scope="session")
def digits():
    """The bundled real MNIST digits as (x uint8 (5000,28,28), y uint8 (5000,))."""
    with np.load(SHARED_SAMPLE) as d:
        return d["x"], d["y"]


@pytest.fixture(scope="session")
def digits_small(digits):
    """A shuffled, class-balanced slice of 300 digits (30 per class)."""
    x, y = digits
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == k), 30, replace=False) for k in range(10)])
    rng.shuffle(idx)
    return x[idx], y[idx]


@pytest.fixture(scope="session")
def tui_zoo(tmp_path_factory) -> str:
    """One zoo folder holding ``tuitest-tiny``, for the whole session (registering it twice
    would warn)."""
    from tui_factory import write_zoo

    return str(write_zoo(tmp_path_factory.mktemp("tui-zoo")))
