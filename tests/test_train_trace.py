"""The train step is traced once on TensorFlow: cnntui builds the optimizer, loss and
metrics before ``fit`` (cnntui.core.train.prebuild), where Keras would create them while
tracing and then trace the step a second time."""

from __future__ import annotations

import json

import pytest
from keras.src.backend.tensorflow import trainer as tf_trainer

from cnntui.core.train import TrainConfig, resume, train


@pytest.fixture
def traces(monkeypatch) -> list[int]:
    """How many times Keras's TensorFlow train step was traced (a spy, not a replacement)."""
    calls: list[int] = []
    original = tf_trainer.TensorFlowTrainer.train_step

    def counted(self, data):
        calls.append(1)
        return original(self, data)

    monkeypatch.setattr(tf_trainer.TensorFlowTrainer, "train_step", counted)
    return calls


@pytest.mark.parametrize("recipe", ["article", "modern"])
def test_a_run_traces_its_train_step_once(traces, recipe):
    cfg = TrainConfig(model="mnist-2conv", data="sample", epochs=2, limit=300, recipe=recipe)
    result = train(cfg)
    assert result.status == "finished"
    assert len(traces) == 1  # Keras alone: 2 (variables created on the first trace)
    history = result.run.path("history.csv").read_text().splitlines()
    assert len(history) == 3


def test_a_resumed_run_traces_once_too(traces):
    first = train(TrainConfig(model="mnist-mlp", data="sample", epochs=1, limit=300))
    traces.clear()
    result = resume(first.run_id, epochs=2)
    assert result.status == "finished" and len(traces) == 1
    state = json.loads(result.run.path("state.json").read_text())
    assert state["epochs_completed"] == 2
