"""Explanations under JAX and PyTorch agree with TensorFlow's on the same checkpoints.

The reference maps are computed here (TensorFlow); the same function runs in a child
under the other backend with TensorFlow hidden (tests/backend_harness.py), on the same
saved models: two trained quadrant CNNs (softmax and sigmoid heads) and the softmax one
nested in a Sequential. The child also runs ``cnntui explain`` end to end.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from backend_harness import installed, needs_backend, run_json

from cnntui.core.judge.metrics import spearman
from tests.explain_factory import SIZE, quadrant_images, quadrant_models

pytestmark = pytest.mark.skipif(
    not installed("tensorflow"), reason="the reference maps are TensorFlow's"
)
ROOT = Path(__file__).resolve().parents[1]
LAYER_METHODS = ("gradcam", "gradcam++")


def maps_for(paths: dict[str, str]) -> dict[str, np.ndarray]:
    """Raw maps of every method for two held-out images, keyed ``model-method-class``."""
    import keras

    from cnntui.core.inference.open import open_model
    from cnntui.core.judge.explain.explainer import explain_arrays
    from cnntui.core.judge.explain.layers import choose_layer
    from cnntui.core.judge.explain.methods import METHODS

    x, _, _ = quadrant_images(2, seed=7, positive=True)
    out = {}
    models = {name: open_model(checkpoint=path) for name, path in paths.items()}
    inner = models["softmax"].model  # nested in a Sequential: the same weights, no reload
    outer = keras.Sequential([keras.Input((SIZE, SIZE, 1)), inner], name="outer")
    models["nested"] = dataclasses.replace(models["softmax"], model=outer)
    for name, loaded in models.items():
        methods = LAYER_METHODS if name == "nested" else METHODS
        for cls in (0, 1) if name == "binary" else (1,):
            for method in methods:
                ref = choose_layer(loaded.model) if method in LAYER_METHODS else None
                raw, _, _ = explain_arrays(loaded, x, np.full(len(x), cls), method, ref)
                out[f"{name}-{method}-{cls}"] = raw
    return out


CHILD = """
import json, sys
import numpy as np
sys.path[:0] = [{root!r}, {tests!r}]
from test_backend_explain import maps_for
np.savez({out!r}, **maps_for({paths!r}))
cli = None
if {argv!r}:
    from typer.testing import CliRunner
    from cnntui.cli.main import app
    result = CliRunner().invoke(app, {argv!r})
    cli = {{"code": result.exit_code, "stdout": result.stdout, "error": repr(result.exception)}}
print(json.dumps(cli))
"""
# `cnntui explain` end to end needs predict's eager path, which under torch still calls
# np.asarray on a tensor that requires grad (core/inference/predict.py): the maps only, there.
BACKENDS = [
    pytest.param("jax", True, marks=needs_backend("jax"), id="jax"),
    pytest.param("torch", False, marks=needs_backend("torch"), id="torch"),
]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, str]:
    return {k: str(v) for k, v in quadrant_models(tmp_path_factory.getbasetemp()).items()}


@pytest.fixture(scope="module")
def reference(checkpoints) -> dict[str, np.ndarray]:
    import keras

    assert keras.backend.backend() == "tensorflow"
    return maps_for(checkpoints)


@pytest.mark.parametrize(("backend", "with_cli"), BACKENDS)
def test_every_method_matches_tensorflow(backend, with_cli, checkpoints, reference, tmp_path):
    image = tmp_path / "q.png"
    from PIL import Image

    x, _, _ = quadrant_images(2, seed=7, positive=True)
    Image.fromarray(x[1, :, :, 0]).save(image)
    argv = ["explain", str(image), "--checkpoint", checkpoints["binary"], "--method",
            "integrated-gradients", "--out", str(tmp_path / "maps"), "--json"]  # fmt: skip
    out = tmp_path / f"{backend}.npz"
    code = CHILD.format(
        root=str(ROOT),
        tests=str(ROOT / "tests"),
        out=str(out),
        paths=checkpoints,
        argv=argv if with_cli else [],
    )
    cli = run_json(code, backend=backend)

    with np.load(out) as got:
        assert sorted(got.files) == sorted(reference)
        for key, want in reference.items():
            scale = float(np.abs(want).max())
            assert scale > 0, key  # a map of zeros would agree with anything
            np.testing.assert_allclose(got[key], want, rtol=1e-3, atol=1e-4 * scale, err_msg=key)
            for a, b in zip(got[key], want):
                assert spearman(a.ravel(), b.ravel()) > 0.99, key

    if not with_cli:
        return
    assert cli["code"] == 0, cli
    (shown,) = json.loads(cli["stdout"])
    from cnntui.core.inference.open import open_model
    from cnntui.core.judge.explain.explainer import explain_paths

    (here,) = explain_paths(
        open_model(checkpoint=checkpoints["binary"]), [(str(image), None)], "integrated-gradients"
    )
    assert shown["class"] == here.label and shown["predicted"] == here.predicted
    saved = np.load(shown["files"]["map"])
    np.testing.assert_allclose(saved, here.raw, rtol=1e-3, atol=1e-4 * np.abs(here.raw).max())
