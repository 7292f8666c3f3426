"""The registry contract: recipe fields, an entry's recipe, and builder parameters."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import registry
from cnntui.core.registry import Hyperparameters, ModelEntry, register_model

runner = CliRunner()
RECIPE_FIELDS = ("schedule", "warmup", "weight_decay", "label_smoothing", "ema", "mixup", "cutmix")


def _tiny(input_shape, num_classes, width=4, depth=1, dropout=0.0):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(depth):
        x = keras.layers.Conv2D(width, 3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


def _entry(builder=_tiny, **kw) -> ModelEntry:
    return ModelEntry(name="tiny", builder=builder, title="tiny", **kw)


def test_recipe_fields_default_to_none_and_are_in_the_json():
    hp = Hyperparameters()
    assert all(getattr(hp, f) is None for f in RECIPE_FIELDS)
    hp = Hyperparameters(schedule="onecycle", warmup=0.5, label_smoothing=0.1, ema=True)
    d = _entry(hyperparameters=hp).to_dict()["hyperparameters"]
    assert d["schedule"] == "onecycle" and d["warmup"] == 0.5 and d["ema"] is True
    assert d["mixup"] is None and d["cutmix"] is None and d["weight_decay"] is None


def test_builder_params_are_introspected_with_their_defaults():
    assert _entry().builder_params() == {"width": 4, "depth": 1, "dropout": 0.0}

    def required(input_shape, num_classes, width, *args, **kwargs):
        raise AssertionError("not built")

    assert _entry(required).builder_params() == {"width": None}
    assert registry.get_model("resnet-mini").builder_params() == {
        "width": 32,
        "depth": 2,
        "l1": 0.0,
        "l2": 0.0,
    }
    assert registry.get_model("mnist-mlp").builder_params() == {}


def test_build_passes_builder_args_and_changes_the_model():
    entry = _entry()
    narrow = entry.build((16, 16, 1), 3)
    wide = entry.build((16, 16, 1), 3, width=8)
    deep = entry.build((16, 16, 1), 3, depth=3)
    # conv 3x3x1xW + W, dense W*3 + 3
    assert narrow.count_params() == 9 * 4 + 4 + 4 * 3 + 3
    assert wide.count_params() == 9 * 8 + 8 + 8 * 3 + 3
    assert deep.count_params() == narrow.count_params() + 2 * (9 * 4 * 4 + 4)


def test_unknown_builder_arg_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"no builder parameter 'depht'.*width, depth, dropout"):
        _entry().build((16, 16, 1), 3, depht=2)
    with pytest.raises(ValueError, match=r"it accepts: none"):
        registry.get_model("mnist-mlp").build(None, None, width=8)


def test_builder_arg_of_the_wrong_type_is_refused_before_building():
    with pytest.raises(ValueError, match=r"width must be of type int .*got '8'"):
        _entry().build((16, 16, 1), 3, width="8")
    # an int where a float is expected is fine
    assert _entry().build((16, 16, 1), 3, dropout=0).output_shape == (None, 3)


def test_builder_taking_kwargs_accepts_any_name():
    def loose(input_shape, num_classes, **kwargs):
        return _tiny(input_shape, num_classes, width=kwargs.get("width", 4))

    assert _entry(loose).build((16, 16, 1), 2, width=2, anything=1).count_params() == (
        9 * 2 + 2 + 2 * 2 + 2
    )


def test_register_model_sets_the_recipe_and_refuses_an_unknown_one():
    register_model("test-contract-modern", title="t", recipe="modern")(_tiny)
    register_model("test-contract-default", title="t")(_tiny)
    try:
        assert registry.get_model("test-contract-modern").recipe == "modern"
        assert registry.get_model("test-contract-default").recipe == "article"
        wanted = r"recipe must be one of article, modern, finetune; got 'fast'"
        with pytest.raises(ValueError, match=wanted):
            register_model("test-contract-bad", title="t", recipe="fast")
    finally:
        registry._REGISTRY.pop("test-contract-modern", None)
        registry._REGISTRY.pop("test-contract-default", None)


def test_tutorials_use_the_article_recipe_and_modern_entries_the_modern_one():
    for entry in registry.list_models():
        if "tutorial" in entry.tags:
            assert entry.recipe == "article", entry.name
        if "modern" in entry.tags:
            assert entry.recipe == "modern", entry.name
        if "backbone" in entry.tags:
            assert entry.recipe == "finetune" and entry.pretrained is not None, entry.name


def test_zoo_show_prints_recipe_and_builder_params():
    result = runner.invoke(app, ["zoo", "show", "resnet-mini"])
    assert result.exit_code == 0, result.output
    assert "recipe:         modern" in result.stdout
    assert "builder params: width=32, depth=2, l1=0.0, l2=0.0" in result.stdout
    result = runner.invoke(app, ["zoo", "show", "mnist-conv-pool"])
    assert "recipe:         article" in result.stdout
    assert "builder params: -" in result.stdout
    result = runner.invoke(app, ["zoo", "show", "resnet-mini", "--json"])
    data = json.loads(result.stdout)
    assert data["recipe"] == "modern"
    assert data["builder_params"] == {"width": 32, "depth": 2, "l1": 0.0, "l2": 0.0}


def test_summary_width_and_depth_reach_the_builder():
    def params(*args):
        result = runner.invoke(
            app, ["summary", "resnet-mini", "--input-shape", "28,28,1", "--json", *args]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["total_params"]

    base, wide, deep = params(), params("--width", "16"), params("--depth", "3")
    assert wide < base < deep


def test_summary_refuses_a_builder_param_the_entry_lacks():
    result = runner.invoke(app, ["summary", "mnist-conv-pool", "--width", "8"])
    assert result.exit_code == 2
    assert "no builder parameter 'width'" in result.stderr
    assert "Traceback" not in result.output
