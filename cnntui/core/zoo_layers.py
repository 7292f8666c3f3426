"""Small building blocks shared by zoo definitions (Keras is imported when called)."""

from __future__ import annotations

from typing import Any


def classifier_head(x: Any, num_classes: int, *, binary: bool = False, name: str = "predictions"):
    """Final Dense layer: one sigmoid unit for a two-class ``binary`` entry, else softmax."""
    from keras import layers

    if binary and num_classes == 2:
        return layers.Dense(1, activation="sigmoid", name=name)(x)
    return layers.Dense(num_classes, activation="softmax", name=name)(x)


def image_input(input_shape: tuple[int, int, int], name: str = "image"):
    """A ``keras.Input`` for an (H, W, C) image."""
    import keras

    return keras.Input(shape=tuple(input_shape), name=name)
