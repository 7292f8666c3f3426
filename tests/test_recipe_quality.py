"""The modern recipe against constant-LR Adam on the bundled digits (slow: `pytest -m slow`).

Same entry, data, split, seed, batch size and epochs; only the recipe differs.
"""

from __future__ import annotations

import pytest

from cnntui.core.train import TrainConfig, train

pytestmark = pytest.mark.slow


def _val_loss_and_acc(**kw) -> tuple[float, float]:
    cfg = TrainConfig(
        model="resnet-mini",
        epochs=6,
        batch_size=64,
        input_shape=(28, 28, 1),
        builder_args={"width": 16},
        seed=0,
        patience=0,
        **kw,
    )
    result = train(cfg, sinks=[])
    assert result.status == "finished", result.reason
    final = result.metrics["final"]
    return final["val_loss"], final["val_accuracy"]


def test_modern_recipe_beats_constant_lr_adam_on_the_digits():
    _, adam = _val_loss_and_acc(
        recipe="article", optimizer="adam", learning_rate=1e-3, schedule="constant"
    )
    _, modern = _val_loss_and_acc(recipe="modern")
    assert modern > adam, (modern, adam)
    assert modern > 0.97
