"""The time-to-accuracy entries of ``zoo/fast.py``: shapes, heads, width and depth."""

from __future__ import annotations

import pytest

from cnntui.core import registry

FAST = ["fast-resnet", "fast-mobilenet"]


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
    assert halved.count_params() > small.count_params()  # the extra stem convolution


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


@pytest.mark.parametrize(
    "name,args,match",
    [
        ("fast-resnet", {"width": 0}, "width must be an integer >= 1; got 0"),
        ("fast-resnet", {"depht": 2}, "no builder parameter 'depht'"),
        ("fast-mobilenet", {"se": 2.0}, "se must be between 0"),
        ("fast-mobilenet", {"width": 2.5}, "width must be of type int"),
        ("fast-resnet", {"max_side": 2}, "max_side must be an integer >= 4; got 2"),
    ],
)
def test_bad_builder_parameters_are_refused_with_a_clear_message(name, args, match):
    with pytest.raises(ValueError, match=match):
        registry.get_model(name).build(None, None, **args)
