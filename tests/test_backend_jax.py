"""Train (with resume), evaluate, predict and lr-find under JAX with TensorFlow not installed
(tests/backend_harness.py hides it in the child), and checkpoints that cross backends: a
model trained under JAX evaluated here under TensorFlow, and the other way round."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from backend_harness import assert_ok, needs_backend, run_cli, run_python
from PIL import Image

from cnntui.core.runs import Run

pytestmark = needs_backend("jax")

TRAIN = ["mnist-mlp", "--limit", "300", "--batch-size", "32", "--view", "lines", "--json"]


@pytest.fixture(scope="module")
def child_env(tmp_path_factory) -> dict[str, str]:
    """Runs, data cache and JAX's compiled programs shared by this module's children."""
    root = tmp_path_factory.mktemp("jax-home")
    return {
        "CNNTUI_RUNS_DIR": str(root / "runs"),
        "CNNTUI_CACHE_DIR": str(root / "cache"),
        "XDG_DATA_HOME": str(root / "data"),
    }


def _last_json(stdout: str) -> dict:
    """The JSON document a command printed last (one line, or the whole output)."""
    try:
        return json.loads(stdout)
    except ValueError:
        return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def jax_run(child_env) -> Run:
    """One epoch under JAX (asked for with train's own --backend), then resumed to two (two
    processes, TensorFlow hidden in both)."""
    args = ["train", *TRAIN, "--epochs", "1", "--backend", "jax"]
    first = _last_json(assert_ok(run_cli(args, env=child_env)).stdout)
    assert first["status"] == "finished"
    resumed = run_cli(["train", "--resume", first["run_id"], "--epochs", "2", "--json"],
                      env=child_env)  # fmt: skip
    assert _last_json(assert_ok(resumed).stdout)["status"] == "finished"
    return Run(Path(first["dir"]))


def test_train_and_resume_under_jax_record_the_backend(jax_run):
    events = [json.loads(line) for line in jax_run.path("events.jsonl").read_text().splitlines()]
    begins = [e for e in events if e["event"] == "begin"]
    assert [(b["backend"], b["initial_epoch"]) for b in begins] == [("jax", 0), ("jax", 1)]
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    config = jax_run.config
    assert config["backend"] == "jax" and config["versions"]["jax"] != "unknown"
    assert config["versions"]["tensorflow"] == "unknown"  # not installed, as far as it saw
    assert config["data"]["pipeline"] == "python"
    assert jax_run.read_json("request.json")["backend"] == "jax"
    assert json.loads(jax_run.path("state.json").read_text())["epochs_completed"] == 2
    assert len(jax_run.path("history.csv").read_text().splitlines()) == 3  # header + 2


def test_a_jax_checkpoint_evaluates_and_predicts_alike_under_jax_and_tensorflow(
    jax_run, child_env, digits, tmp_path
):
    import keras

    from cnntui.core.judge.evaluate import evaluate_run

    evaluated = run_cli(["evaluate", jax_run.id, "--json"], env=child_env)
    report = _last_json(assert_ok(evaluated).stdout)
    assert report["examples"] == 30 and report["split"] == "val"
    _, here = evaluate_run(str(jax_run.dir), write=False)  # this process: TensorFlow
    assert here["examples"] == 30
    assert here["accuracy"] == pytest.approx(report["accuracy"], abs=1e-9)
    assert here["loss"] == pytest.approx(report["loss"], rel=1e-4)

    x, _ = digits
    files = []
    for i in range(3):
        files.append(str(tmp_path / f"digit{i}.png"))
        Image.fromarray(x[i]).save(files[-1])
    out = run_cli(["predict", "-r", jax_run.id, *files, "--json", "-k", "10"], env=child_env)
    predicted = json.loads(assert_ok(out).stdout[: out.stdout.rindex("]") + 1])
    model = keras.models.load_model(jax_run.path("best.keras"), compile=False)
    probs = np.asarray(model.predict(x[:3, :, :, None].astype(np.float32) / 255.0, verbose=0))
    for row, p in zip(predicted, probs, strict=True):
        got = {t["index"]: t["probability"] for t in row["top"]}
        assert got == pytest.approx({i: float(v) for i, v in enumerate(p)}, abs=1e-5)


def test_a_tensorflow_checkpoint_evaluates_alike_under_jax(child_env, monkeypatch):
    from cnntui.core.judge.evaluate import evaluate_run
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.train.runner import train

    monkeypatch.setenv("CNNTUI_RUNS_DIR", child_env["CNNTUI_RUNS_DIR"])
    result = train(TrainConfig("mnist-mlp", epochs=1, limit=300, batch_size=32))
    assert result.status == "finished" and result.run.config["backend"] == "tensorflow"
    _, here = evaluate_run(result.run_id, write=False)
    there = run_cli(["evaluate", result.run_id, "--json"], env=child_env)
    report = _last_json(assert_ok(there).stdout)
    assert report["examples"] == here["examples"] == 30
    assert report["accuracy"] == pytest.approx(here["accuracy"], abs=1e-9)
    assert report["loss"] == pytest.approx(here["loss"], rel=1e-4)


def test_lr_find_under_jax(child_env):
    out = run_cli(["lr-find", "mnist-mlp", "--limit", "300", "--steps", "20", "--json"],
                  env=child_env)  # fmt: skip
    sweep = _last_json(assert_ok(out).stdout)
    losses = [v for v in sweep["losses"] if v is not None]
    assert len(sweep["lrs"]) >= 5 and len(losses) >= 5
    assert sweep["lrs"] == sorted(sweep["lrs"])
    assert sweep["suggestion"] and sweep["lrs"][0] <= sweep["suggestion"] <= sweep["lrs"][-1]


def test_what_tensorflow_alone_does_fails_in_one_line_before_any_work(child_env):
    # (mirrored is JAX's DataParallel: tests/test_backend_strategy.py; multiworker is TF's)
    runs = Path(child_env["CNNTUI_RUNS_DIR"])
    before = sorted(runs.glob("*"))
    out = run_cli(["train", *TRAIN, "--strategy", "multiworker"], env=child_env)
    assert out.returncode == 2, out.stderr
    assert "MultiWorkerMirroredStrategy" in out.stderr and "--backend tensorflow" in out.stderr
    assert "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0
    assert sorted(runs.glob("*")) == before


ASYNC_HOOKS = r"""
import json, sys, threading
import keras.src.callbacks.callback_list as callback_list
from cnntui.core.train.config import TrainConfig
from cnntui.core.train.runner import train

modes = []
configure = callback_list.CallbackList._configure_async_dispatch

def spy(self, callbacks):
    configure(self, callbacks)
    modes.append(self._async_train)

callback_list.CallbackList._configure_async_dispatch = spy
zoo = [sys.argv[1]]
nan = train(TrainConfig("tiny-nan", zoo=zoo, epochs=2, limit=100))
events = [json.loads(l) for l in nan.run.path("events.jsonl").read_text().splitlines()]

class StopOn:
    def __init__(self, kind, stop):
        self.kind, self.stop = kind, stop
    def handle(self, event):
        if event["event"] == self.kind:
            self.stop.set()
    def close(self):
        pass

stop = threading.Event()
stopped = train(TrainConfig("tiny-dense", zoo=zoo, epochs=3, limit=300),
                sinks=[StopOn("epoch", stop)], stop=stop)
print(json.dumps({
    "async": modes, "nan": nan.status, "reason": events[-1].get("reason", ""),
    "nan_saved": nan.run.path("last.keras").exists(),
    "stopped": stopped.status,
    "epochs": [e["epoch"] for e in map(json.loads, stopped.run.path("events.jsonl")
               .read_text().splitlines()) if e["event"] == "epoch"],
    "history": stopped.run.path("history.csv").read_text().count("\n"),
}))
"""

TUI_PILOT = """
import asyncio, json
from cnntui.core.backend import select
select()  # as `cnntui` does before it opens the workbench
from cnntui.tui.app import make_app
from tui_factory import wait_until

async def main():
    app = make_app(follow_running=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.use_model("mnist-mlp")
        await pilot.pause()
        screen = app.screen
        for field, value in (("epochs", "1"), ("batch", "32"), ("limit", "300")):
            screen.query_one(f"#train-{field}").value = value
        screen.query_one("#train-model").focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")  # Start, in the confirmation
        await wait_until(pilot, lambda: screen.run_dir is not None, 60, "the run directory")
        await wait_until(pilot, lambda: screen.progress.finished, 240, "training to finish")
        print(json.dumps({
            "state": screen.progress.state, "run": str(screen.run_dir),
            "status": str(screen.query_one("#train-status").render()),
            "lines": list(screen.progress.lines),
        }))

asyncio.run(main())
"""


def test_batch_hooks_run_asynchronously_and_nan_and_stop_still_hold(child_env, tmp_path):
    """Under JAX the run's batch hooks are async_safe, so Keras does not wait for each step:
    a NaN loss still fails the run naming its first batch and saves nothing, and a stop
    asked at the end of epoch 1 keeps exactly that epoch."""
    from test_train_core import TINY_ZOO

    (tmp_path / "tiny.py").write_text(TINY_ZOO, encoding="utf-8")
    out = run_python(["-c", ASYNC_HOOKS, str(tmp_path)], env=child_env, timeout=400)
    seen = _last_json(assert_ok(out).stdout)
    assert seen["async"] and all(seen["async"]), seen  # every fit dispatched its hooks async
    assert seen["nan"] == "failed" and "NaN in epoch 1, batch 1;" in seen["reason"], seen
    assert not seen["nan_saved"]
    assert seen["stopped"] == "stopped" and seen["epochs"] == [1], seen
    assert seen["history"] == 2  # header and epoch 1: the cut epoch 2 is not a row


def test_a_tui_pilot_trains_under_jax(child_env):
    out = run_python(TUI_PILOT, env=child_env, cwd=Path(__file__).parent, timeout=400)
    seen = _last_json(assert_ok(out).stdout)
    assert seen["state"] == "finished", seen["lines"]
    assert seen["status"].startswith("finished") and seen["status"].endswith("jax")
    assert any(" on jax: 1 epoch," in line for line in seen["lines"])
    run = Run(Path(seen["run"]))
    assert run.status == "finished" and run.config["backend"] == "jax"
    assert run.path("best.keras").exists()


@pytest.mark.slow
def test_a_backbone_fine_tunes_under_jax_from_weights_made_under_tensorflow(child_env, tmp_path):
    """The weights are backend-neutral files: a backbone's, saved here under TensorFlow,
    fills the same entry under JAX (TensorFlow hidden), through both fine-tuning phases."""
    from cnntui.core import registry
    from cnntui.core.weights import find_backbone

    registry.load_zoo()
    file = tmp_path / "backbone.weights.h5"
    find_backbone(registry.get_model("mobilenetv3-small").build((32, 32, 1), 5)).save_weights(file)
    args = ["train", "mobilenetv3-small", "--weights", str(file), "--input-shape", "32,32,1",
            "--epochs", "2", "--limit", "300", "--batch-size", "32", "--view", "lines",
            "--json", "--backend", "jax"]  # fmt: skip
    done = _last_json(assert_ok(run_cli(args, env=child_env, timeout=600)).stdout)
    assert done["status"] == "finished"
    run = Run(Path(done["dir"]))
    hp = run.config["hyperparameters"]
    assert run.config["backend"] == "jax" and hp["weights"]["kind"] == "file"
    events = [json.loads(line) for line in run.path("events.jsonl").read_text().splitlines()]
    assert [e["phase"] for e in events if e["event"] == "phase"] == [1, 2]
