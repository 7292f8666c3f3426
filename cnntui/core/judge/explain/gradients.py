"""The one place that differentiates a model, with the Keras backend's own autodiff.

:func:`class_gradients` picks the version for ``keras.backend.backend()``: TensorFlow's
``GradientTape``, ``jax.value_and_grad`` over ``model.stateless_call``, or PyTorch's
autograd. Everything else in :mod:`cnntui.core.judge.explain` works on numpy arrays.

A layer's activations are reached by hooking the layer itself (:func:`capturing`), so
nested models work. TensorFlow and PyTorch differentiate with respect to the captured
tensor; JAX cannot (a traced function has no handle on its intermediates), so there the
hook adds a zero tensor to the layer's output and the gradient is taken with respect to
that zero, which is the same number.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

_LOCK = threading.RLock()  # the model is patched while it is explained: one at a time


@contextmanager
def capturing(layer: Any | None, add: Any | None = None) -> Iterator[dict[str, Any]]:
    """Record ``layer``'s output tensor each time the model calls it (plus ``add``, a
    tensor of the same shape, when given).

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
        if add is not None:
            out = out + add
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


def class_score(out: Any, classes: Any, binary: bool, logits: bool) -> Any:
    """Per-example score of ``classes`` (N,): a logit (``-z`` for class 0 of a sigmoid
    head) when ``logits``, else the log-probability. Backend tensors (or numpy) in and out."""
    from keras import ops

    out = ops.reshape(ops.cast(out, "float32"), (ops.shape(out)[0], -1))
    idx = ops.cast(ops.convert_to_tensor(classes), "int32")
    if binary:
        z = out[:, 0]
        if logits:
            return ops.where(idx == 1, z, -z)
        p = ops.clip(z, 1e-7, 1 - 1e-7)
        return ops.log(ops.where(idx == 1, p, 1 - p))
    picked = ops.take_along_axis(out, ops.expand_dims(idx, 1), axis=1)[:, 0]
    return picked if logits else ops.log(ops.clip(picked, 1e-7, 1.0))


Gradients = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


def class_gradients(
    model: Any,
    x: np.ndarray,
    classes: np.ndarray,
    binary: bool,
    layer: Any | None = None,
) -> Gradients:
    """Scores (N,) of ``classes`` and their gradients with respect to the input
    (``layer`` is None) or to ``layer``'s activations; also those activations.

    Returns ``(scores, gradients, activations)``; ``activations`` is None for the input.
    """
    import keras

    backend = keras.backend.backend()
    if backend not in _GRADIENTS:
        raise RuntimeError(f"explanations need the tensorflow, jax or torch backend; got {backend}")
    x = np.asarray(x, dtype=np.float32)
    with _LOCK, logits_head(model) as logits:
        scores, grads, acts = _GRADIENTS[backend](model, x, classes, binary, layer, logits)
    if grads is None:
        raise RuntimeError("the class score does not depend on that layer")
    acts = None if acts is None else _numpy(acts)
    return _numpy(scores).astype(np.float64), _numpy(grads), acts


def _tensorflow(model, x, classes, binary, layer, logits):
    import tensorflow as tf

    with capturing(layer) as seen:
        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            scores = class_score(model(xt, training=False), classes, binary, logits)
            total = tf.reduce_sum(scores)
        target = _target(seen, layer, xt)
        return scores, tape.gradient(total, target), None if layer is None else target


def _torch(model, x, classes, binary, layer, logits):
    import torch
    from keras import ops

    with capturing(layer) as seen:
        xt = ops.convert_to_tensor(x).detach().requires_grad_(True)
        with torch.enable_grad():
            scores = class_score(model(xt, training=False), classes, binary, logits)
            target = _target(seen, layer, xt)
            (grads,) = torch.autograd.grad(scores.sum(), [target], allow_unused=True)
        return scores.detach(), grads, None if layer is None else target.detach()


def _jax(model, x, classes, binary, layer, logits):
    import jax.numpy as jnp

    step = _jax_step(model, layer, binary, logits)
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    zero = None
    if layer is not None:
        zero = jnp.zeros(_activation_shape(model, x, layer), dtype=jnp.float32)
    (_, (scores, acts)), grads = step(
        trainable, frozen, jnp.asarray(x), zero, jnp.asarray(classes, dtype=jnp.int32)
    )
    return scores, grads, acts


_JAX_STEPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _jax_step(model: Any, layer: Any | None, binary: bool, logits: bool) -> Any:
    """``jit(value_and_grad(...))`` of the summed class score over ``stateless_call``, with
    respect to the input (no ``layer``) or to the zero added to ``layer``'s output; one per
    (model, layer, head), so repeated calls (SmoothGrad, integrated gradients) reuse it."""
    import jax
    import jax.numpy as jnp

    steps = _JAX_STEPS.setdefault(model, {})
    key = (id(layer), binary, logits)
    if key not in steps:
        owner = weakref.ref(model)  # the cache must not keep the model alive

        def total(trainable, frozen, xv, delta, classes):
            with capturing(layer, add=delta) as seen:
                out, _ = owner().stateless_call(trainable, frozen, xv, training=False)
            scores = class_score(out, classes, binary, logits)
            acts = None if layer is None else _target(seen, layer, xv)
            return jnp.sum(scores), (scores, acts)

        argnum = 2 if layer is None else 3
        steps[key] = jax.jit(jax.value_and_grad(total, argnums=argnum, has_aux=True))
    return steps[key]


_GRADIENTS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}


def _target(seen: dict[str, Any], layer: Any | None, x: Any) -> Any:
    if layer is None:
        return x
    if "output" not in seen:
        raise RuntimeError(f"layer {layer.name} was not called by the model")
    return seen["output"]


def _activation_shape(model: Any, x: np.ndarray, layer: Any) -> tuple[int, ...]:
    """``layer``'s output shape for the batch ``x``: from the graph, else by running it."""
    try:
        shape = tuple(layer.output.shape)
    except (AttributeError, ValueError):
        shape = ()
    if len(shape) > 1 and all(d is not None for d in shape[1:]):
        return (len(x), *shape[1:])
    return tuple(layer_activations(model, x, layer).shape)


def _numpy(value: Any) -> np.ndarray:
    """A backend tensor (any device) as a float32 numpy array."""
    from keras import ops

    return np.asarray(ops.convert_to_numpy(ops.cast(value, "float32")))


def forward(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's output for the batch ``x`` (inference mode) as a float32 numpy array;
    under JAX one compiled call (an eager call compiles every operation for every new
    batch shape)."""
    import keras

    x = np.asarray(x, dtype=np.float32)
    if keras.backend.backend() != "jax":
        return _numpy(model(x, training=False))
    import jax

    steps = _JAX_STEPS.setdefault(model, {})
    key = ("forward", head_activation(model))
    if key not in steps:
        owner = weakref.ref(model)

        def run(trainable, frozen, xv):
            return owner().stateless_call(trainable, frozen, xv, training=False)[0]

        steps[key] = jax.jit(run)
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    return _numpy(steps[key](trainable, frozen, x))


def layer_activations(model: Any, x: np.ndarray, layer: Any) -> np.ndarray:
    """``layer``'s output for the batch ``x`` (any depth of nesting)."""
    with _LOCK, capturing(layer) as seen:
        model(np.asarray(x, dtype=np.float32), training=False)
    return _numpy(seen["output"])
