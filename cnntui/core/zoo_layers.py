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


BACKBONE = "backbone"  # the name of the nested ``keras.applications`` model in a backbone entry


def backbone_classifier(
    application: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    pixels: tuple[float, float] = (255.0, 0.0),
    min_side: int = 32,
    dropout: float = 0.2,
    bn_momentum: float = 0.9,
    name: str = "",
    **application_kwargs: Any,
):
    """A classifier on a ``keras.applications`` backbone (no top, random weights: cnntui
    loads the pretrained ones, :mod:`cnntui.core.weights`), with everything the backbone's
    weights expect inside the model, so a checkpoint and every export need nothing else.

    The input takes cnntui's pixels in [0, 1]. Grey images become three equal channels, an
    input smaller than ``min_side`` is resized up to it, and ``pixels = (scale, offset)``
    brings [0, 1] to what the backbone's own first layers take (``(255, 0)``: 0-255, for the
    applications that include their preprocessing; ``(2, -1)``: [-1, 1]). The head is
    cnntui's: global average pooling, dropout, the classifier. BatchNorm's moving averages
    use ``bn_momentum`` (0.9, as cnntui's fast entries): with Keras's 0.999 a run of a few
    hundred steps that trains BatchNorm validates with statistics still near their start.
    """
    import keras
    from keras import layers

    inputs = image_input(input_shape)
    x = inputs
    if input_shape[-1] == 1:
        x = layers.Concatenate(name="grey_to_rgb")([x, x, x])
    h, w = input_shape[:2]
    if h is not None and w is not None and min(h, w) < min_side:
        x = layers.Resizing(max(h, min_side), max(w, min_side), name="upsize")(x)
    scale, offset = pixels
    x = layers.Rescaling(scale, offset=offset, name="backbone_pixels")(x)
    build = getattr(keras.applications, application)
    backbone = build(
        include_top=False, weights=None, input_shape=tuple(x.shape[1:]), pooling="avg",
        **application_kwargs,
    )  # fmt: skip
    backbone.name = BACKBONE  # some applications read their own name to pick a variant
    for layer in backbone.layers:  # statistics that settle in a short run (Keras: 0.99-0.999)
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = bn_momentum
    x = backbone(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = classifier_head(x, num_classes)
    return keras.Model(inputs, outputs, name=name or application.lower())
