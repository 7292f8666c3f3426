"""``cnntui export`` and ``predict --model``: real conversions of real trained models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from run_factory import saved_models, tiny_cnn, train_tiny, write_digit_files, write_run
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.export.formats import FORMATS
from cnntui.core.images import Preprocessing

runner = CliRunner()
ALL = list(FORMATS)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A real zoo entry (mnist-conv-pool) trained for two epochs on 1,200 bundled digits."""
    from cnntui.core.train import TrainConfig, train

    root = tmp_path_factory.mktemp("export-runs")
    result = train(
        TrainConfig(
            "mnist-conv-pool",
            epochs=2,
            batch_size=16,
            limit=1500,
            val_split=0.2,
            runs_dir=str(root),
        )
    )
    assert result.status == "finished"
    return result.run


@pytest.fixture(scope="module")
def exported(trained):
    """Every format exported once from :func:`trained` into its default folder."""
    from cnntui.core.export.export import export_run

    rows = []
    report = export_run(str(trained.dir), ALL, progress=lambda k, p: rows.append((k, p)))
    return report, Path(report["out"]), rows


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return saved_models(tmp_path_factory.getbasetemp())


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_every_format_agrees_with_keras(exported, trained):
    report, out, progress = exported
    rows = {r["format"]: r for r in report["formats"]}
    assert list(rows) == ALL and report["passed"]
    assert report["data"] == {"source": "sample", "split": "val", "examples": 300, "notes": []}
    for name, row in rows.items():
        assert row["agreement"] >= FORMATS[name].min_agreement, row
        assert (out / row["file"]).exists()
        assert row["latency_ms_b1"] > 0 and row["latency_ms_b32"] > 0
    for name in ("savedmodel", "tflite", "onnx"):
        assert rows[name]["max_prob_diff"] < 1e-4  # float exports: the same function
    assert abs(rows["tflite"]["accuracy"] - report["keras"]["accuracy"]) < 0.01
    assert rows["tflite-int8"]["size_bytes"] <= 0.30 * rows["tflite"]["size_bytes"]
    assert rows["tflite-fp16"]["size_bytes"] < 0.6 * rows["tflite"]["size_bytes"]
    # the table filled in row by row: the Keras reference first, then each format
    assert [p["format"] for k, p in progress if k == "row"] == ["keras", *ALL]
    assert sorted(p.name for p in trained.dir.iterdir() if p.name.startswith(".")) == []


def test_int8_agreement_recomputed_with_plain_tflite(exported, trained):
    """Independent of cnntui's runtimes: tf.lite on the raw int8 tensors vs plain Keras."""
    import keras
    import tensorflow as tf

    from cnntui.core.data.run_data import load_run_data

    _, out, _ = exported
    bundle = load_run_data(trained.config, None, "val")[0]
    x = np.concatenate([np.asarray(b[0]) for b in bundle.val])
    ref = np.argmax(keras.models.load_model(trained.path("best.keras")).predict(x, verbose=0), 1)
    it = tf.lite.Interpreter(model_path=str(out / "model_int8.tflite"))
    inp, outp = it.get_input_details()[0], it.get_output_details()[0]
    it.resize_tensor_input(inp["index"], [len(x), 28, 28, 1])
    it.allocate_tensors()
    scale, zero = inp["quantization"]
    it.set_tensor(inp["index"], np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8))
    it.invoke()
    got = np.argmax(it.get_tensor(outp["index"]), 1)
    assert inp["dtype"] == np.int8 and np.mean(got == ref) >= 0.97


def test_sidecars_are_complete(exported, trained):
    report, out, _ = exported
    cfg = trained.config
    names = cfg["data"]["class_names"]
    assert (out / "labels.txt").read_text().splitlines() == names
    doc = json.loads((out / "preprocessing.json").read_text())
    assert Preprocessing.from_dict(doc) == Preprocessing.from_dict(cfg["data"]["preprocessing"])
    assert doc["class_names"] == names and doc["units"] == 10 and not doc["binary_sigmoid"]
    assert doc["output"] == "probabilities" and doc["input_shape"] == [28, 28, 1]
    assert doc["files"] == {name: FORMATS[name].filename for name in ALL}
    card = (out / "MODEL.md").read_text()
    assert trained.id in card and "mnist-conv-pool" in card
    for row in report["formats"]:
        assert f"| {row['format']} | {row['file']} |" in card
        assert f"{row['agreement']:.2%}" in card
    assert "best_val_accuracy" in card and f"scale {1 / 255:.8g}" in card
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(FORMATS[n].filename for n in ALL), "labels.txt", "preprocessing.json", "MODEL.md"]
    )


def test_keras_can_reload_the_savedmodel_signature(exported):
    import tensorflow as tf

    _, out, _ = exported
    sig = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    (spec,) = sig.structured_input_signature[1].values()
    assert spec.shape.as_list() == [None, 28, 28, 1]


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory):
    with np.load(Path(__file__).resolve().parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        x, y = d["x"], d["y"]
    idx = np.random.default_rng(1).choice(len(x), 200, replace=False)
    return write_digit_files(x[idx], y[idx], tmp_path_factory.mktemp("pngs"))


def _top1(output: str) -> list[tuple[str, str]]:
    return [(d["path"], d["top"][0]["label"]) for d in json.loads(output)]


@pytest.mark.parametrize("name", ALL)
def test_predict_model_agrees_with_predict_run(exported, trained, digit_pngs, name):
    _, out, _ = exported
    folder = str(digit_pngs[0].parent)
    by_run = invoke("predict", folder, "--run", str(trained.dir), "--json")
    by_model = invoke("predict", folder, "--model", str(out / FORMATS[name].filename), "--json")
    assert by_run.exit_code == 0 and by_model.exit_code == 0, by_model.output
    a, b = _top1(by_run.stdout), _top1(by_model.stdout)
    assert len(a) == len(b) == 200 and [p for p, _ in a] == [p for p, _ in b]
    assert np.mean([x == y for x, y in zip(a, b, strict=True)]) >= 0.99


def test_predict_model_flags_and_exit_codes(exported, digit_pngs, tmp_path):
    _, out, _ = exported
    model = str(out / "model.tflite")
    res = invoke("predict", str(digit_pngs[0]), "missing.png", "--model", model, "--csv", "-k", "2")
    assert res.exit_code == 1
    lines = res.stdout.splitlines()
    assert lines[0] == "path,rank,label,index,probability,error" and len(lines) == 4
    assert lines[3].startswith("missing.png,") and "no such file" in lines[3]
    assert invoke("predict", str(digit_pngs[0]), "--model", "nope.tflite").exit_code == 2
    keras_file = tmp_path / "m.keras"
    keras_file.write_bytes(b"")
    res = invoke("predict", str(digit_pngs[0]), "--model", str(keras_file))
    assert res.exit_code == 2 and "--checkpoint" in res.output
    res = invoke("predict", str(digit_pngs[0]), "--model", model, "--run", "latest")
    assert res.exit_code == 2
    # alone, without its sidecars: the size comes from the model, labels are indices
    lone = tmp_path / "lone.onnx"
    lone.write_bytes((out / "model.onnx").read_bytes())
    res = invoke("predict", str(digit_pngs[0]), "--model", str(lone), "--json")
    assert res.exit_code == 0 and "no preprocessing.json" in res.stderr
    assert json.loads(res.stdout)[0]["top"][0]["label"].isdigit()


def test_tflite_runs_without_litert_through_tensorflow(exported, monkeypatch):
    from cnntui.core.inference.runtimes import TFLiteRuntime, _interpreter_class

    _, out, _ = exported
    x = np.zeros((3, 28, 28, 1), np.float32)
    with_litert = TFLiteRuntime(out / "model.tflite").predict(x)
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    import tensorflow as tf

    assert _interpreter_class() is tf.lite.Interpreter
    np.testing.assert_allclose(TFLiteRuntime(out / "model.tflite").predict(x), with_litert, 1e-6)


def test_cli_table_json_and_out_folder_rules(trained, tmp_path):
    out = tmp_path / "exp"
    res = invoke("export", str(trained.dir), "-f", "tflite", "--out", str(out), "--limit", "64")
    assert res.exit_code == 0, res.output
    table = res.stdout.splitlines()
    assert any(line.startswith("format") and "agreement" in line for line in table)
    assert any(line.startswith("tflite ") and line.endswith("ok") for line in table)
    # an existing folder with files is refused, untouched, unless --force
    (out / "mine.txt").write_text("keep")
    res = invoke("export", str(trained.dir), "-f", "tflite", "--out", str(out), "--json")
    assert res.exit_code == 2 and "--force" in res.stderr
    assert (out / "mine.txt").read_text() == "keep"
    res = invoke(
        "export", str(trained.dir), "-f", "tflite-int8,tflite", "--out", str(out), "--force",
        "--json", "--limit", "64", "--calibration-images", "16",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert [r["format"] for r in doc["formats"]] == ["tflite", "tflite-int8"]
    assert doc["calibration_images"] == 16 and doc["data"]["examples"] == 64
    assert not (out / "mine.txt").exists() and (out / "model_int8.tflite").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["exp"]  # no temporary folders left


def test_bad_input_exits_2_and_writes_nothing(trained, models, tmp_path, monkeypatch):
    out = tmp_path / "out"
    res = invoke("export", str(trained.dir), "-f", "tflite,coreml", "--out", str(out))
    assert res.exit_code == 2 and "unknown export format 'coreml'" in res.stderr
    empty = write_run(models["digits10"], [str(i) for i in range(10)], checkpoints=())
    res = invoke("export", str(empty.dir), "--out", str(out))
    assert res.exit_code == 2 and "no checkpoint" in res.stderr
    marker = tmp_path / "lambda-ran"
    monkeypatch.setenv("CNNTUI_TEST_LAMBDA_MARKER", str(marker))
    lam = write_run(models["lambda"], [str(i) for i in range(10)])
    res = invoke("export", str(lam.dir), "--out", str(out))
    assert res.exit_code == 2 and "Lambda" in res.stderr and "--unsafe" in res.stderr
    assert not marker.exists()
    res = invoke("export", str(trained.dir), "--out", str(out), "--min-agreement", "150")
    assert res.exit_code == 2 and "--min-agreement" in res.stderr
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if the onnx extra were missing
    res = invoke("export", str(trained.dir), "-f", "onnx", "--out", str(out))
    assert res.exit_code == 2 and "pip install 'cnntui[onnx]'" in res.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    res = invoke("export", str(trained.dir), "--out", str(trained.dir.parent), "--force")
    assert res.exit_code == 2 and "holds the run" in res.stderr and trained.dir.is_dir()


def test_an_unconfident_model_fails_int8_parity(tmp_path):
    """Softmax outputs within 1/256 of each other: int8 output cannot keep their order."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, activation="relu")(inputs))
    x = keras.layers.Rescaling(0.01)(keras.layers.Dense(10)(x))
    model = keras.Model(inputs, keras.layers.Softmax()(x))
    run = write_run(model, [str(i) for i in range(10)])
    out = tmp_path / "flat"
    res = invoke("export", str(run.dir), "-f", "tflite-int8", "--out", str(out), "--json")
    assert res.exit_code == 1 and "FAILED: tflite-int8" in res.stderr
    row = json.loads(res.stdout)["formats"][0]
    assert not row["passed"] and row["agreement"] < 0.97
    assert "FAILED (< 97%)" in (out / "MODEL.md").read_text()


def _op_names(out: Path) -> set[str]:
    import onnx
    import tensorflow as tf

    names = {n.op_type for n in onnx.load(str(out / "model.onnx")).graph.node}
    it = tf.lite.Interpreter(model_path=str(out / "model.tflite"))
    names |= {op["op_name"] for op in it._get_ops_details()}
    sig = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    names |= {n.op for f in sig.graph.as_graph_def().library.function for n in f.node_def}
    names |= {op.type for op in sig.graph.get_operations()}
    return names


@pytest.mark.slow  # trains and converts a third model: the float formats' cost, again
def test_augmentation_layers_are_not_exported(digits_small, tmp_path):
    import keras

    x, y = digits_small
    keras.utils.set_random_seed(0)
    aug = keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.2)],
        name="augment",
    )
    inputs = keras.Input((28, 28, 1))
    base = tiny_cnn()
    model = keras.Model(inputs, base(aug(inputs)))
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x.astype("float32")[..., None] / 255, y, epochs=1, verbose=0)
    run = write_run(model, [str(i) for i in range(10)])
    out = tmp_path / "aug"
    res = invoke(
        "export", str(run.dir), "-f", "savedmodel,tflite,onnx", "--out", str(out), "--json",
        "--limit", "64",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["removed_layers"] == ["random_flip", "random_rotation"]
    assert "random_flip, random_rotation" in (out / "MODEL.md").read_text()
    rows = doc["formats"]
    assert all(r["agreement"] == 1.0 and r["max_prob_diff"] < 1e-4 for r in rows)
    ops = _op_names(out)
    assert "Conv2D" in ops or "CONV_2D" in ops
    assert not [op for op in ops if "Random" in op or "ImageProjectiveTransform" in op]


def test_binary_sigmoid_model(digits, tmp_path):
    x, y = digits
    keep = np.flatnonzero(y <= 1)[::4]
    npz = tmp_path / "zero-one.npz"
    np.savez(npz, x=x[keep], y=y[keep])
    model = train_tiny(x[keep], y[keep], units=1, epochs=2)
    run = write_run(model, ["zero", "one"], source=str(npz), label_mode="binary", val_split=0.3)
    out = tmp_path / "bin"
    res = invoke("export", str(run.dir), "-f", "tflite-int8,onnx", "--out", str(out), "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["units"] == 1 and doc["passed"] and doc["keras"]["accuracy"] > 0.9
    assert json.loads((out / "preprocessing.json").read_text())["binary_sigmoid"] is True
    files = write_digit_files(x[keep][:6], y[keep][:6], tmp_path / "png")
    ref = invoke("predict", *map(str, files), "--run", str(run.dir), "--json")
    for name in ("tflite-int8", "onnx"):
        res = invoke("predict", *map(str, files), "--model", str(out / FORMATS[name].filename),
                     "--json", "-k", "2")  # fmt: skip
        assert res.exit_code == 0, res.output
        for got, want in zip(json.loads(res.stdout), json.loads(ref.stdout), strict=True):
            assert {t["label"] for t in got["top"]} == {"zero", "one"}
            assert sum(t["probability"] for t in got["top"]) == pytest.approx(1.0, abs=1e-5)
            assert got["top"][0]["label"] == want["top"][0]["label"]
