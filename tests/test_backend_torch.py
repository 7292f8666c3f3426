"""Under PyTorch with TensorFlow hidden: train, resume and predict (runs where torch is
installed; the `torch` marker)."""

from __future__ import annotations

import json
from pathlib import Path

from backend_harness import assert_ok, needs_backend, run_cli
from PIL import Image

from cnntui.core.runs import Run

pytestmark = needs_backend("torch")


def _last_json(stdout: str) -> dict:
    try:
        return json.loads(stdout)
    except ValueError:
        return json.loads(stdout.strip().splitlines()[-1])


def test_train_resume_and_predict_under_torch(tmp_path, digits):
    env = {"CNNTUI_RUNS_DIR": str(tmp_path / "runs")}
    args = ["train", "mnist-mlp", "--limit", "300", "--batch-size", "32", "--view", "lines"]
    first = _last_json(assert_ok(run_cli([*args, "--epochs", "1", "--json"],
                                         backend="torch", env=env)).stdout)  # fmt: skip
    again = run_cli(["train", "--resume", first["run_id"], "--epochs", "2", "--json"],
                    backend="torch", env=env)  # fmt: skip
    assert _last_json(assert_ok(again).stdout)["status"] == "finished"
    run = Run(Path(first["dir"]))
    begins = [json.loads(line) for line in run.path("events.jsonl").read_text().splitlines()]
    assert [e["backend"] for e in begins if e["event"] == "begin"] == ["torch", "torch"]
    assert run.config["data"]["pipeline"] == "python"
    x, _ = digits
    Image.fromarray(x[0]).save(tmp_path / "digit.png")
    out = run_cli(["predict", "-r", run.id, str(tmp_path / "digit.png"), "--json", "-k", "10"],
                  backend="torch", env=env)  # fmt: skip
    row = json.loads(assert_ok(out).stdout[: out.stdout.rindex("]") + 1])[0]
    assert abs(sum(t["probability"] for t in row["top"]) - 1.0) < 1e-4
