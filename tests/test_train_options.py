"""``cnntui train``'s options: grouped help, and one mapping onto ``TrainConfig``."""

from __future__ import annotations

from dataclasses import fields

from typer.testing import CliRunner

from cnntui.cli.main import app, load_command
from cnntui.cli.train import config_from_options
from cnntui.core.train import TrainConfig

PANELS = ["Data:", "Model:", "Recipe:", "Checkpoints and runs:", "Scale:", "Output:"]


def test_help_groups_the_options_in_panels():
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    text = result.output
    where = [text.index(f"\n{panel}\n") for panel in PANELS]
    assert where == sorted(where)  # each panel once, in this order
    recipe = text[where[2] : where[3]]
    assert "--lr" in recipe and "--optimizer" in recipe and "--data" not in recipe
    assert "-h, --help" in text[where[-1] :]


def test_every_train_config_field_is_an_option_of_the_same_name():
    command = load_command("train")
    params = {p.name for p in command.params}
    assert {f.name for f in fields(TrainConfig)} - {"argv", "builder_args"} <= params
    assert {"width", "depth", "max_side"} <= params  # builder_args: the builder parameters


def test_builder_options_and_lr_auto_become_the_config():
    cfg = config_from_options(
        {"model": "resnet-mini", "width": 8, "depth": None, "learning_rate": "auto"}
    )
    assert cfg.builder_args == {"width": 8} and cfg.learning_rate == "auto"
    cfg = config_from_options({"model": "fast-resnet", "max_side": 14, "depth": 0})
    assert cfg.builder_args == {"depth": 0, "max_side": 14}


def test_options_become_a_train_config_in_one_place():
    cfg = config_from_options(
        {
            "model": "mnist-mlp",
            "learning_rate": 0.01,
            "augment": ["flip,rotation", "zoom"],
            "input_shape": "32,32,3",
            "zoo": None,
            "epochs": None,
            "view": "lines",  # not a TrainConfig field: ignored
        }
    )
    assert cfg.model == "mnist-mlp" and cfg.learning_rate == 0.01
    assert cfg.augment == ["flip", "rotation", "zoom"] and cfg.input_shape == (32, 32, 3)
    assert cfg.zoo == [] and cfg.epochs is None and cfg.argv[0] == "cnntui"
