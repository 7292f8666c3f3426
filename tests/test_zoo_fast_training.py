"""The fast entries' modern recipe against the old constant-LR Adam (slow: real training)."""

from __future__ import annotations

import pytest

from cnntui.core.train import TrainConfig, train

pytestmark = pytest.mark.slow

OLD_ADAM = {
    "recipe": "article",
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "schedule": "constant",
    "warmup": 0.0,
    "label_smoothing": 0.0,
    "ema": False,
}


def _final_val_accuracy(model: str, **kw) -> float:
    cfg = TrainConfig(model=model, seed=0, patience=0, **kw)
    result = train(cfg, sinks=[])
    assert result.status == "finished", result.reason
    return result.metrics["final"]["val_accuracy"]


@pytest.mark.parametrize("name", ["fast-resnet", "fast-mobilenet", "fast-cnn"])
def test_the_modern_recipe_beats_constant_lr_adam_on_the_digits(name):
    """Same entry, data, seed and epochs: only the recipe differs."""
    modern = _final_val_accuracy(name, epochs=4)
    adam = _final_val_accuracy(name, epochs=4, batch_size=128, **OLD_ADAM)
    assert modern > adam, (modern, adam)
