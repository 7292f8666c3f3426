"""Distribution and mixed precision off TensorFlow: JAX data parallel, refusals elsewhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from backend_harness import assert_ok, needs_backend, run_cli

from cnntui.core.train.strategy import check_strategy

TWO_CPUS = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}


class TestUnderJax:
    pytestmark = needs_backend("jax")

    @pytest.mark.slow  # a real training under JAX on two CPU devices: ~25 s of CPU here
    def test_mirrored_is_data_parallel_over_two_cpu_devices_in_bfloat16(self):
        """113 images (odd) in batches of 32: an epoch's short last batches do not split
        over two devices, and must still run (replicated)."""
        result = assert_ok(
            run_cli(
                [
                    "train",
                    "mnist-mlp",
                    "--epochs",
                    "1",
                    "--limit",
                    "113",
                    "--batch-size",
                    "32",
                    "--strategy",
                    "mirrored",
                    "--mixed-precision",
                    "--json",
                ],  # fmt: skip
                backend="jax",
                env=TWO_CPUS,
            )
        )
        run = json.loads(result.stdout.strip().splitlines()[-1])
        assert run["status"] == "finished", run
        config = json.loads((Path(run["dir"]) / "config.json").read_text())
        assert config["strategy"] == {"class": "DataParallel", "replicas": 2}
        assert config["dtype_policy"] == "mixed_bfloat16"
        assert config["backend"] == "jax"
        assert (Path(run["dir"]) / "best.keras").is_file()

    def test_multiworker_is_refused_before_any_run_exists(self):
        env = {"TF_CONFIG": json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}, "task": {}})}
        result = run_cli(
            ["train", "mnist-mlp", "--epochs", "1", "--strategy", "multiworker"],
            backend="jax",
            env=env,
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "--strategy multiworker is TensorFlow's" in result.stderr
        assert "--backend tensorflow" in result.stderr
        runs = Path(os.environ["CNNTUI_RUNS_DIR"])
        assert not runs.exists() or not any(runs.iterdir())


@pytest.mark.parametrize(
    ("backend", "name", "says"),
    [
        ("torch", "mirrored", "no data-parallel fit for the torch backend"),
        ("torch", "multiworker", "--strategy default"),
        ("jax", "multiworker", "--strategy mirrored"),
    ],
)
def test_a_strategy_the_backend_lacks_is_refused_with_what_to_use(backend, name, says):
    with pytest.raises(ValueError, match="--backend") as err:
        check_strategy(name, backend=backend)
    assert says in str(err.value)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_default_is_fine_everywhere(backend):
    assert check_strategy("default", backend=backend) == "default"
