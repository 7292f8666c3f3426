"""The parts of fine-tuning, on real Keras models: the phase plan, freezing by blocks with
BatchNorm kept in inference mode, and the backbone's own learning rate."""

from __future__ import annotations

import numpy as np
import pytest

from cnntui.core.errors import ConfigError
from cnntui.core.train.finetune import block_starts, make_plan, parse_unfreeze, set_trainable


def nested(units: int = 3):
    """A model whose nested ``backbone`` has two blocks (conv + BN each) and a bias."""
    import keras
    from keras import layers

    inner_in = keras.Input((6, 6, 1))
    x = inner_in
    for b in (1, 2):
        x = layers.Conv2D(2, 3, padding="same", name=f"block{b}_conv")(x)
        x = layers.BatchNormalization(name=f"block{b}_bn")(x)
    backbone = keras.Model(inner_in, layers.GlobalAveragePooling2D(name="pool")(x))
    backbone.name = "backbone"
    inputs = keras.Input((6, 6, 1))
    outputs = layers.Dense(units, activation="softmax", name="head")(backbone(inputs))
    return keras.Model(inputs, outputs)


PATTERN = r"^(block\d+)_"


def test_plan_options_are_checked_with_their_names():
    assert make_plan(None, None, None, False).describe().startswith("fine-tune: head only for 1")
    assert parse_unfreeze("3") == 3 and parse_unfreeze("ALL") == "all"
    for bad in ("0", "two", "-1"):
        with pytest.raises(ConfigError, match="--unfreeze"):
            parse_unfreeze(bad)
    with pytest.raises(ConfigError, match="--lr-mult"):
        make_plan(1, "all", 2.0, False)
    with pytest.raises(ConfigError, match="--freeze-epochs"):
        make_plan(-1, "all", 0.1, False)


def test_the_top_blocks_train_with_bn_frozen_unless_asked():
    model = nested()
    names = [layer.name for layer in model.get_layer("backbone").layers]
    assert [names[i] for i in block_starts(names, PATTERN)] == ["block1_conv", "block2_conv"]
    set_trainable(model, make_plan(1, 1, 0.1, False), PATTERN)
    trained = {v.path.split("/")[0] for v in model.trainable_variables}
    assert trained == {"block2_conv", "head"}  # block 1 and every BN stay frozen
    set_trainable(model, make_plan(1, "all", 0.1, True), PATTERN)
    assert {v.path.split("/")[0] for v in model.trainable_variables} == {
        "block1_conv", "block1_bn", "block2_conv", "block2_bn", "head"
    }  # fmt: skip
    with pytest.raises(ConfigError, match="has 2 blocks"):
        set_trainable(model, make_plan(1, 3, 0.1, False), PATTERN)


def step_delta(multiplier: float, frozen_steps: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One plain-SGD step's change of a backbone kernel and the head's kernel."""
    import keras

    from cnntui.core.train.layerwise import use_group_rates

    keras.utils.set_random_seed(0)
    model = nested()
    backbone = model.get_layer("backbone")
    opt = use_group_rates(
        keras.optimizers.SGD(learning_rate=0.1), backbone.trainable_variables, multiplier,
        frozen_steps=frozen_steps,
    )  # fmt: skip
    model.compile(opt, "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 6, 6, 1), dtype=np.float32)
    y = np.arange(8) % 3
    before = [w.copy() for w in (backbone.get_layer("block1_conv").kernel.numpy(),
                                  model.get_layer("head").kernel.numpy())]  # fmt: skip
    model.train_on_batch(x, y)
    after = (
        backbone.get_layer("block1_conv").kernel.numpy(),
        model.get_layer("head").kernel.numpy(),
    )
    return after[0] - before[0], after[1] - before[1]


def test_the_backbone_learns_at_its_own_rate_and_the_head_at_the_base_rate():
    slow_full, head_full = step_delta(1.0)
    slow_tenth, head_tenth = step_delta(0.1)
    assert np.abs(slow_full).max() > 1e-6
    np.testing.assert_allclose(slow_tenth, 0.1 * slow_full, rtol=2e-3, atol=1e-8)
    np.testing.assert_allclose(head_tenth, head_full, rtol=1e-5, atol=1e-8)
    slow_frozen, head_frozen = step_delta(0.1, frozen_steps=1)  # phase 1: the backbone waits
    assert not slow_frozen.any()
    np.testing.assert_allclose(head_frozen, head_full, rtol=1e-5, atol=1e-8)


def test_a_wrapped_optimizer_leaves_the_checkpoint_plain(tmp_path):
    import keras

    from cnntui.core.train.layerwise import use_group_rates

    model = nested()
    opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.0)
    use_group_rates(opt, model.get_layer("backbone").trainable_variables, 0.1, weight_decay=0.01)
    model.compile(opt, "sparse_categorical_crossentropy")
    model.train_on_batch(np.zeros((2, 6, 6, 1), np.float32), np.array([0, 1]))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")  # plain Keras opens it
    assert type(again.optimizer) is keras.optimizers.AdamW
