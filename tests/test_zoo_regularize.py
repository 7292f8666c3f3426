"""L1/L2 regularisation as a builder parameter of the modern entries (``--l1``/``--l2``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import registry

runner = CliRunner()
MODERN = ["inception-mini", "resnet-mini", "separable-cnn", "vgg-bn-dropout"]


@pytest.mark.parametrize("name", MODERN)
def test_every_modern_entry_takes_l1_and_l2(name):
    params = registry.get_model(name).builder_params()
    assert params["l1"] == 0.0 and params["l2"] == 0.0


def _kernels(model):
    return [
        np.asarray(w)
        for layer in model.layers
        for attr in ("kernel", "depthwise_kernel", "pointwise_kernel")
        if (w := getattr(layer, attr, None)) is not None
    ]


def test_the_penalty_is_l1_plus_l2_over_every_kernel():
    entry = registry.get_model("separable-cnn")  # conv, depthwise, separable and dense kernels
    model = entry.build((16, 16, 3), 3, width=4, l1=1e-3, l2=1e-2)
    kernels = _kernels(model)
    expected = sum(1e-3 * np.abs(k).sum() + 1e-2 * np.square(k).sum() for k in kernels)
    assert len(model.losses) == len(kernels)
    assert float(sum(np.asarray(v) for v in model.losses)) == pytest.approx(expected, rel=1e-4)
    assert entry.build((16, 16, 3), 3, width=4).losses == []  # off by default


def test_a_saved_model_keeps_its_penalty(tmp_path):
    import keras

    model = registry.get_model("resnet-mini").build((16, 16, 1), 2, width=4, depth=1, l2=1e-4)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert len(loaded.losses) == len(_kernels(loaded)) > 0
    assert loaded.get_layer("gap") is not None
    conv = next(layer for layer in loaded.layers if layer.name == "stem_conv")
    assert conv.get_config()["kernel_regularizer"]["config"]["l2"] == pytest.approx(1e-4)


def test_summary_takes_l2_and_an_entry_without_it_refuses():
    result = runner.invoke(
        app, ["summary", "vgg-bn-dropout", "--l2", "1e-4", "--width", "4", "--no-keras", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] > 0
    result = runner.invoke(app, ["summary", "mnist-mlp", "--l2", "1e-4"])
    assert result.exit_code == 2
    assert "mnist-mlp has no builder parameter 'l2'" in result.stderr
