"""Parameter tables: counts agree with Keras, MACs agree with hand-worked cases."""

from __future__ import annotations

import json

import keras
import pytest
from keras import layers
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.model_table import format_table, layer_table, summary_text


def _single(layer, shape):
    inputs = keras.Input(shape)
    return keras.Model(inputs, layer(inputs))


def _row(model):
    (row,) = layer_table(model)["layers"]
    return row


def test_conv2d_macs_hand_worked():
    # 5x5x3 input, 4 filters of 3x3, valid padding, stride 1 -> 3x3x4 output.
    # Each output value needs 3*3*3 = 27 MACs; 3*3*4 = 36 outputs -> 972.
    row = _row(_single(layers.Conv2D(4, 3), (5, 5, 3)))
    assert row["macs"] == 972
    assert row["params"] == 3 * 3 * 3 * 4 + 4
    assert row["kernel"] == [3, 3] and row["stride"] == [1, 1]
    assert row["output_shape"] == [None, 3, 3, 4]


def test_strided_same_conv2d_macs_hand_worked():
    # 8x8x2 input, 6 filters 3x3, stride 2, same padding -> 4x4x6 = 96 outputs x 18 MACs.
    row = _row(_single(layers.Conv2D(6, 3, strides=2, padding="same"), (8, 8, 2)))
    assert row["macs"] == 96 * 18
    assert row["stride"] == [2, 2]


def test_dense_macs_hand_worked():
    # 20 inputs -> 7 units: 140 MACs, 147 params.
    row = _row(_single(layers.Dense(7), (20,)))
    assert row["macs"] == 140
    assert row["params"] == 147


def test_depthwise_conv2d_macs_hand_worked():
    # 6x6x4 input, 3x3 depthwise, multiplier 2, valid -> 4x4x8 outputs, 9 MACs each = 1152.
    row = _row(_single(layers.DepthwiseConv2D(3, depth_multiplier=2), (6, 6, 4)))
    assert row["macs"] == 4 * 4 * 8 * 9
    assert row["params"] == 3 * 3 * 4 * 2 + 8


def test_separable_conv2d_macs_hand_worked():
    # 6x6x4 input, 3x3 separable, 5 filters, valid -> 4x4 spatial.
    # depthwise: 16 positions x 4 channels x 9 = 576; pointwise: 16 x 4 x 5 = 320 -> 896.
    row = _row(_single(layers.SeparableConv2D(5, 3), (6, 6, 4)))
    assert row["macs"] == 896
    assert row["params"] == 3 * 3 * 4 + 4 * 5 + 5


def test_totals_equal_keras_count_params_with_batchnorm():
    inputs = keras.Input((10, 10, 3))
    x = layers.Conv2D(8, 3, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(2)(x))
    table = layer_table(model)
    assert table["total_params"] == model.count_params()
    assert table["non_trainable_params"] == 16  # moving mean and variance of 8 channels
    assert table["trainable_params"] == model.count_params() - 16
    assert sum(r["params"] for r in table["layers"]) == model.count_params()
    assert table["weight_bytes"] == model.count_params() * 4
    # activations: input 300 + conv 512 + bn 512 + gap 8 + dense 2 floats, 4 bytes each
    assert table["activation_bytes"] == (300 + 512 + 512 + 8 + 2) * 4


def test_nested_sequential_is_expanded_and_frozen_layers_reported():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, name="inner_dense")], name="inner")
    inner.trainable = False
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2, name="head")(inner(inputs)))
    table = layer_table(model)
    names = [r["name"] for r in table["layers"]]
    assert names == ["inner/inner_dense", "head"]
    assert table["layers"][0]["trainable"] is False
    assert table["trainable_params"] == 8 and table["non_trainable_params"] == 15
    assert table["macs"] == 12 + 6


def test_summary_of_a_saved_keras_file(tmp_path):
    model = _single(layers.Dense(3), (5,))
    path = tmp_path / "m.keras"
    model.save(path)
    result = CliRunner().invoke(app, ["summary", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] == 18
    text = CliRunner().invoke(app, ["summary", str(path)]).stdout
    assert "Total params: 18" in text and "MACs per image" in text


def test_summary_missing_file_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["summary", str(tmp_path / "nope.keras")])
    assert result.exit_code == 2
    assert "no such model file" in result.stderr


@pytest.mark.parametrize("name", ["resnet-mini", "inception-mini", "separable-cnn"])
def test_text_table_and_keras_summary(name):
    from cnntui.core.registry import get_model

    model = get_model(name).build((32, 32, 3), 10)
    text = format_table(layer_table(model))
    assert f"{model.count_params():,}" in text
    assert f"{model.count_params():,}" in summary_text(model)
