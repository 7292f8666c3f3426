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


KERNELS = {
    "kernel": "kernel_regularizer",
    "depthwise_kernel": "depthwise_regularizer",
    "pointwise_kernel": "pointwise_regularizer",
}  # weight -> the layer's config key for its regularizer


def check_penalties(l1: float = 0.0, l2: float = 0.0, **_: Any) -> None:
    """Raise ValueError unless both penalties of :func:`regularize` are 0 or more."""
    if l1 < 0 or l2 < 0:
        raise ValueError(f"l1 and l2 must be 0 or more; got l1={l1:g}, l2={l2:g}")


def regularize(model: Any, l1: float = 0.0, l2: float = 0.0) -> Any:
    """Add an L1/L2 penalty on every kernel of ``model`` (Conv2D, Dense, depthwise and
    separable convolutions; not biases or BatchNorm); recorded in the layers' configs, so a
    saved model keeps it. ``model`` is returned; with ``l1 = l2 = 0`` it is unchanged."""
    check_penalties(l1, l2)
    if not (l1 or l2):
        return model
    from keras import regularizers

    for layer in model.layers:
        for name, key in KERNELS.items():
            weight = getattr(layer, name, None)
            if weight is None or not hasattr(weight, "regularizer"):
                continue
            reg = regularizers.L1L2(l1=l1, l2=l2)
            weight.regularizer = reg
            setattr(layer, key, reg)
    return model
