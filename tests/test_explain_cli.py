"""``cnntui explain`` end to end on a run trained here and real PNG files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.images import Preprocessing
from tests.explain_factory import QUADRANTS, SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run

runner = CliRunner()


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return quadrant_models(tmp_path_factory.getbasetemp())


@pytest.fixture
def run(models):
    return write_run(
        models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE))
    )


@pytest.fixture
def files(tmp_path):
    x, _, where = quadrant_images(3, seed=11, positive=True)
    out = []
    for i, a in enumerate(x):
        p = tmp_path / "imgs" / f"{i}.png"
        p.parent.mkdir(exist_ok=True)
        Image.fromarray(a[..., 0]).save(p)
        out.append((p, QUADRANTS[where[i]]))
    return out


def test_json_and_out_files(run, files, tmp_path):
    out = tmp_path / "maps"
    res = runner.invoke(app, ["explain", str(files[0][0].parent), "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    docs = json.loads(res.stdout)
    assert [d["path"] for d in docs] == [str(p) for p, _ in files]
    for d, (_, quadrant) in zip(docs, files):
        assert d["method"] == "gradcam" and d["layer"] == "conv2" and d["class"] == d["predicted"]
        assert max(d["quadrant_mass"], key=d["quadrant_mass"].get) == quadrant
        png = Image.open(d["files"]["overlay"])
        assert png.mode == "RGB" and min(png.size) >= 224
        assert np.load(d["files"]["map"]).shape == (SIZE, SIZE)


def test_text_output_bad_file_and_top_k(run, files, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    res = runner.invoke(app, ["explain", str(files[0][0]), str(bad), "-k", "2", "-m", "occlusion"])
    assert res.exit_code == 1
    assert "occlusion: bright" in res.stdout and "occlusion: plain" in res.stdout
    assert f"{bad}" in res.stdout and "error:" in res.stdout and "low " in res.stdout


def test_bad_class_layer_and_mlp(run, files, tmp_path):
    import keras

    res = runner.invoke(app, ["explain", str(files[0][0]), "--class", "cat"])
    assert res.exit_code == 2 and "plain, bright" in res.output
    res = runner.invoke(app, ["explain", str(files[0][0]), "--layer", "nope"])
    assert res.exit_code == 2 and "conv1" in res.output
    mlp = keras.Sequential([keras.Input((SIZE, SIZE, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    path = tmp_path / "mlp.keras"
    mlp.save(path)
    res = runner.invoke(app, ["explain", str(files[0][0]), "-c", str(path)])
    assert res.exit_code == 2 and "saliency" in res.output
    res = runner.invoke(app, ["explain", str(files[0][0]), "-c", str(path), "-m", "saliency"])
    assert res.exit_code == 0, res.output


def test_feature_maps_and_filters(run, files, tmp_path):
    res = runner.invoke(app, ["explain", str(files[0][0]), "--feature-maps", "conv1", "--json",
                              "--out", str(tmp_path)])  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)["feature_maps"]
    assert info["shape"] == [SIZE, SIZE, 8] and Image.open(info["file"]).size[0] >= 512
    res = runner.invoke(app, ["explain", "--filters", "conv2"])
    assert res.exit_code == 0 and "kernels of conv2 (16 shown)" in res.stdout
    res = runner.invoke(app, ["explain", "--filters", "dropout"])
    assert res.exit_code == 2 and "convolution layers: conv1, conv2" in res.output


def test_smoothgrad_samples_and_noise(run, files):
    path, quadrant = files[0]
    res = runner.invoke(
        app,
        ["explain", str(path), "-m", "smoothgrad", "--samples", "4", "--noise", "0.1", "--json"],
    )
    assert res.exit_code == 0, res.output
    (doc,) = json.loads(res.stdout)
    assert doc["method"] == "smoothgrad"
    for bad, says in (
        (["--samples", "0"], "at least 1 sample"),
        (["--noise", "2"], "0 to 1"),
        (["-m", "gradcam", "--samples", "4"], "smoothgrad only"),
    ):
        args = ["explain", str(path), *(["-m", "smoothgrad"] if "-m" not in bad else []), *bad]
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and says in res.output, (bad, res.output)
