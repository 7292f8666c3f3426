"""Max pooling on the JAX backend whose gradient costs what the pooling costs.

Keras pools on JAX with ``lax.reduce_window``; its gradient (a select-and-scatter) runs on
XLA:CPU as a scatter over index tensors: 52 ms for a 2x2 pooling of 128x28x28x64
activations, 40 times its forward pass and most of a small CNN's train step
(``docs/backends.md``). A pooling whose windows tile the input (``strides == pool_size``,
the Keras default) is also the maximum of ``pool_size`` strided slices, and its gradient
then is elementwise: each window's gradient goes to the first element, in row-major
order, equal to its maximum, as ``reduce_window``'s does (ties included), so values and
gradients are bit for bit the same and a trained model is the same plain Keras model.
Other poolings (overlapping windows, 1D/3D) keep Keras's own code.

:func:`install` swaps the function in Keras's JAX backend once per process; it does
nothing on other backends, or with ``CNNTUI_JAX_TUNING=off``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

MAX_WINDOW = 16  # pool_size cells above which the slices cost more than they save
_installed = False


def install() -> bool:
    """Use tiled max pooling in Keras's JAX backend (idempotent); whether it is in place."""
    global _installed
    if _installed:
        return True
    keras = sys.modules.get("keras")
    if keras is None or keras.backend.backend() != "jax":
        return False
    from cnntui.core.backend import jax_tuning

    if not jax_tuning():  # CNNTUI_JAX_TUNING=off: Keras's reduce_window pooling stays
        return False
    from keras.src.backend.jax import nn

    original = nn.max_pool

    @functools.wraps(original)
    def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
        fast = _tiled_max_pool(inputs, pool_size, strides, padding, data_format)
        if fast is None:
            return original(inputs, pool_size, strides, padding, data_format)
        return fast

    max_pool.keras_max_pool = original
    nn.max_pool = max_pool
    _installed = True
    return True


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _tiled_max_pool(inputs, pool_size, strides, padding, data_format):
    """The tiled pooling of ``inputs``, or ``None`` where Keras's own code must run."""
    from keras.src import backend

    if getattr(inputs, "ndim", 0) != 4 or padding not in ("valid", "same"):
        return None
    pool = _pair(pool_size)
    step = pool if strides is None else _pair(strides)
    if pool is None or step != pool or pool[0] * pool[1] > MAX_WINDOW or min(pool) < 1:
        return None
    import jax.numpy as jnp
    from jax import lax

    ha, wa = (1, 2) if backend.standardize_data_format(data_format) == "channels_last" else (2, 3)
    x = jnp.asarray(inputs)
    ph, pw = pool
    h, w = x.shape[ha], x.shape[wa]
    if padding == "valid":
        if h < ph or w < pw:
            return None
        x = lax.slice_in_dim(x, 0, h - h % ph, 1, ha)
        x = lax.slice_in_dim(x, 0, w - w % pw, 1, wa)
    else:  # "same" as lax.padtype_to_pads: the smaller half of the padding first
        th, tw = -(-h // ph) * ph - h, -(-w // pw) * pw - w
        if th or tw:
            config = [(0, 0, 0)] * x.ndim
            config[ha], config[wa] = (th // 2, th - th // 2, 0), (tw // 2, tw - tw // 2, 0)
            x = lax.pad(x, jnp.array(-jnp.inf, x.dtype), config)
    return _tiled_max(x, ph, pw, ha, wa)


def _windows(x, ph: int, pw: int, ha: int, wa: int) -> list:
    """The ``ph * pw`` strided slices, one per window position, in row-major order."""
    from jax import lax

    out = []
    for i in range(ph):
        rows = lax.slice_in_dim(x, i, None, ph, ha)
        out.extend(lax.slice_in_dim(rows, j, None, pw, wa) for j in range(pw))
    return out


@functools.cache
def _tiled_max_fn():
    import jax
    import jax.numpy as jnp

    @functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
    def tiled_max(x, ph, pw, ha, wa):
        return functools.reduce(jnp.maximum, _windows(x, ph, pw, ha, wa))

    def forward(x, ph, pw, ha, wa):
        windows = _windows(x, ph, pw, ha, wa)
        out = functools.reduce(jnp.maximum, windows)
        # which window position gave each maximum: the first equal one, as reduce_window
        first = jnp.full(out.shape, ph * pw - 1, jnp.int8)
        for k in range(ph * pw - 2, -1, -1):
            first = jnp.where(windows[k] == out, jnp.int8(k), first)
        return out, first

    def backward(ph, pw, ha, wa, first, grad):
        # a view of the input with each window's rows and columns as axes of their own,
        # (N, Ho, ph, Wo, pw, C) for channels_last: the gradient goes where `first` points
        view = [*grad.shape[: ha + 1], 1, *grad.shape[ha + 1 : wa + 1], 1, *grad.shape[wa + 1 :]]
        cells = [1] * len(view)
        cells[ha + 1], cells[wa + 2] = ph, pw
        position = jnp.arange(ph * pw, dtype=jnp.int8).reshape(cells)
        picked = first.reshape(view) == position
        dx = jnp.where(picked, grad.reshape(view), jnp.zeros((), grad.dtype))
        shape = list(grad.shape)
        shape[ha], shape[wa] = shape[ha] * ph, shape[wa] * pw
        return (dx.reshape(shape),)

    tiled_max.defvjp(forward, backward)
    return tiled_max


def _tiled_max(x, ph: int, pw: int, ha: int, wa: int):
    return _tiled_max_fn()(x, ph, pw, ha, wa)
