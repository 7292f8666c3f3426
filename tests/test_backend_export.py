"""What needs TensorFlow says so in one line (exit 2) under another backend, before work."""

from __future__ import annotations

from backend_harness import needs_backend, run_cli

pytestmark = needs_backend("jax")


def test_export_under_jax_names_the_backend_to_use_and_writes_nothing(tmp_path):
    out = tmp_path / "export"
    result = run_cli(["export", "latest", "--format", "all", "--out", out], backend="jax")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs the TensorFlow backend and Keras runs on jax" in lines[0]
    assert "--backend tensorflow" in lines[0]
    assert not out.exists()


def test_a_savedmodel_without_tensorflow_says_what_to_install(tmp_path):
    folder = tmp_path / "model.savedmodel"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"")  # never read: TensorFlow is asked for first
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (28, 28)).save(image)
    result = run_cli(["predict", "--model", folder, image], backend="jax")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "needs TensorFlow, which is not installed: pip install tensorflow" in result.stderr
    assert ".onnx export" in result.stderr
