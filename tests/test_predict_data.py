"""``cnntui predict --data SOURCE --split S --limit N``: the first images of a dataset.

No download: Keras's MNIST loader is replaced by real bundled digits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from run_factory import saved_models, write_digit_files, write_run
from typer.testing import CliRunner

from cnntui.cli.main import app

runner = CliRunner()


@pytest.fixture
def digits_run(tmp_path_factory):
    models = saved_models(tmp_path_factory.getbasetemp())
    return write_run(models["digits10"], [str(i) for i in range(10)])


@pytest.fixture
def fake_mnist(monkeypatch, digits_small):
    """keras.datasets.mnist.load_data replaced: 200 train and 100 test real digits."""
    import keras

    x, y = digits_small
    monkeypatch.setattr(
        keras.datasets.mnist, "load_data", lambda: ((x[:200], y[:200]), (x[200:], y[200:]))
    )
    return x[200:], y[200:]


def _probs(items):
    return [{t["label"]: t["probability"] for t in item["top"]} for item in items]


def test_first_test_images_match_the_same_images_as_files(digits_run, fake_mnist, tmp_path):
    xt, yt = fake_mnist
    result = runner.invoke(
        app, ["predict", "--run", digits_run.id, "--data", "mnist", "--split", "test",
              "--limit", "4", "--json", "--top-k", "10"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert [i["path"] for i in items] == [f"mnist:test[{k}]" for k in range(4)]
    assert [i["true"] for i in items] == [str(int(v)) for v in yt[:4]]
    files = write_digit_files(xt[:4], yt[:4], tmp_path / "files")
    by_file = runner.invoke(
        app, ["predict", "--run", digits_run.id, *map(str, files), "--json", "--top-k", "10"]
    )
    assert by_file.exit_code == 0, by_file.output
    for a, b in zip(_probs(items), _probs(json.loads(by_file.stdout)), strict=True):
        assert a.keys() == b.keys()
        assert np.allclose([a[k] for k in a], [b[k] for k in a], atol=1e-5)


def test_text_output_names_the_true_label(digits_run, fake_mnist):
    result = runner.invoke(
        app, ["predict", "--run", digits_run.id, "--data", "mnist", "--limit", "2"]
    )
    assert result.exit_code == 0, result.output
    assert f"mnist:test[1]  (true: {int(fake_mnist[1][1])})" in result.stdout


def test_a_dataset_that_cannot_be_loaded_offline_is_a_clear_error(digits_run, monkeypatch):
    import keras

    def offline():
        raise OSError("URL fetch failure: Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    result = runner.invoke(app, ["predict", "--run", digits_run.id, "--data", "mnist"])
    assert result.exit_code == 2
    assert "could not download the mnist dataset" in result.stderr
    assert "mnist.npz" in result.stderr  # where to put it by hand


def test_the_sample_has_no_test_split_and_paths_exclude_data(digits_run):
    result = runner.invoke(app, ["predict", "--run", digits_run.id, "--data", "sample"])
    assert result.exit_code == 2
    assert "sample has no test split (it has train); use --split train" in result.stderr
    result = runner.invoke(
        app, ["predict", "--run", digits_run.id, "--data", "sample", "--split", "train",
              "--limit", "3", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [i["true"] for i in json.loads(result.stdout)] == ["0", "0", "0"]  # sorted by label
    result = runner.invoke(app, ["predict", "--run", digits_run.id, "x.png", "--data", "sample"])
    assert result.exit_code == 2 and "not both" in result.output


def test_evaluate_positive_class_names_the_class_the_binary_report_uses(
    tmp_path_factory, digits_small, tmp_path
):
    models = saved_models(tmp_path_factory.getbasetemp())
    run = write_run(models["binary"], ["zero", "one"], label_mode="binary")
    x, y = digits_small
    keep = y <= 1
    npz = tmp_path / "zero_one.npz"
    np.savez(npz, x=x[keep], y=y[keep], class_names=np.array(["zero", "one"]))
    reports = {}
    for positive in (None, "zero"):
        extra = ["--positive-class", positive] if positive else []
        result = runner.invoke(app, ["evaluate", run.id, "--data", str(npz), "--json", *extra])
        assert result.exit_code == 0, result.output
        reports[positive] = json.loads(result.stdout)["binary"]
    assert reports[None]["positive_class"] == "one" and reports["zero"]["positive_class"] == "zero"
    # the score of a class against that class's label: r is the same from either side
    assert reports["zero"]["pearson"] == pytest.approx(reports[None]["pearson"], abs=1e-6)
    # positives (tp + fn) are the images labelled zero, not those labelled one
    for positive, label in ((None, 1), ("zero", 0)):
        row = reports[positive]["threshold_sweep"][0]
        assert row["tp"] + row["fn"] == int(np.sum(y[keep] == label))
    result = runner.invoke(
        app, ["evaluate", run.id, "--data", str(npz), "--positive-class", "horse"]
    )
    assert result.exit_code == 2
    assert "positive class 'horse' is not one of the classes zero, one" in result.stderr
