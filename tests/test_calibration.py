"""Calibration metrics against hand-worked answers; temperature scaling on a real
over-confident model; predict and evaluate applying it; ROC/PR curves and PNG plots."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.inference.calibration import CALIBRATION, apply_temperature
from cnntui.core.judge import metrics
from cnntui.core.judge.calibrate import fit_temperature
from tests.run_factory import saved_models, write_digit_files, write_run

runner = CliRunner()
ASSET = os.path.join(os.path.dirname(__file__), "..", "cnntui", "assets", "mnist_5k.npz")


def test_ece_mce_nll_brier_by_hand():
    # confidences 0.9 (right), 0.9 (wrong), 0.7, 0.7 (right), 0.55 (wrong); 15 bins
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.3, 0.7], [0.55, 0.45]])
    y = np.array([0, 1, 1, 1, 1])
    cal = metrics.calibration(y, probs, binary=True)
    # bins: 0.9: acc 0.5 (gap 0.4, 2/5); 0.7: acc 1 (gap 0.3, 2/5); 0.55: acc 0 (gap 0.55, 1/5)
    assert cal["ece"] == pytest.approx(0.4 * 2 / 5 + 0.3 * 2 / 5 + 0.55 / 5)
    assert cal["mce"] == pytest.approx(0.55)
    nll = -(math.log(0.9) + math.log(0.1) + 2 * math.log(0.7) + math.log(0.45)) / 5
    assert cal["nll"] == pytest.approx(nll)
    assert cal["brier"] == pytest.approx((0.1**2 + 0.9**2 + 0.3**2 + 0.3**2 + 0.55**2) / 5)
    counts = [b["count"] for b in cal["bins"]]
    assert sum(counts) == 5 and len(counts) == 15 and counts[13] == 2 and counts[8] == 1
    three = np.array([[0.2, 0.5, 0.3]])
    assert metrics.brier_score(np.array([1]), three) == pytest.approx(0.04 + 0.25 + 0.09)


def test_roc_and_pr_curves_by_hand():
    scores, pos = np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0], bool)
    roc = metrics.roc_curve(scores, pos)
    assert roc["fpr"] == [0.0, 0.0, 0.5, 0.5, 1.0] and roc["tpr"] == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(metrics.roc_auc(scores, pos))
    pr = metrics.pr_curve(scores, pos)
    assert pr["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_temperature_is_exact_for_logits():
    z = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    want = np.exp(z / 2.5) / np.exp(z / 2.5).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(apply_temperature(p, 2.5), want, rtol=1e-9)
    logit = 1.3
    binary = apply_temperature(
        np.array([[1 - 1 / (1 + math.exp(-logit)), 1 / (1 + math.exp(-logit))]]), 2.0
    )
    assert binary[0, 1] == pytest.approx(1 / (1 + math.exp(-logit / 2)))
    # a known over-confidence: labels drawn from softmax(z), model reports softmax(3 z)
    rng = np.random.default_rng(0)
    zs = rng.normal(size=(4000, 4))
    truth = np.exp(zs) / np.exp(zs).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in truth])
    sharp = np.exp(3 * zs) / np.exp(3 * zs).sum(axis=1, keepdims=True)
    assert fit_temperature(sharp, y) == pytest.approx(3.0, rel=0.1)


@pytest.fixture(scope="module")
def overconfident(tmp_path_factory):
    """A real CNN trained far past its data (152 digits, 25 epochs): over-confident."""
    import keras

    from tests.run_factory import tiny_cnn

    with np.load(
        os.path.join(os.path.dirname(__file__), "..", "cnntui", "assets", "mnist_5k.npz")
    ) as d:
        x, y = d["x"][::33], d["y"][::33]  # 152 digits of every class
    keras.utils.set_random_seed(0)
    model = tiny_cnn()
    model.fit(x[..., None] / 255.0, y, epochs=25, batch_size=16, verbose=0)
    path = tmp_path_factory.mktemp("overconfident") / "model.keras"
    model.save(path)
    return path


def test_calibrate_lowers_nll_and_is_applied(overconfident, tmp_path):
    run = write_run(overconfident, [str(i) for i in range(10)], limit=600)
    res = runner.invoke(app, ["calibrate", run.id, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["temperature"] > 1.0  # over-confident: softened
    assert doc["after"]["nll"] < doc["before"]["nll"]
    assert doc["after"]["ece"] < doc["before"]["ece"]
    assert json.loads(run.path(CALIBRATION).read_text())["temperature"] == doc["temperature"]

    with np.load(
        os.path.join(os.path.dirname(__file__), "..", "cnntui", "assets", "mnist_5k.npz")
    ) as d:
        files = write_digit_files(d["x"][:3], d["y"][:3], tmp_path / "digits")
    raw = runner.invoke(
        app, ["predict", str(files[0]), "--run", run.id, "--json", "--no-calibration", "-k", "10"]
    )
    cal = runner.invoke(app, ["predict", str(files[0]), "--run", run.id, "--json", "-k", "10"])
    assert raw.exit_code == cal.exit_code == 0
    from cnntui.core.inference.open import open_model
    from cnntui.core.inference.predict import collect_inputs, predict_paths

    (exact,) = predict_paths(open_model(run.id), collect_inputs([files[0]]))  # uncalibrated
    p_cal = {t["index"]: t["probability"] for t in json.loads(cal.stdout)[0]["top"]}
    want = apply_temperature(exact.probabilities[None], doc["temperature"])[0]
    np.testing.assert_allclose([p_cal[i] for i in range(10)], want, atol=2e-6, err_msg=str(doc))
    assert "calibrated: temperature" in cal.stderr

    ev = runner.invoke(app, ["evaluate", run.id, "--json"])
    plain = runner.invoke(app, ["evaluate", run.id, "--json", "--no-calibration"])
    ev_cal, plain_cal = (
        json.loads(ev.stdout)["calibration"],
        json.loads(plain.stdout)["calibration"],
    )
    assert ev_cal["temperature"] == doc["temperature"] and plain_cal["temperature"] == 1.0
    assert ev_cal["nll"] == pytest.approx(doc["after"]["nll"])
    assert plain_cal["nll"] == pytest.approx(doc["before"]["nll"])

    os.utime(run.path("best.keras"), ns=(1, 1))  # another checkpoint now: not applied
    stale = runner.invoke(app, ["predict", str(files[0]), "--run", run.id, "--json", "-k", "10"])
    assert "not applied" in stale.stderr
    assert json.loads(stale.stdout)[0]["top"] == json.loads(raw.stdout)[0]["top"]


def test_plots_and_explain_worst(tmp_path_factory, tmp_path):
    models = saved_models(tmp_path_factory.getbasetemp())
    run = write_run(models["binary"], ["zero", "one"], label_mode="binary")
    with np.load(ASSET) as d:
        x, y = d["x"], d["y"]
    for digit, name in ((0, "zero"), (1, "one")):
        write_digit_files(x[y == digit][:30], y[y == digit][:30], tmp_path / "bin" / name)
    out = tmp_path / "plots"
    res = runner.invoke(app, ["evaluate", run.id, "--data", str(tmp_path / "bin"), "--json",
                              "--plots", str(out), "--explain-worst", "3"])  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["pr_curve"]["positive_class"] == "one" and len(report["roc_curves"]) == 1
    assert report["roc_curves"][0]["auc"] == pytest.approx(report["per_class"][1]["roc_auc"])
    names = sorted(os.path.basename(p) for p in report["plots"])
    assert names == ["confusion.png", "pr.png", "reliability.png", "roc.png"]
    for p in report["plots"]:
        assert Image.open(p).size[0] >= 250
    worst = report["explain_worst"]
    assert len(worst) == 3 and worst[0]["loss"] >= worst[1]["loss"] >= worst[2]["loss"]
    assert worst[0]["loss"] == pytest.approx(report["highest_loss"][0]["loss"])
    assert all(Image.open(w["file"]).mode == "RGB" for w in worst)
    assert all(os.path.dirname(w["file"]) == str(run.path("worst")) for w in worst)
    assert worst[0]["id"].endswith(".png")  # folder images are named by their path
    text = runner.invoke(app, ["evaluate", run.id, "--data", str(tmp_path / "bin")])
    assert "calibration (uncalibrated" in text.stdout and "ROC (one-vs-rest)" in text.stdout
    assert "precision-recall (positive: one)" in text.stdout
