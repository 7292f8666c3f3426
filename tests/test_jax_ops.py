"""Slice-based ops on JAX (cnntui/core/jax_ops.py). Max pooling: the same values and
gradients as Keras's own ``reduce_window`` pooling (bit for bit where windows tile the
input, ties and odd sizes included; to float rounding where they overlap); Keras's code
kept for big windows. Depthwise (and separable) convolution: Keras's values and gradients
to float rounding, strides, dilation, multipliers and both layouts. Convolution: one input
channel as a sum of taps, and the kernel gradient summed over slices of a big batch, both
Keras's values and gradients to float rounding; Keras's code kept for small batches and
grouped convolutions. A MaxPooling2D model trained with them is a plain Keras model.
Each check runs in a child under KERAS_BACKEND=jax, TensorFlow hidden
(tests/backend_harness.py)."""

from __future__ import annotations

from backend_harness import needs_backend, run_json

pytestmark = needs_backend("jax")

COMPARE = r"""
import json
import jax, jax.numpy as jnp, numpy as np
import keras
from keras.src.backend.jax import nn
from cnntui.core import jax_ops

keras_pool = nn.max_pool
assert jax_ops.install() and jax_ops.install()  # idempotent
assert nn.max_pool is not keras_pool and nn.max_pool.keras_max_pool is keras_pool
rng = np.random.default_rng(0)
cases = [
    ((16, 28, 28, 8), 2, 2, "valid", "channels_last"),
    ((16, 8, 28, 28), 2, 2, "valid", "channels_first"),
    ((8, 27, 23, 5), 2, 2, "same", "channels_last"),
    ((8, 5, 27, 23), 3, 3, "same", "channels_first"),
    ((8, 27, 23, 5), 2, 2, "valid", "channels_last"),
    ((8, 27, 23, 5), (2, 3), (2, 3), "valid", "channels_last"),
    ((8, 27, 23, 5), 3, 2, "valid", "channels_last"),   # overlapping windows
    ((8, 27, 23, 5), 3, 1, "same", "channels_last"),
    ((8, 5, 27, 23), 3, 2, "same", "channels_first"),
    ((8, 27, 23, 5), 2, 3, "valid", "channels_last"),   # gaps between windows
    ((8, 27, 23, 5), 5, 1, "same", "channels_last"),    # 25 cells: Keras's own code
]
out = []
for shape, pool, strides, padding, fmt in cases:
    # ReLU-like input: many windows tie at 0; a block of 1.0 ties at a positive value
    x = np.maximum(rng.standard_normal(shape), 0).astype("float32")
    x[:, :4, :4] = 1.0
    x = jnp.asarray(x)
    ours = lambda v: nn.max_pool(v, pool, strides, padding, fmt)
    theirs = lambda v: keras_pool(v, pool, strides, padding, fmt)
    y, y_ref = ours(x), theirs(x)
    g = jnp.asarray(rng.standard_normal(y_ref.shape).astype("float32"))
    dx = jax.jit(lambda v: jax.vjp(ours, v)[1](g)[0])(x)
    dx_ref = jax.jit(lambda v: jax.vjp(theirs, v)[1](g)[0])(x)
    fast = jax_ops._sliced_max_pool(x, pool, strides, padding, fmt) is not None
    out.append({
        "case": f"{shape} {pool}/{strides} {padding} {fmt}", "tiled": fast,
        "same_values": bool(np.array_equal(y, y_ref)) and y.shape == y_ref.shape,
        "same_gradient": bool(np.array_equal(dx, dx_ref)),
        "close_gradient": bool(np.allclose(dx, dx_ref, rtol=1e-5, atol=1e-5)),
        "gradient_sum": float(jnp.abs(dx).sum()),
    })
print(json.dumps(out))
"""

DEPTHWISE = r"""
import json
import jax, jax.numpy as jnp, numpy as np
import keras
from keras.src.backend.jax import nn
from cnntui.core import jax_ops

assert jax_ops.install()
keras_depthwise = nn.depthwise_conv.keras_depthwise_conv
rng = np.random.default_rng(1)
cases = [  # input, kernel (kh, kw, C, multiplier), strides, padding, format, dilation
    ((4, 14, 14, 8), (3, 3, 8, 1), 1, "same", "channels_last", 1),
    ((4, 15, 13, 8), (3, 3, 8, 1), 2, "same", "channels_last", 1),
    ((4, 15, 13, 6), (5, 3, 6, 2), (2, 1), "valid", "channels_last", 1),
    ((4, 6, 15, 13), (3, 3, 6, 1), 1, "same", "channels_first", 2),
    ((4, 6, 15, 13), (3, 3, 6, 3), 2, "valid", "channels_first", 1),
]
out = []
for shape, kshape, strides, padding, fmt, dilation in cases:
    x = jnp.asarray(rng.standard_normal(shape).astype("float32"))
    k = jnp.asarray(rng.standard_normal(kshape).astype("float32"))
    ours = lambda a, b: nn.depthwise_conv(a, b, strides, padding, fmt, dilation)
    theirs = lambda a, b: keras_depthwise(a, b, strides, padding, fmt, dilation)
    y, y_ref = ours(x, k), theirs(x, k)
    g = jnp.asarray(rng.standard_normal(y_ref.shape).astype("float32"))
    dx, dk = jax.vjp(ours, x, k)[1](g)
    dx_ref, dk_ref = jax.vjp(theirs, x, k)[1](g)
    close = lambda a, b: bool(a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-4))
    out.append({"case": str((shape, kshape, strides, padding, fmt, dilation)),
                "sliced": jax_ops._sliced_depthwise_conv(x, k, strides, padding, fmt,
                                                          dilation) is not None,
                "values": close(y, y_ref), "dx": close(dx, dx_ref), "dk": close(dk, dk_ref)})
# SeparableConv2D goes through the same depthwise function
layer = keras.layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2)
x = rng.standard_normal((2, 9, 9, 4)).astype("float32")
y = np.asarray(layer(x))
nn.depthwise_conv, patched = keras_depthwise, nn.depthwise_conv
y_ref = np.asarray(layer(x))
nn.depthwise_conv = patched
out.append({"case": "SeparableConv2D", "sliced": True, "values": bool(np.allclose(y, y_ref,
            rtol=1e-4, atol=1e-4)), "dx": True, "dk": True})
print(json.dumps(out))
"""

CONV = r"""
import json
import jax, jax.numpy as jnp, numpy as np
from keras.src.backend.jax import nn
from cnntui.core import jax_ops

assert jax_ops.install()
keras_conv = nn.conv.keras_conv
rng = np.random.default_rng(2)
cases = [  # input, kernel (kh, kw, C in, C out), strides, padding, format, dilation
    ((8, 28, 28, 1), (3, 3, 1, 16), 1, "same", "channels_last", 1),  # one channel
    ((8, 1, 15, 13), (5, 3, 1, 4), 1, "valid", "channels_first", 1),
    ((64, 14, 14, 8), (3, 3, 8, 16), 1, "same", "channels_last", 1),  # sliced: 2 x 32
    ((70, 9, 11, 6), (3, 3, 6, 4), (2, 1), "valid", "channels_last", 1),  # 35 + 35
    ((100, 6, 9, 9), (3, 3, 6, 5), 1, "same", "channels_first", 2),  # 33 + 33 + 34
    ((64, 12, 12, 1), (3, 3, 1, 8), 2, "same", "channels_last", 1),  # strided: sliced
    ((16, 9, 9, 4), (3, 3, 4, 8), 1, "same", "channels_last", 1),  # small batch: Keras's
    ((64, 9, 9, 8), (3, 3, 4, 8), 1, "same", "channels_last", 1),  # grouped: Keras's
]
out = []
for shape, kshape, strides, padding, fmt, dilation in cases:
    x = jnp.asarray(rng.standard_normal(shape).astype("float32"))
    k = jnp.asarray(rng.standard_normal(kshape).astype("float32"))
    ours = lambda a, b: nn.conv(a, b, strides, padding, fmt, dilation)
    theirs = lambda a, b: keras_conv(a, b, strides, padding, fmt, dilation)
    y, y_ref = jax.jit(ours)(x, k), jax.jit(theirs)(x, k)
    g = jnp.asarray(rng.standard_normal(y_ref.shape).astype("float32"))
    dx, dk = jax.jit(lambda a, b: jax.vjp(ours, a, b)[1](g))(x, k)
    dx_ref, dk_ref = jax.jit(lambda a, b: jax.vjp(theirs, a, b)[1](g))(x, k)
    close = lambda a, b: bool(a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-3))
    tuned = jax_ops._tuned_conv(keras_conv, x, k, strides, padding, fmt, dilation) is not None
    out.append({"case": str((shape, kshape, strides, padding, fmt, dilation)), "tuned": tuned,
                "values": close(y, y_ref), "dx": close(dx, dx_ref), "dk": close(dk, dk_ref),
                "dk_sum": float(jnp.abs(dk).sum())})
print(json.dumps(out))
"""

TRAIN = r"""
import json, os, tempfile
import numpy as np
import keras
from cnntui.core.registry import get_model
from keras.src.backend.jax import nn

keras.utils.set_random_seed(0)
model = get_model("mnist-conv-pool").build((28, 28, 1), 10)  # installs the pooling
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
with np.load(os.environ["DIGITS"]) as d:
    pick = np.random.default_rng(0).permutation(len(d["y"]))[:512]  # the file is sorted
    x, y = d["x"][pick, :, :, None].astype("float32") / 255.0, d["y"][pick]
history = model.fit(x, y, batch_size=64, epochs=5, verbose=0).history
path = os.path.join(tempfile.mkdtemp(), "m.keras")
model.save(path)
back = keras.models.load_model(path)
same = bool(np.allclose(back.predict(x[:64], verbose=0), model.predict(x[:64], verbose=0)))
print(json.dumps({"patched": hasattr(nn.max_pool, "keras_max_pool"), "loss": history["loss"],
                  "accuracy": history["accuracy"][-1], "reloaded_same": same}))
"""


def test_sliced_pooling_matches_keras():
    rows = run_json(COMPARE)
    assert [r["tiled"] for r in rows] == [True] * 10 + [False], rows
    for r in rows:
        assert r["same_values"], r  # a maximum is exact
        assert r["gradient_sum"] > 0, r  # the gradient reached the input
    for r in rows[:6] + rows[-1:]:  # windows that tile the input: bit for bit, ties included
        assert r["same_gradient"], r
    for r in rows[6:10]:  # overlapping windows sum gradients in another order
        assert r["close_gradient"], r


def test_sliced_depthwise_convolution_matches_keras():
    for r in run_json(DEPTHWISE):
        assert r["sliced"] and r["values"] and r["dx"] and r["dk"], r


def test_tuned_convolution_matches_keras():
    rows = run_json(CONV)
    assert [r["tuned"] for r in rows] == [True] * 6 + [False] * 2, rows
    for r in rows:
        assert r["values"] and r["dx"] and r["dk"] and r["dk_sum"] > 0, r


def test_building_a_model_installs_the_ops_before_keras_is_imported():
    code = (
        "import json, sys\nfrom cnntui.core.registry import get_model\n"
        "assert 'keras' not in sys.modules\n"
        "get_model('mnist-conv-pool').build()\n"
        "from keras.src.backend.jax import nn\n"
        "print(json.dumps([hasattr(nn.max_pool, 'keras_max_pool'),\n"
        "                  hasattr(nn.depthwise_conv, 'keras_depthwise_conv'),\n"
        "                  hasattr(nn.conv, 'keras_conv')]))"
    )
    assert run_json(code) == [True, True, True]


def test_off_switch_keeps_keras_ops():
    code = (
        "import json, keras\nfrom cnntui.core import jax_ops\n"
        "from keras.src.backend.jax import nn\n"
        "print(json.dumps([jax_ops.install(), hasattr(nn.max_pool, 'keras_max_pool'),\n"
        "                  hasattr(nn.depthwise_conv, 'keras_depthwise_conv'),\n"
        "                  hasattr(nn.conv, 'keras_conv')]))"
    )
    assert run_json(code, env={"CNNTUI_JAX_TUNING": "off"}) == [False] * 4


def test_a_pooling_model_trains_and_saves_as_plain_keras():
    from cnntui.core.data.array_sources import sample_path

    out = run_json(TRAIN, env={"DIGITS": str(sample_path())}, timeout=400)
    assert out["patched"]
    assert out["loss"][-1] < out["loss"][0] * 0.8, out  # it learned
    assert out["accuracy"] > 0.5, out
    assert out["reloaded_same"]
