"""``cnntui evaluate`` on real runs, its numbers recomputed independently with Keras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from run_factory import saved_models, write_run
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.data.bundle import sample_path
from cnntui.core.inference.open import open_model
from cnntui.core.judge.evaluate import evaluate_batches

SAMPLE = sample_path()

runner = CliRunner()


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    return saved_models(tmp_path_factory.getbasetemp())


@pytest.fixture
def digits_run(models):
    # the bundled digits, 1000 of them, 10% held out: 100 validation images
    return write_run(models["digits10"], [str(i) for i in range(10)], limit=1000)


def reference(model_path, limit=1000, val_split=0.1):
    """Plain Keras on the same split: loss, accuracy and predictions."""
    import keras

    from cnntui.core.data import load_data

    bundle = load_data(
        "sample", input_shape=(28, 28, 1), val_split=val_split, seed=0, limit=limit, batch_size=32
    )
    model = keras.models.load_model(model_path)
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in bundle.val], strict=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    loss, acc = model.evaluate(x, y, verbose=0)
    return loss, acc, y, np.asarray(model.predict(x, verbose=0))


def test_report_numbers_match_keras(digits_run, models):
    import keras

    result = runner.invoke(app, ["evaluate", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    loss, acc, y, probs = reference(models["digits10"])
    assert report["run"] == digits_run.id and report["split"] == "val"
    assert report["examples"] == len(y) == 100
    assert report["loss"] == pytest.approx(loss, abs=1e-4)
    assert report["accuracy"] == pytest.approx(acc, abs=1e-6)
    pred = probs.argmax(axis=1)
    cm = np.zeros((10, 10), int)
    for t, p in zip(y, pred, strict=True):
        cm[t, p] += 1
    assert report["confusion_matrix"] == cm.tolist()
    top5 = np.mean([t in np.argsort(-row)[:5] for t, row in zip(y, probs, strict=True)])
    assert report["top_k_accuracy"] == {"k": 5, "value": pytest.approx(top5)}
    row3 = report["per_class"][3]
    assert row3["support"] == int(np.sum(y == 3))
    assert row3["recall"] == pytest.approx(cm[3, 3] / cm[3].sum())
    assert row3["precision"] == pytest.approx(cm[3, 3] / max(cm[:, 3].sum(), 1))
    worst = report["highest_loss"][0]
    losses = -np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1))
    assert worst["loss"] == pytest.approx(float(losses.max()), rel=1e-4)
    # ids name the images: "sample[i]" indexes the bundled digits
    with np.load(SAMPLE) as d:
        x_all, y_all = d["x"], d["y"]
    model = keras.models.load_model(models["digits10"])
    for e in report["highest_loss"][:5]:
        i = int(e["id"].removeprefix("sample[").removesuffix("]"))
        assert y_all[i] == e["true_index"]
        p = model.predict(x_all[i : i + 1, ..., None] / 255.0, verbose=0)[0]
        assert float(p[e["predicted_index"]]) == pytest.approx(e["probability"], abs=1e-5)
    saved = json.loads(digits_run.path("evaluation.json").read_text())
    saved.pop("created"), report.pop("created")
    assert saved == report


def test_text_report(digits_run):
    result = runner.invoke(app, ["evaluate", digits_run.id[-4:]])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in [
        "accuracy",
        "confusion matrix (counts",
        "share of each true class",
        "macro avg",
        "weighted avg",
        "most confused",
        "highest loss",
    ]:
        assert heading in out, heading
    assert "\x1b[" not in out  # no colour codes when not a terminal


def test_cells_list_their_examples(digits_run):
    loaded = open_model(digits_run.id)
    from cnntui.core.data.run_data import load_split

    dataset, _, _, ids, _ = load_split(digits_run.config)
    result = evaluate_batches(loaded, dataset, ids=ids, id_prefix="val")
    report = result.report(max_examples=1000)
    for cell in report["confusion_examples"]:
        idx = result.cell(cell["true_index"], cell["predicted_index"])
        assert cell["count"] == len(idx) == len(cell["examples"])
        for i, ident in zip(idx, cell["examples"], strict=True):
            assert ident == result.ids[i] and ident.startswith("sample[")
            assert result.y_true[i] == cell["true_index"]
            assert result.y_pred[i] == cell["predicted_index"]
    assert sum(c["count"] for c in report["confusion_examples"]) == 100


def test_binary_report_has_sweep_and_pearson(models, digits_small):
    import keras

    x, y = digits_small
    keep = y <= 1
    x = x[keep].astype("float32")[..., None] / 255.0
    y = y[keep].astype("float32")
    run = write_run(models["binary"], ["zero", "one"], label_mode="binary")
    loaded = open_model(run.id)
    result = evaluate_batches(loaded, [(x[:32], y[:32, None]), (x[32:], y[32:, None])])
    report = result.report()
    p = keras.models.load_model(models["binary"]).predict(x, verbose=0)[:, 0]
    bce = float(keras.losses.binary_crossentropy(y[:, None], p[:, None]).numpy().mean())
    assert report["loss"] == pytest.approx(bce, abs=1e-4)
    assert report["accuracy"] == pytest.approx(float(np.mean((p >= 0.5) == (y == 1))))
    b = report["binary"]
    assert b["positive_class"] == "one"
    assert b["pearson"] == pytest.approx(float(np.corrcoef(p, y)[0, 1]), abs=1e-6)
    at_half = next(r for r in b["threshold_sweep"] if r["threshold"] == 0.5)
    assert at_half["accuracy"] == pytest.approx(float(np.mean((p >= 0.5) == (y == 1))))
    assert b["best"]["accuracy"] == max(r["accuracy"] for r in b["threshold_sweep"])
    assert report["top_k_accuracy"] is None  # top-k means nothing with two classes
    mse = evaluate_batches(loaded, [(x, y[:, None])], loss="mean_squared_error").report()
    want = float(keras.losses.mean_squared_error(y[:, None], p[:, None]).numpy().mean())
    assert (mse["loss_name"], mse["loss"]) == ("mean_squared_error", pytest.approx(want, abs=1e-6))


def test_other_data_and_errors(digits_run, models):
    result = runner.invoke(app, ["evaluate", "--data", "sample", "--limit", "200", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["split"], report["examples"]) == ("all", 200)
    assert digits_run.path("evaluation-sample.json").exists()
    bad = runner.invoke(app, ["evaluate", "--split", "train"])
    assert bad.exit_code == 2 and "--split must be one of" in bad.stderr
    no_val = write_run(models["digits10"], [str(i) for i in range(10)], val_split=0.0)
    result = runner.invoke(app, ["evaluate", no_val.id, "--split", "val"])
    assert result.exit_code == 2 and "no validation split" in result.stderr


def test_evaluate_without_runs_says_how_to_train():
    result = runner.invoke(app, ["evaluate"])
    assert result.exit_code == 2
    assert "cnntui train" in result.stderr


def test_run_made_by_cnntui_train(digits_small, tmp_path):
    """The real `cnntui train --limit`: evaluate reproduces its validation numbers."""
    from run_factory import write_digit_files

    from cnntui.core.runs import resolve_run

    trained = runner.invoke(
        app, ["train", "mnist-2conv", "--epochs", "1", "--limit", "300", "--view", "none"]
    )
    assert trained.exit_code == 0, trained.output
    run = resolve_run("latest-finished")
    result = runner.invoke(app, ["evaluate", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["run"] == run.id and report["examples"] == 30
    assert report["accuracy"] == pytest.approx(run.metrics["best_val_accuracy"], abs=1e-6)
    assert report["loss"] == pytest.approx(run.metrics["best_val_loss"], abs=1e-4)
    x, y = digits_small
    files = write_digit_files(x[:3], y[:3], tmp_path / "few")
    predicted = runner.invoke(app, ["predict", str(tmp_path / "few"), "--json"])
    assert predicted.exit_code == 0, predicted.output
    assert [d["path"] for d in json.loads(predicted.stdout)] == [str(f) for f in files]


def test_folder_data_names_images_by_path(digits_run, digits_small, tmp_path):
    """--data FOLDER with a test/ split: ids are file paths, bad files are skipped."""
    from run_factory import write_digit_files

    x, y = digits_small
    root = tmp_path / "digits-folder"
    for split, part in (("train", slice(0, 40)), ("test", slice(40, 70))):
        for k in range(10):
            mine = np.flatnonzero(y[part] == k)
            write_digit_files(x[part][mine], y[part][mine], root / split / str(k))
    (root / "test" / "3" / "broken.png").write_bytes(b"not a png")
    result = runner.invoke(app, ["evaluate", "--data", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["split"], report["examples"]) == ("test", 30)
    for e in report["highest_loss"]:
        assert Path(e["id"]).exists() and Path(e["id"]).parent.name == e["true"]
    assert any("broken.png" in note for note in report["notes"])
    assert digits_run.path("evaluation-digits-folder.json").exists()


def test_confusion_matrix_is_coloured_for_terminals():
    from cnntui.cli.evaluate import confusion_lines

    report = {
        "class_names": ["cat", "dog"],
        "confusion_matrix": [[3, 1], [0, 4]],
        "confusion_matrix_normalised": [[0.75, 0.25], [0.0, 1.0]],
    }
    plain = confusion_lines(report, normalised=False, color=False)
    assert plain[1].split() == ["true", "cat", "3", "1"]
    coloured = confusion_lines(report, normalised=True, color=True)
    assert "\x1b[48;5;40m" in coloured[1]  # 75% on the diagonal: a green
    assert "\x1b[48;5;88m" in coloured[1]  # 25% confusion: a dark red
    assert "0%" in coloured[2] and coloured[2].count("\x1b[48;5;") == 1  # empty cell: plain


def test_folder_without_test_split_is_evaluated_whole_and_named(digits_run, digits_small, tmp_path):
    from run_factory import write_digit_files

    x, y = digits_small
    root = tmp_path / "mine"
    for k in range(10):
        mine = np.flatnonzero(y[:50] == k)
        write_digit_files(x[:50][mine], y[:50][mine], root / str(k))
    (root / "7" / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = runner.invoke(app, ["evaluate", "--data", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["split"], report["examples"]) == ("all", 50)
    named = [e for c in report["confusion_examples"] for e in c["examples"]]
    assert sorted(named) == sorted(str(p) for p in root.rglob("*.png") if p.stat().st_size > 8)
    assert any("truncated.png" in note for note in report["notes"])
    (root / "7").rename(root / "seven")  # a class the model does not have
    wrong = runner.invoke(app, ["evaluate", "--data", str(root)])
    assert wrong.exit_code == 2 and "seven" in wrong.stderr
