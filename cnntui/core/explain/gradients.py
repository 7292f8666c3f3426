"""The one place that differentiates a model: TensorFlow's ``GradientTape`` for now.

Everything else in :mod:`cnntui.core.explain` works on numpy arrays; another backend
(JAX, PyTorch) needs only another version of :func:`class_gradients`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_LOCK = threading.RLock()  # the model is patched while it is explained: one at a time


@contextmanager
def capturing(layer: Any | None) -> Iterator[dict[str, Any]]:
    """Record ``layer``'s output tensor each time the model calls it.

    Works wherever the layer sits, nested models included, because it hooks the layer
    itself instead of building a sub-model from the outer graph (which is what raises
    "Graph disconnected" on nested models).
    """
    seen: dict[str, Any] = {}
    if layer is None:
        yield seen
        return
    own = vars(layer).get("call")  # an instance attribute to put back, if there was one
    original = layer.call

    def call(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        seen["output"] = out
        return out

    layer.call = call
    try:
        yield seen
    finally:
        if own is None:
            del layer.call  # back to the class's method
        else:
            layer.call = own


def output_layer(model: Any) -> Any:
    """The layer that produces the model's output, looking inside a nested final model."""
    last = model.layers[-1] if getattr(model, "layers", None) else model
    while getattr(last, "layers", None):
        last = last.layers[-1]
    return last


def head_activation(model: Any) -> str:
    """Name of the output layer's activation (``softmax``, ``sigmoid``, ``linear``…)."""
    act = getattr(output_layer(model), "activation", None)
    return getattr(act, "__name__", "linear") if act is not None else "linear"


@contextmanager
def logits_head(model: Any) -> Iterator[bool]:
    """Run the model with its final softmax/sigmoid switched off (yields ``True``), so
    class scores are logits that do not saturate; yields ``False`` when it cannot."""
    import keras

    layer = output_layer(model)
    name = head_activation(model)
    if name not in ("softmax", "sigmoid"):
        yield name == "linear"
        return
    saved = layer.activation
    layer.activation = keras.activations.linear
    try:
        yield True
    finally:
        layer.activation = saved


def class_score(out: Any, classes: np.ndarray, binary: bool, logits: bool) -> Any:
    """Per-example score of ``classes`` (N,): a logit (``-z`` for class 0 of a sigmoid
    head) when ``logits``, else the log-probability."""
    import tensorflow as tf

    out = tf.reshape(tf.cast(out, tf.float32), (tf.shape(out)[0], -1))
    idx = tf.constant(np.asarray(classes, dtype=np.int32))
    if binary:
        z = out[:, 0]
        sign = tf.where(idx == 1, 1.0, -1.0)
        if logits:
            return sign * z
        p = tf.clip_by_value(z, 1e-7, 1 - 1e-7)
        return tf.math.log(tf.where(idx == 1, p, 1 - p))
    picked = tf.gather(out, idx, axis=1, batch_dims=1)
    return picked if logits else tf.math.log(tf.clip_by_value(picked, 1e-7, 1.0))


def class_gradients(
    model: Any,
    x: np.ndarray,
    classes: np.ndarray,
    binary: bool,
    layer: Any | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Scores (N,) of ``classes`` and their gradients with respect to the input
    (``layer`` is None) or to ``layer``'s activations; also those activations.

    Returns ``(scores, gradients, activations)``; ``activations`` is None for the input.
    """
    import tensorflow as tf

    with _LOCK, capturing(layer) as seen, logits_head(model) as logits:
        xt = tf.convert_to_tensor(np.asarray(x, dtype=np.float32))
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = model(xt, training=False)
            scores = class_score(out, classes, binary, logits)
            total = tf.reduce_sum(scores)
        target = seen.get("output") if layer is not None else xt
        if target is None:
            raise RuntimeError(f"layer {layer.name} was not called by the model")
        grads = tape.gradient(total, target)
    if grads is None:
        raise RuntimeError("the class score does not depend on that layer")
    acts = None if layer is None else np.asarray(target, dtype=np.float32)
    return np.asarray(scores, dtype=np.float64), np.asarray(grads, dtype=np.float32), acts


def layer_activations(model: Any, x: np.ndarray, layer: Any) -> np.ndarray:
    """``layer``'s output for the batch ``x`` (any depth of nesting)."""
    with _LOCK, capturing(layer) as seen:
        model(np.asarray(x, dtype=np.float32), training=False)
    return np.asarray(seen["output"], dtype=np.float32)
