"""bench/gpu_check.py runs where TensorFlow is absent: its --quick, under JAX on this CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backend_harness import assert_ok, needs_backend, run_python

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param("jax", marks=needs_backend("jax"))])
def test_quick_gpu_check_reports_every_figure(backend, tmp_path):
    out = tmp_path / "check.json"
    args = [str(ROOT / "bench" / "gpu_check.py"), "--quick", "--entries", "mnist-mlp",
            "--batch-sizes", "16", "--target-model", "mnist-mlp",
            "--overhead-model", "mnist-mlp", "--json", str(out)]  # fmt: skip
    printed = assert_ok(run_python(args, backend=backend, timeout=600)).stdout
    for heading in ("device", "training throughput", "time to 99%", "cost of the event log"):
        assert heading in printed, printed
    check = json.loads(out.read_text())
    assert check["device"]["name"] == backend and check["device"]["gpus"] == 0
    (row,) = check["throughput"]
    assert row["model"] == "mnist-mlp" and row["policy"] == "mixed_bfloat16"
    assert all(r > 0 for r in row["images_per_s"])
    target = check["time_to_target"]
    assert set(target) >= ({"seconds", "epoch"} if target["reached"] else {"best_val_accuracy"})
    for side in ("bare", "events", "live"):
        assert len(check["overhead"][side]) == 1 and check["overhead"][side][0] > 0
    assert len(check["live_ratio"]) == len(check["events_ratio"]) == 1
