"""The zoo: every tutorial entry exists, builds at any shape, and matches its article."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import registry

TUTORIAL_NAMES = [
    "mnist-2conv",
    "mnist-mlp",
    "mnist-conv",
    "mnist-conv-pool",
    "cifar10-maxnorm",
    "celeba-gap",
    "catsdogs-mlp",
    "catsdogs-conv1",
    "catsdogs-conv2-48",
    "catsdogs-conv2-128",
    "catsdogs-conv2-fc512",
    "mnist-conv-pool-nodense",
]
REPORTED_PARAMS = {
    "mnist-conv-pool": 70_698,
    "mnist-mlp": 26_506,
    "cifar10-maxnorm": 16_399_654,
    "mnist-2conv": 203_434,
}
runner = CliRunner()


def test_every_tutorial_entry_is_listed_as_json():
    result = runner.invoke(app, ["zoo", "list", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    names = {e["name"] for e in entries}
    assert set(TUTORIAL_NAMES) <= names
    for e in entries:
        assert {"name", "title", "tags"} <= set(e)
    modern = [e for e in entries if "modern" in e["tags"]]
    assert len(modern) >= 4


def test_entries_carry_reference_reported_results_and_defaults():
    for name in TUTORIAL_NAMES:
        entry = registry.get_model(name)
        assert entry.reference, name
        assert entry.reported.dataset, name
        assert entry.reported.value is not None or entry.reported.note, name
        hp = entry.hyperparameters
        assert hp.optimizer and hp.loss and hp.batch_size > 0 and hp.epochs > 0, name
        assert "tutorial" in entry.tags


def test_modern_entries_cover_batchnorm_residual_inception_separable():
    tags = {t for e in registry.list_models(tag="modern") for t in e.tags}
    assert {"batchnorm", "dropout", "residual", "inception", "separable"} <= tags


@pytest.mark.parametrize("name,params", sorted(REPORTED_PARAMS.items()))
def test_parameter_counts_match_the_articles(name, params):
    result = runner.invoke(app, ["summary", name, "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert table["total_params"] == params
    assert registry.get_model(name).reported.params in (None, params)


@pytest.mark.parametrize("shape,classes", [((28, 28, 1), 10), ((40, 30, 3), 3), ((32, 32, 3), 2)])
def test_every_entry_builds_for_any_shape_and_class_count(shape, classes):
    for entry in registry.list_models():
        model = entry.build(shape, classes)
        assert tuple(model.input_shape[1:]) == shape, entry.name
        units = model.output_shape[-1]
        assert units == classes or (classes == 2 and units == 1), entry.name


def test_list_filters_by_pattern_and_tag():
    result = runner.invoke(app, ["zoo", "list", "mnist-*", "--json"])
    names = [e["name"] for e in json.loads(result.stdout)]
    assert names == [
        "mnist-2conv",
        "mnist-conv",
        "mnist-conv-pool",
        "mnist-conv-pool-nodense",
        "mnist-mlp",
    ]
    result = runner.invoke(app, ["zoo", "list", "--tag", "catsdogs", "--json"])
    assert {e["name"] for e in json.loads(result.stdout)} == {
        n for n in TUTORIAL_NAMES if n.startswith("catsdogs")
    }


def test_show_prints_reference_defaults_and_source():
    result = runner.invoke(app, ["zoo", "show", "mnist-conv-pool"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "98.38%" in out and "70,698" in out
    assert "batch 128" in out
    assert "def mnist_conv_pool" in out


def test_unknown_name_suggests_close_ones():
    result = runner.invoke(app, ["zoo", "show", "mnist-conv-pol"])
    assert result.exit_code == 2
    assert "mnist-conv-pool" in result.stderr
    result = runner.invoke(app, ["summary", "resnet"])
    assert result.exit_code == 2
    assert "resnet-mini" in result.stderr


def test_bad_input_shape_gets_a_clear_message():
    result = runner.invoke(app, ["summary", "mnist-mlp", "--input-shape", "28,x,1"])
    assert result.exit_code == 2
    assert "three integers" in result.stderr
    result = runner.invoke(app, ["summary", "mnist-conv-pool", "--input-shape", "2,2,1"])
    assert result.exit_code == 2
    assert "cannot be built for input 2x2x1" in result.stderr
    assert "Traceback" not in result.output


def test_user_zoo_folder_with_a_broken_file(tmp_path, monkeypatch):
    good = tmp_path / "mine.py"
    good.write_text(
        "from cnntui.core.registry import register_model\n"
        "@register_model('my-tiny', title='Tiny user net', tags=('user',))\n"
        "def tiny(input_shape, num_classes):\n"
        "    import keras\n"
        "    inputs = keras.Input(input_shape)\n"
        "    x = keras.layers.Flatten()(inputs)\n"
        "    return keras.Model(inputs, keras.layers.Dense(num_classes, activation='softmax')(x))\n"
    )
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    (tmp_path / "raises.py").write_text("raise RuntimeError('boom at import')\n")
    result = runner.invoke(app, ["zoo", "list", "--zoo", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    names = {e["name"] for e in json.loads(result.stdout)}
    assert "my-tiny" in names and "mnist-2conv" in names
    assert "broken.py" in result.stderr and "SyntaxError" in result.stderr
    assert "raises.py" in result.stderr and "boom at import" in result.stderr
    # the environment variable finds the same folder
    monkeypatch.setenv("CNNTUI_ZOO_PATH", str(tmp_path))
    registry.load_zoo()
    assert registry.get_model("my-tiny").build((8, 8, 1), 3).output_shape == (None, 3)
