"""`cnntui reproduce`: each entry's data and protocol, the articles' metrics, the table.

No download: the Keras dataset loader is replaced by real bundled digits; the article
metrics are checked against values worked by hand.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import registry
from cnntui.core.errors import ConfigError
from cnntui.core.judge.evaluate import class_index
from cnntui.core.reproduce import ReproRow, markdown
from cnntui.core.reproduce.figures import (
    TEN_THRESHOLDS,
    binary_figures,
    make_figure,
)
from cnntui.core.reproduce.plan import SAMPLE_LABEL, check_mapping, parse_data, plan_entry
from cnntui.core.runs import resolve_run
from tests.image_factory import make_image_folder

runner = CliRunner()

# -- the article metrics, by hand ------------------------------------------------------
SCORES, LABELS = [0.9, 0.8, 0.3, 0.6], [1, 1, 0, 0]
# mean score 0.65: dx = .25 .15 -.35 -.05, dy = .5 .5 -.5 -.5 -> dx.dy = 0.4, |dx|^2 = 0.21
PEARSON = 0.4 / math.sqrt(0.21)
MSE = (0.1**2 + 0.2**2 + 0.3**2 + 0.6**2) / 4  # 0.125


def test_ten_thresholds():
    assert len(TEN_THRESHOLDS) == 10
    assert TEN_THRESHOLDS[0] == pytest.approx(0.05) and TEN_THRESHOLDS[-1] == pytest.approx(0.95)


def test_binary_figures_match_the_hand_worked_values():
    got = binary_figures(np.array(SCORES), np.array(LABELS))
    # t in {0.65, 0.75} separates the classes; the one nearest 0.5 is kept
    assert got["best_threshold_accuracy"] == 1.0 and got["threshold"] == pytest.approx(0.65)
    assert got["pearson"] == pytest.approx(PEARSON)
    assert got["val_mse"] == pytest.approx(MSE)


def test_the_positive_class_sets_the_sign_of_pearson():
    # the other class's label against this class's score: the article's sign flips
    flipped = binary_figures(np.array(SCORES), 1 - np.array(LABELS))
    assert flipped["pearson"] == pytest.approx(-PEARSON)
    # score and label of the same class, either class: the same r and MSE
    other = binary_figures(1 - np.array(SCORES), 1 - np.array(LABELS))
    assert other["pearson"] == pytest.approx(PEARSON) and other["val_mse"] == pytest.approx(MSE)


def test_best_of_ten_thresholds_on_an_unseparable_set():
    # scores .2 .4 .6 .8 for labels 0 1 0 1: t in (.2, .4] -> 3/4, t in (.6, .8] -> 3/4
    got = binary_figures(np.array([0.2, 0.4, 0.6, 0.8]), np.array([0, 1, 0, 1]))
    assert got["best_threshold_accuracy"] == 0.75
    assert got["threshold"] == pytest.approx(0.35)  # 0.35 and 0.65 tie: |0.35-0.5| = |0.65-0.5|


def test_positive_class_matches_singular_and_plural():
    assert class_index(["cats", "dogs"], "cat") == 0
    assert class_index(["Dog", "Cat"], "cats") == 1
    with pytest.raises(ValueError, match="not one of the classes cats, dogs"):
        class_index(["cats", "dogs"], "horse")


def test_figure_difference_and_tolerance():
    f = make_figure("val_accuracy", 0.9757, 0.9601)
    assert f.difference == pytest.approx(-0.0156) and f.tolerance == 0.02 and f.reproduced
    assert make_figure("val_accuracy", 0.9757, 0.95).reproduced is False
    assert make_figure("pearson", 0.42, 0.36).reproduced is False  # tolerance 0.05
    assert make_figure("val_mse", 0.33, 0.31).reproduced is True  # tolerance 0.03
    assert make_figure("pearson", 0.42, 0.36, tolerance=0.1).reproduced is True
    assert make_figure("val_accuracy", 0.9757, 0.9757, comparable=False).reproduced is None
    assert make_figure("val_accuracy", None, 0.5).reproduced is None


# -- the data each entry is reproduced on ----------------------------------------------
def test_parse_data_values():
    assert parse_data(["sample"]) == ("sample", [])
    assert parse_data(["catsdogs-*=/x/pets", "celeba-gap=/y"]) == (
        None, [("catsdogs-*", "/x/pets"), ("celeba-gap", "/y")]
    )  # fmt: skip
    with pytest.raises(ConfigError, match="ENTRY=SOURCE"):
        parse_data(["=/x"])
    with pytest.raises(ConfigError, match="two sources for every entry"):
        parse_data(["sample", "mnist"])
    with pytest.raises(ConfigError, match="no selected tutorial entry matches 'celeb-x'"):
        check_mapping([("celeb-x", "/y")], ["celeba-gap"])


def test_each_entry_is_planned_on_its_articles_data(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    mnist, cats, celeba = (
        registry.get_model(n) for n in ("mnist-2conv", "catsdogs-conv1", "celeba-gap")
    )
    # nothing downloaded, no folder named: not run, with the command that runs it
    plan = plan_entry(mnist, None, [])
    assert plan.source is None and "mnist" in plan.not_run
    assert plan.command == "cnntui reproduce mnist-2conv --data mnist-2conv=mnist"
    plan = plan_entry(celeba, None, [])
    assert plan.source is None and "CelebA" in plan.not_run and plan.command.endswith("=DIR")
    # a downloaded Keras dataset is at hand; the MNIST articles validated on the test set
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    (tmp_path / "keras" / "datasets" / "mnist.npz").write_bytes(b"")
    plan = plan_entry(mnist, None, [])
    assert (plan.source, plan.article_data, plan.validate_on) == ("mnist", True, "test")
    # a folder named for an entry is its data; the sample is labelled as not the article's
    plan = plan_entry(cats, None, [("catsdogs-*", "/data/pets")])
    assert (plan.source, plan.article_data, plan.validate_on) == ("/data/pets", True, "split")
    plan = plan_entry(mnist, "sample", [])
    assert plan.label == SAMPLE_LABEL and not plan.article_data and plan.validate_on == "split"
    plan = plan_entry(mnist, "cifar10", [])
    assert not plan.article_data and "not the article's MNIST" in plan.label


def test_without_data_nothing_at_hand_is_listed_with_its_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    result = runner.invoke(app, ["reproduce", "catsdogs-*", "celeba-gap", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["status"] for r in rows} == {"not run"} and len(rows) == 6
    assert all(r["reason"].startswith("needs") and r["command"] for r in rows)
    assert not list((tmp_path / "keras").glob("**/*"))
    text = runner.invoke(app, ["reproduce", "catsdogs-*"]).stdout
    assert "cnntui reproduce 'catsdogs-*' --data 'catsdogs-*=DIR'" in text


def test_every_figure_of_the_sheet_is_a_row_and_catsdogs_shows_all_three(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    result = runner.invoke(app, ["reproduce", "celeba-gap", "catsdogs-conv1", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["entry"]: {f["metric"]: f["article"] for f in r["figures"]}
            for r in json.loads(result.stdout)}  # fmt: skip
    assert rows["celeba-gap"] == {"test_accuracy": 0.95, "val_accuracy_peak": 0.95}
    assert rows["catsdogs-conv1"] == {
        "val_mse": 0.36, "pearson": 0.152, "best_threshold_accuracy": None
    }  # fmt: skip
    text = runner.invoke(app, ["reproduce", "catsdogs-conv1"]).stdout
    assert "| best_threshold_accuracy | not stated | not run |" in text


def test_markdown_table_has_one_line_per_figure_with_its_tolerance():
    rows = [
        ReproRow("e1", "mnist", "finished", "article",
                 [make_figure("val_accuracy", 0.98, 0.97),
                  make_figure("epoch_seconds", 35, 41.2),
                  make_figure("pearson", None, 0.1)], run_id="r1"),
        ReproRow("e2", "sample", "finished", "not the article's data",
                 [make_figure("pearson", 0.42, 0.2, comparable=False),
                  make_figure("val_mse", 0.33, 0.2, comparable=False)]),
    ]  # fmt: skip
    text = markdown(rows)
    lines = text.splitlines()
    assert lines[0] == (
        "| entry | data | metric | article | measured | difference | tolerance | reproduced | run |"
    )
    assert lines[2] == (
        "| e1 | mnist | val_accuracy | 98.00% | 97.00% | -1.00 pt | ±2.00 pt | yes | r1 |"
    )
    assert lines[3] == (
        "|  |  | epoch_seconds | 35 s | 41 s | +6 s | not judged | n/a: machine-dependent |  |"
    )
    assert lines[4] == "|  |  | pearson | not stated | 0.100 | - | ±0.050 | n/a: not stated |  |"
    assert lines[5].startswith(
        "| e2 | sample | pearson | 0.420 | 0.200 | -0.220 | ±0.050 | n/a: not"
    )
    assert lines[6].startswith("|  |  | val_mse | 0.330 | 0.200 | -0.130 | ±0.030 |")
    assert "reproduced: |measured - article| <= tolerance (accuracy 0.02" in text
    assert "seconds: shown, not judged" in text


def test_tolerance_override_never_judges_seconds():
    assert make_figure("epoch_seconds", 35, 35, tolerance=0.5).reproduced is None
    assert make_figure("val_loss", 0.0621, 0.1).tolerance == 0.05


# -- end to end, tiny ------------------------------------------------------------------
@pytest.fixture
def fake_mnist(monkeypatch, digits_small):
    """keras.datasets.mnist replaced by 240 + 60 real digits (no download)."""
    from cnntui.core.data import keras_datasets

    x, y = digits_small
    calls = []

    def load(name):
        calls.append(name)
        return x[:240], y[:240], x[240:], y[240:], list(keras_datasets.CLASS_NAMES[name])

    monkeypatch.setattr(keras_datasets, "load_keras_dataset", load)
    return calls


def test_mnist_entry_trains_on_mnist_with_the_articles_protocol(fake_mnist):
    result = runner.invoke(
        app,
        ["reproduce", "mnist-mlp", "--data", "mnist-*=mnist", "--epochs", "1", "--view", "none",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    # fetched before the run exists (not in Keras's cache here), then loaded by the run
    assert fake_mnist == ["mnist", "mnist"] and row["status"] == "finished"
    assert row["terms"] == "--epochs 1"  # the article's data, fewer epochs
    fig, loss = row["figures"]
    assert fig["metric"] == "val_accuracy" and fig["article"] == pytest.approx(0.9233)
    assert loss["metric"] == "val_loss" and loss["article"] == 0.3089 and loss["tolerance"] == 0.05
    assert fig["reproduced"] is None  # not on the article's terms
    config = resolve_run(row["run_id"]).config
    hp, data = config["hyperparameters"], config["data"]
    assert hp["validate_on"] == "test" and hp["rescale"] == "none" and hp["recipe"] == "article"
    assert hp["batch_size"] == 128 and hp["learning_rate"] == pytest.approx(1e-3)
    assert hp["patience"] == 0
    assert data["preprocessing"]["scale"] == 1.0  # raw 0-255 pixels, as the article fed them
    assert data["counts"] == {"train": 240, "val": 60}  # all of train; the test set validates
    metrics = resolve_run(row["run_id"]).metrics
    assert fig["measured"] == pytest.approx(metrics["final"]["val_accuracy"])
    assert loss["measured"] == pytest.approx(metrics["final"]["val_loss"])


def test_mnist_2conv_checks_the_first_four_test_images(fake_mnist, digits_small):
    result = runner.invoke(
        app,
        ["reproduce", "mnist-2conv", "--data", "mnist-2conv=mnist", "--epochs", "1",
         "--view", "none", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    figs = {f["metric"]: f for f in row["figures"]}
    assert figs["first4_test_accuracy"]["article"] == 1.0
    assert figs["first4_test_accuracy"]["measured"] in (0.0, 0.25, 0.5, 0.75, 1.0)
    labels = ", ".join(str(int(v)) for v in digits_small[1][240:244])
    assert any(n.endswith(f"labels {labels}") for n in row["notes"])


def test_catsdogs_figures_on_a_real_folder(tmp_path):
    root = make_image_folder(tmp_path / "pets", {"cats": 12, "dogs": 12}, size=(47, 62))
    result = runner.invoke(
        app,
        ["reproduce", "catsdogs-conv2-48", "--data", f"catsdogs-*={root}", "--epochs", "1",
         "--view", "none", "--json", "--runs-dir", str(tmp_path / "elsewhere")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    figs = {f["metric"]: f for f in row["figures"]}
    assert set(figs) == {"best_threshold_accuracy", "pearson", "val_mse"}
    assert figs["pearson"]["article"] == 0.21 and figs["val_mse"]["article"] == 0.33
    assert "positive class cats" in row["notes"][0]
    assert 0.0 <= figs["best_threshold_accuracy"]["measured"] <= 1.0
    # the MSE of the cat score equals Keras's own MSE loss on the sigmoid (labels dogs = 1)
    final = resolve_run(row["run_id"], root=tmp_path / "elsewhere").metrics["final"]
    assert figs["val_mse"]["measured"] == pytest.approx(final["val_loss"], abs=1e-4)
    assert row["terms"] == "--epochs 1"


def test_celeba_reports_the_validation_peak_and_the_test_accuracy(tmp_path):
    root = make_image_folder(
        tmp_path / "celeba", {"female": 8, "male": 8}, layout="split", val=4, test=3,
        size=(36, 30),
    )  # fmt: skip
    result = runner.invoke(
        app,
        ["reproduce", "celeba-gap", "--data", f"celeba-gap={root}", "--epochs", "2",
         "--view", "none", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    figs = {f["metric"]: f for f in row["figures"]}
    assert list(figs) == ["test_accuracy", "val_accuracy_peak"]
    run = resolve_run(row["run_id"])
    peak = max(e["logs"]["val_accuracy"] for e in run.events() if e.get("event") == "epoch")
    assert figs["val_accuracy_peak"]["measured"] == pytest.approx(peak)
    assert figs["test_accuracy"]["measured"] == pytest.approx(run.metrics["test"]["accuracy"])
    assert all(f["tolerance"] == 0.02 and f["article"] == 0.95 for f in figs.values())


# -- the training options the articles' protocol needs ----------------------------------
@pytest.mark.parametrize(
    "args,message",
    [
        (["--rescale", "half"], "--rescale must be unit or none; got 'half'"),
        (["--validate-on", "tests"], "--validate-on must be split or test"),
        (["--validate-on", "test"], "the bundled sample has no test set"),
    ],
)
def test_bad_protocol_options_exit_2_before_any_run(args, message):
    from cnntui.core.runs import list_runs

    result = runner.invoke(app, ["train", "mnist-mlp", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert list_runs() == []
