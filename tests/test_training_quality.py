"""Real multi-epoch training on the bundled digits (slow: run with `pytest -m slow`).

These check what the zoo promises: the tutorial models learn the digits, and a modern
entry beats the tutorial dense baseline on the same data, split, seed and epochs.
"""

from __future__ import annotations

import pytest

from cnntui.core.train import TrainConfig, train

pytestmark = pytest.mark.slow


def _train(model: str, epochs: int, **kw) -> dict:
    cfg = TrainConfig(model=model, epochs=epochs, seed=0, patience=0, **kw)
    result = train(cfg, sinks=[])
    assert result.status == "finished", result.reason
    return result.metrics


def test_mnist_conv_pool_learns_the_digits():
    metrics = _train("mnist-conv-pool", epochs=8)
    assert metrics["best_val_accuracy"] > 0.93


def test_modern_entry_beats_the_dense_baseline():
    baseline = _train("mnist-mlp", epochs=6)
    modern = _train("vgg-bn-dropout", epochs=6, input_shape=(28, 28, 1), batch_size=64)
    assert modern["best_val_accuracy"] > baseline["best_val_accuracy"] + 0.03
