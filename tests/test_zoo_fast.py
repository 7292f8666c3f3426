"""The time-to-accuracy entries of ``zoo/fast.py``: shapes, heads, width and depth."""

from __future__ import annotations

import pytest

from cnntui.core import registry

FAST = ["fast-resnet", "fast-mobilenet", "fast-cnn"]


@pytest.mark.parametrize("name", FAST)
def test_fast_entries_are_modern_with_their_own_recipe_settings(name):
    entry = registry.get_model(name)
    assert entry.recipe == "modern"
    assert {"modern", "fast"} <= set(entry.tags)
    hp = entry.hyperparameters
    assert hp.schedule and hp.warmup and hp.label_smoothing and hp.ema is not None
    params = entry.builder_params()
    assert isinstance(params["width"], int) and isinstance(params["depth"], int)


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize(
    "shape,classes",
    [((28, 28, 1), 10), ((45, 37, 3), 2), ((160, 120, 3), 5)],
)
def test_fast_entries_build_for_any_size_channels_and_classes(name, shape, classes):
    model = registry.get_model(name).build(shape, classes, width=8, depth=1)
    assert tuple(model.input_shape[1:]) == shape
    head = model.layers[-1]
    if classes == 2:
        assert model.output_shape == (None, 1)
        assert head.activation.__name__ == "sigmoid"
    else:
        assert model.output_shape == (None, classes)
        assert head.activation.__name__ == "softmax"


@pytest.mark.parametrize("name", FAST)
def test_large_inputs_are_reduced_by_the_stem_before_the_stages(name):
    import keras

    entry = registry.get_model(name)
    small = entry.build((28, 28, 1), 10, width=8, depth=1)
    large = entry.build((224, 224, 3), 10, width=8, depth=1)
    strided = [
        layer.name
        for layer in large.layers
        if isinstance(layer, keras.layers.Conv2D) and layer.strides == (2, 2)
    ]
    assert [n for n in strided if n.startswith("stem_down")] == [
        "stem_down1_conv",
        "stem_down2_conv",
        "stem_down3_conv",
    ]
    assert not any(layer.name.startswith("stem_down") for layer in small.layers)
    stage_input = large.get_layer([n for n in strided if n.startswith("stem")][-1])
    assert stage_input.output.shape[1:3] == (28, 28)
    # max_side: digits at 14x14 in the stages (one stride-2 stem step)
    halved = entry.build((28, 28, 1), 10, width=8, depth=1, max_side=14)
    assert halved.get_layer("stem_down1_conv").output.shape[1:3] == (14, 14)
    convs = [
        sum(isinstance(layer, keras.layers.Conv2D) for layer in m.layers) for m in (small, halved)
    ]
    assert convs[1] == convs[0] + 1  # the extra stem convolution


def test_fast_resnet_width_and_depth_scale_the_parameter_count():
    entry = registry.get_model("fast-resnet")
    base = entry.build((28, 28, 1), 10, width=16, depth=1).count_params()
    wide = entry.build((28, 28, 1), 10, width=32, depth=1).count_params()
    deep = entry.build((28, 28, 1), 10, width=16, depth=2).count_params()
    # 3x3 convolutions dominate: twice the width is close to four times the parameters
    assert 3.5 < wide / base < 4.1
    # one more residual pair per stage: 2 convs of 9*c*c weights (+BN) for c = 16, 32, 64
    extra = sum(2 * (9 * c * c + 4 * c) for c in (16, 32, 64))
    assert deep - base == extra
    assert entry.build((28, 28, 1), 10, width=16, depth=0).count_params() == base - extra


def test_fast_mobilenet_width_and_depth_scale_the_parameter_count():
    entry = registry.get_model("fast-mobilenet")
    base = entry.build((28, 28, 1), 10, width=16, depth=1).count_params()
    wide = entry.build((28, 28, 1), 10, width=32, depth=1).count_params()
    deep = entry.build((28, 28, 1), 10, width=16, depth=2).count_params()
    assert 3.0 < wide / base < 4.1  # 1x1 convolutions dominate: ~4x at twice the width
    # a repeated block per stage keeps its channels c: expand c->4c, dw 3x3, project 4c->c
    extra = sum(
        4 * c * c + 4 * c * 4 + 9 * 4 * c + 4 * 4 * c + 4 * c * c + 4 * c for c in (16, 32, 64)
    )
    assert deep - base == extra


def test_fast_cnn_is_two_strided_convolutions_and_a_dense_head():
    import keras

    entry = registry.get_model("fast-cnn")
    model = entry.build((28, 28, 1), 10)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [
        (32, (5, 5), (2, 2)),
        (64, (3, 3), (2, 2)),
    ]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    # 5x5x1x32 + 32, 3x3x32x64 + 64, then 5*5*64 -> 10
    assert model.count_params() == (25 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 10 + 10)
    deeper = entry.build((28, 28, 1), 10, depth=1).count_params()
    assert deeper - model.count_params() == 9 * 64 * 64 + 64  # one more 3x3 conv, same size
    with pytest.raises(ValueError, match="at least 9x9 pixels; got 8x12"):
        entry.build((8, 12, 1), 10)


@pytest.mark.parametrize(
    "name,args,match",
    [
        ("fast-resnet", {"width": 0}, "width must be an integer >= 1; got 0"),
        ("fast-resnet", {"depht": 2}, "no builder parameter 'depht'"),
        ("fast-mobilenet", {"se": 2.0}, "se must be between 0"),
        ("fast-mobilenet", {"width": 2.5}, "width must be of type int"),
        ("fast-resnet", {"max_side": 2}, "max_side must be an integer >= 4; got 2"),
        ("fast-cnn", {"max_side": 4}, "max_side must be an integer >= 9; got 4"),
    ],
)
def test_bad_builder_parameters_are_refused_with_a_clear_message(name, args, match):
    with pytest.raises(ValueError, match=match):
        registry.get_model(name).build(None, None, **args)


@pytest.mark.parametrize(
    "name,args,match",
    [
        ("fast-resnet", {"width": 0}, "width must be an integer >= 1; got 0"),
        ("fast-mobilenet", {"se": 2.0}, "se must be between 0"),
        ("fast-cnn", {"max_side": 4}, "max_side must be an integer >= 9; got 4"),
        ("fast-cnn", {"l2": -1.0}, "no builder parameter 'l2'"),
        ("resnet-mini", {"l2": -1e-4}, "l1 and l2 must be 0 or more"),
        ("vgg-bn-dropout", {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        ("separable-cnn", {"width": 0}, "width and depth must be at least 1"),
    ],
)
def test_builder_values_are_checked_without_building(name, args, match):
    with pytest.raises(ValueError, match=match):
        registry.get_model(name).check_builder_args(args)
    registry.get_model(name).check_builder_args({})  # the defaults pass


@pytest.mark.parametrize(
    "argv,message",
    [
        (["fast-cnn", "--width", "0"], "fast-cnn: width must be an integer >= 1; got 0"),
        (["fast-resnet", "--depth", "-1"], "fast-resnet: depth must be an integer >= 0"),
        (["fast-cnn", "--max-side", "4"], "max_side must be an integer >= 9; got 4"),
        (["resnet-mini", "--l1", "-0.5"], "resnet-mini: l1 and l2 must be 0 or more"),
        (["resnet-mini", "--depth", "0"], "resnet-mini: width and depth must be at least 1"),
    ],
)
def test_a_bad_builder_value_exits_2_before_any_run(argv, message):
    from typer.testing import CliRunner

    from cnntui.cli.main import app
    from cnntui.core.runs import runs_root

    result = CliRunner().invoke(app, ["train", *argv, "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    root = runs_root()
    assert not root.exists() or not any(root.iterdir())  # nothing started, not even a folder
