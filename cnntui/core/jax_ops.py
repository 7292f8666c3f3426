"""Keras ops that XLA:CPU runs slowly on the JAX backend, written as strided slices.

**Max pooling.** Keras pools on JAX with ``lax.reduce_window``; its gradient (a
select-and-scatter) runs on XLA:CPU as a scatter over index tensors: 52 ms for a 2x2
pooling of 128x28x28x64 activations, 40 times its forward pass and most of a small CNN's
train step (``docs/backends.md``). A pooling whose windows tile the input (``strides ==
pool_size``, the Keras default) is also the maximum of ``pool_size`` strided slices, and its
gradient then is elementwise: each window's gradient goes to the first element, in
row-major order, equal to its maximum, as ``reduce_window``'s does (ties included), so
values and gradients are bit for bit the same.
Overlapping windows (``MaxPooling2D(3, strides=2)``) take the same slices; an input that
is the maximum of several windows sums their gradients, as ``reduce_window`` does, in
another order, so those gradients agree to float rounding (values stay exact): 37 ms
instead of 114 ms for a 3x3/2 pooling of 128x32x32x64. 1D and 3D pooling and windows of
more than :data:`MAX_WINDOW` cells keep Keras's own code.

**Depthwise convolution** (``DepthwiseConv2D``, and so ``SeparableConv2D``): XLA:CPU runs a
grouped convolution with one group per channel as a slow generic loop (74 ms forward for
3x3 over 128x14x14x96); the sum of the kernel's taps, each a strided slice times that
tap's weights, is 3.9 ms, and its gradient by autodiff 23 ms instead of 86. The sums run
in another order than a convolution's, so results agree to float rounding.

**Convolution** (``Conv2D``). Two changes to how XLA:CPU is asked for a 2D convolution;
the forward values of any other convolution, and every input gradient, stay Keras's:

- One input channel (a grayscale first layer, stride 1, no dilation): the forward pass is
  the sum of the kernel's taps, each a shifted slice times that tap's row of weights (0.9 ms
  instead of 3.5 for 3x3, 1 to 64 channels over 128x28x28), and the kernel's gradient one
  matrix product of the stacked taps (9 x N*H*W) with the output gradient.
- A batch of :data:`WEIGHT_GRAD_ROWS` or more examples: the kernel's gradient is summed over
  slices of that many examples, each its own convolution gradient (6.9-8.3 ms instead of
  10.2 for 3x3, 64 to 32 channels over 128x14x14), the slices' activations staying in
  cache.

Both sum in another order than XLA's, so they agree with Keras's to float rounding.

All are measured on XLA:CPU only, so a JAX running on a GPU keeps Keras's ops.

The layers, models and checkpoints stay plain Keras. :func:`install` swaps the functions
in Keras's JAX backend once per process; it does nothing on other backends, or with
``CNNTUI_JAX_TUNING=off``.
"""

from __future__ import annotations

import functools
from typing import Any

MAX_WINDOW = 16  # pool_size cells above which the slices cost more than they save
WEIGHT_GRAD_ROWS = 32  # examples per slice of a convolution's kernel gradient
_installed = False


def install() -> bool:
    """Use the slice-based ops in Keras's JAX backend (idempotent); whether they are in
    place."""
    global _installed
    if _installed:
        return True
    from cnntui.core.backend import current, jax_tuning

    if current() != "jax":  # (without importing Keras: it may not be imported yet)
        return False
    if not jax_tuning():  # CNNTUI_JAX_TUNING=off: Keras's own ops stay
        return False
    import jax

    if jax.default_backend() != "cpu":  # measured on XLA:CPU only; a GPU keeps Keras's ops
        return False
    from keras.src.backend.jax import nn

    _replace(nn, "max_pool", lambda keras_op: _sliced_max_pool, "keras_max_pool")
    # separable_conv calls depthwise_conv too
    _replace(nn, "depthwise_conv", lambda keras_op: _sliced_depthwise_conv, "keras_depthwise_conv")
    _replace(nn, "conv", lambda keras_op: functools.partial(_tuned_conv, keras_op), "keras_conv")
    _installed = True
    return True


def _replace(module: Any, name: str, make_fast: Any, marker: str) -> None:
    """``module.name`` becomes a function that runs ``make_fast(Keras's function)`` with the
    same arguments, and Keras's function where that returns ``None``; Keras's function stays
    reachable as the new one's attribute ``marker``."""
    keras_op = getattr(module, name)
    fast = make_fast(keras_op)

    @functools.wraps(keras_op)
    def op(*args, **kwargs):
        out = fast(*args, **kwargs)
        return keras_op(*args, **kwargs) if out is None else out

    setattr(op, marker, keras_op)
    setattr(module, name, op)


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, int):
        return value, value
    value = tuple(value)
    if len(value) == 1:
        return int(value[0]), int(value[0])
    if len(value) == 2:
        return int(value[0]), int(value[1])
    return None


def _sliced_max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling of ``inputs`` through strided slices, or ``None`` where Keras's own code
    must run (not 2D, a window of more than :data:`MAX_WINDOW` cells, an input smaller than
    one window)."""
    from keras.src import backend

    if getattr(inputs, "ndim", 0) != 4 or padding not in ("valid", "same"):
        return None
    pool = _pair(pool_size)
    step = pool if strides is None else _pair(strides)
    if pool is None or step is None or pool[0] * pool[1] > MAX_WINDOW or min(*pool, *step) < 1:
        return None
    import jax.numpy as jnp
    from jax import lax

    ha, wa = (1, 2) if backend.standardize_data_format(data_format) == "channels_last" else (2, 3)
    x = jnp.asarray(inputs)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        return None
    (ph, pw), (sh, sw) = pool, step
    h, w = x.shape[ha], x.shape[wa]
    if padding == "same":  # as reduce_window's "SAME": the smaller half of the padding first
        (top, bottom), (left, right) = lax.padtype_to_pads((h, w), pool, step, "SAME")
        if top or bottom or left or right:
            config = [(0, 0, 0)] * x.ndim
            config[ha], config[wa] = (top, bottom, 0), (left, right, 0)
            x = lax.pad(x, jnp.array(-jnp.inf, x.dtype), config)
        h, w = x.shape[ha], x.shape[wa]
    if h < ph or w < pw:
        return None
    if step == pool:  # windows that tile the input: crop what no window covers
        x = lax.slice_in_dim(x, 0, h - h % ph, 1, ha)
        x = lax.slice_in_dim(x, 0, w - w % pw, 1, wa)
        return _tiled_max_fn()(x, ph, pw, ha, wa)
    return _overlapping_max_fn()(x, ph, pw, sh, sw, ha, wa)


def _windows(x, ph: int, pw: int, sh: int, sw: int, ha: int, wa: int) -> list:
    """One strided slice per window position (row-major), each ``(Ho, Wo)`` over the windows."""
    from jax import lax

    ho, wo = (x.shape[ha] - ph) // sh + 1, (x.shape[wa] - pw) // sw + 1
    out = []
    for i in range(ph):
        rows = lax.slice_in_dim(x, i, i + (ho - 1) * sh + 1, sh, ha)
        out.extend(lax.slice_in_dim(rows, j, j + (wo - 1) * sw + 1, sw, wa) for j in range(pw))
    return out


def _max_and_first(windows: list):
    """The maximum over the window positions, and which position gave it: the first equal
    one in row-major order, as ``reduce_window``'s gradient picks it (int8)."""
    import jax.numpy as jnp

    out = functools.reduce(jnp.maximum, windows)
    first = jnp.full(out.shape, len(windows) - 1, jnp.int8)
    for k in range(len(windows) - 2, -1, -1):
        first = jnp.where(windows[k] == out, jnp.int8(k), first)
    return out, first


@functools.cache
def _tiled_max_fn():
    import jax
    import jax.numpy as jnp

    @functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4))
    def tiled_max(x, ph, pw, ha, wa):
        return functools.reduce(jnp.maximum, _windows(x, ph, pw, ph, pw, ha, wa))

    def forward(x, ph, pw, ha, wa):
        return _max_and_first(_windows(x, ph, pw, ph, pw, ha, wa))

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


@functools.cache
def _overlapping_max_fn():
    """Windows that overlap (or leave gaps): each position's gradient is padded back into
    place (interior padding of ``stride - 1``) and the positions are summed, so an input
    that is the maximum of several windows gets all their gradients, as with
    ``reduce_window``, up to the order of that float sum."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    @functools.partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3, 4, 5, 6))
    def overlapping_max(x, ph, pw, sh, sw, ha, wa):
        return functools.reduce(jnp.maximum, _windows(x, ph, pw, sh, sw, ha, wa))

    def forward(x, ph, pw, sh, sw, ha, wa):
        out, first = _max_and_first(_windows(x, ph, pw, sh, sw, ha, wa))
        return out, (first, x.shape)

    def backward(ph, pw, sh, sw, ha, wa, saved, grad):
        first, shape = saved
        ho, wo = grad.shape[ha], grad.shape[wa]
        zero = jnp.zeros((), grad.dtype)
        dx = jnp.zeros(shape, grad.dtype)
        for i in range(ph):
            for j in range(pw):
                config = [(0, 0, 0)] * grad.ndim
                config[ha] = (i, shape[ha] - i - (ho - 1) * sh - 1, sh - 1)
                config[wa] = (j, shape[wa] - j - (wo - 1) * sw - 1, sw - 1)
                dx = dx + lax.pad(jnp.where(first == i * pw + j, grad, zero), zero, config)
        return (dx,)

    overlapping_max.defvjp(forward, backward)
    return overlapping_max


def _conv_operands(inputs, kernel, strides, padding, dilation_rate):
    """``(x, kernel, step, dilation)`` as JAX arrays and pairs for a 2D convolution the
    slices can run, or ``None`` (not 2D, another padding, not floating point)."""
    if getattr(inputs, "ndim", 0) != 4 or getattr(kernel, "ndim", 0) != 4:
        return None
    step, dilation = _pair(strides), _pair(dilation_rate)
    if step is None or dilation is None or padding not in ("valid", "same"):
        return None
    import jax.numpy as jnp

    x, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    if not jnp.issubdtype(x.dtype, jnp.floating) or x.dtype != kernel.dtype:
        return None
    return x, kernel, step, dilation


def _sliced_depthwise_conv(
    inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """A 2D depthwise convolution as the sum of its taps, or ``None`` for Keras's code."""
    from keras.src import backend

    operands = _conv_operands(inputs, kernel, strides, padding, dilation_rate)
    if operands is None:
        return None
    x, kernel, step, dilation = operands
    import jax.numpy as jnp

    first = backend.standardize_data_format(data_format) == "channels_first"
    if first:
        x = jnp.transpose(x, (0, 2, 3, 1))
    kh, kw, channels, multiplier = kernel.shape
    if x.shape[-1] != channels:
        return None  # Keras's own code names the mismatch
    x = _padded(x, (kh, kw), step, padding, dilation)
    if x is None:
        return None
    out = _sum_of_taps(x, kernel, step, dilation)
    return jnp.transpose(out, (0, 3, 1, 2)) if first else out


def _padded(x, kernel_size, step, padding: str, dilation=(1, 1)):
    """NHWC ``x`` padded as ``padding`` asks (``"same"``: as lax's ``SAME``), or ``None``
    where the (dilated) kernel does not fit in it."""
    import jax.numpy as jnp
    from jax import lax

    reach = ((kernel_size[0] - 1) * dilation[0] + 1, (kernel_size[1] - 1) * dilation[1] + 1)
    if padding == "same":
        (top, bottom), (left, right) = lax.padtype_to_pads(x.shape[1:3], reach, step, "SAME")
        x = jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    if x.shape[1] < reach[0] or x.shape[2] < reach[1]:
        return None
    return x


def _taps(x, kh: int, kw: int, step=(1, 1), dilation=(1, 1)) -> list:
    """The kernel's taps over padded NHWC ``x``, row-major: for tap ``(i, j)``, the input
    each output position multiplies by weight ``(i, j)``, ``(N, Ho, Wo, C)``."""
    (sh, sw), (dh, dw) = step, dilation
    ho = (x.shape[1] - (kh - 1) * dh - 1) // sh + 1
    wo = (x.shape[2] - (kw - 1) * dw - 1) // sw + 1
    return [
        x[:, i * dh : i * dh + (ho - 1) * sh + 1 : sh, j * dw : j * dw + (wo - 1) * sw + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]


def _sum_of_taps(x, kernel, step: tuple[int, int], dilation: tuple[int, int]):
    """``sum over taps (i, j) of x[window offset (i, j)] * kernel[i, j]``, NHWC, no padding."""
    kh, kw, channels, multiplier = kernel.shape
    out = None
    for k, tap in enumerate(_taps(x, kh, kw, step, dilation)):
        weights = kernel[k // kw, k % kw]
        term = tap[..., None] * weights if multiplier > 1 else tap * weights[:, 0]
        out = term if out is None else out + term
    if multiplier > 1:  # output channel c * multiplier + k, as Keras's grouped convolution
        out = out.reshape(*out.shape[:3], channels * multiplier)
    return out


def _tuned_conv(
    keras_conv, inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """A 2D convolution with one input channel as a sum of taps, or a batch of at least two
    :data:`WEIGHT_GRAD_ROWS` slices with its kernel gradient summed over them; ``None``
    where Keras's own code runs (not 2D, not floating point, a smaller batch)."""
    from keras.src import backend

    operands = _conv_operands(inputs, kernel, strides, padding, dilation_rate)
    if operands is None:
        return None
    x, kernel, step, dilation = operands
    import jax.numpy as jnp

    fmt = backend.standardize_data_format(data_format)
    channels = x.shape[-1] if fmt == "channels_last" else x.shape[1]
    if channels != kernel.shape[2]:
        return None  # grouped (or mismatched, which Keras's own code names)
    if channels == 1 and step == (1, 1) and dilation == (1, 1):
        first = fmt == "channels_first"
        nhwc = jnp.transpose(x, (0, 2, 3, 1)) if first else x
        padded = _padded(nhwc, kernel.shape[:2], step, padding)
        if padded is not None:
            out = _single_channel_conv_fn()(padded, kernel)
            return jnp.transpose(out, (0, 3, 1, 2)) if first else out
    slices = x.shape[0] // WEIGHT_GRAD_ROWS
    if slices < 2:
        return None
    config = (step, padding, fmt, dilation)
    return _sliced_weight_grad_conv_fn(keras_conv, config, slices)(x, kernel)


@functools.cache
def _single_channel_conv_fn():
    """Valid convolution of padded NHWC ``x`` (one channel) by ``kernel`` (kh, kw, 1, Co)."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def taps_sum(x, kernel):
        kw = kernel.shape[1]
        out = None
        for k, tap in enumerate(_taps(x, *kernel.shape[:2])):
            term = tap * kernel[k // kw, k % kw, 0]  # (N, Ho, Wo, 1) x (Co,)
            out = term if out is None else out + term
        return out

    @jax.custom_vjp
    def single_channel_conv(x, kernel):
        return taps_sum(x, kernel)

    def forward(x, kernel):
        return taps_sum(x, kernel), (x, kernel)

    def backward(saved, grad):
        x, kernel = saved
        kh, kw, _, co = kernel.shape
        taps = jnp.stack([tap[..., 0] for tap in _taps(x, kh, kw)])  # (kh*kw, N, Ho, Wo)
        dk = jnp.dot(taps.reshape(kh * kw, -1), grad.reshape(-1, co)).reshape(kernel.shape)

        def conv(v):
            dn = ("NHWC", "HWIO", "NHWC")
            return lax.conv_general_dilated(v, kernel, (1, 1), "VALID", dimension_numbers=dn)

        dx = jax.vjp(conv, x)[1](grad)[0]  # unused (and so not computed) for a first layer
        return dx, dk

    single_channel_conv.defvjp(forward, backward)
    return single_channel_conv


@functools.cache
def _sliced_weight_grad_conv_fn(keras_conv, config: tuple, slices: int):
    """Keras's convolution with ``config`` (strides, padding, data format, dilation), its
    kernel gradient summed over ``slices`` slices of the batch."""
    import jax

    step, padding, fmt, dilation = config

    def conv(x, kernel):
        return keras_conv(x, kernel, step, padding, fmt, dilation)

    @jax.custom_vjp
    def sliced_weight_grad_conv(x, kernel):
        return conv(x, kernel)

    def forward(x, kernel):
        return conv(x, kernel), (x, kernel)

    def backward(saved, grad):
        x, kernel = saved
        dx = jax.vjp(lambda v: conv(v, kernel), x)[1](grad)[0]
        n = x.shape[0]
        edges = [n * k // slices for k in range(slices + 1)]
        dk = None
        for a, b in zip(edges, edges[1:], strict=False):
            part = jax.vjp(lambda k, a=a, b=b: conv(x[a:b], k), kernel)[1](grad[a:b])[0]
            dk = part if dk is None else dk + part
        return dx, dk

    sliced_weight_grad_conv.defvjp(forward, backward)
    return sliced_weight_grad_conv
