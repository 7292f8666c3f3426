"""An input mistake never makes a run: a bad augmentation name, an empty folder, a folder
without class sub-folders, an .npz without its arrays, a Keras dataset that cannot be
downloaded: each is exit 2 with one error line, before any run directory exists."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.runs import list_runs

runner = CliRunner()


def mistakes(tmp_path) -> dict[str, list[str]]:
    (tmp_path / "empty").mkdir()
    loose = tmp_path / "loose"
    loose.mkdir()
    Image.new("RGB", (8, 8)).save(loose / "a.png")
    np.savez(tmp_path / "bad.npz", images=np.zeros((4, 8, 8), np.uint8))
    return {
        "unknown augmentation 'spin'": ["--augment", "flip,spin"],
        "data folder is empty": ["--data", str(tmp_path / "empty")],
        "no class folders": ["--data", str(loose)],
        "missing array x and y": ["--data", str(tmp_path / "bad.npz")],
    }


@pytest.mark.parametrize("case", range(4))
def test_a_mistake_in_the_data_makes_no_run(tmp_path, case):
    message, args = list(mistakes(tmp_path).items())[case]
    result = runner.invoke(app, ["train", "mnist-2conv", "--epochs", "1", *args])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and message in errors[0], result.stderr  # said once
    assert list_runs() == []


def test_an_offline_keras_dataset_makes_no_run(tmp_path, monkeypatch):
    import urllib.error

    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    result = runner.invoke(app, ["train", "mnist-2conv", "--data", "mnist", "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert "could not download the mnist dataset" in result.stderr
    assert "mnist.npz" in result.stderr and list_runs() == []
