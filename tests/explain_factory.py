"""Small real models for the explanation tests, trained once per session.

Every image is dim noise with a dim square in one quadrant; class 1 images also have a
bright square in another quadrant, and that bright square is what decides the class, so a
correct explanation of class 1 must point at its quadrant (0 top-left, 1 top-right,
2 bottom-left, 3 bottom-right) and not at the dim one.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZE = 32
PATCH = 7
QUADRANTS = ("top_left", "top_right", "bottom_left", "bottom_right")


def _square(x: np.ndarray, q: int, value: int, rng: np.random.Generator) -> None:
    half = SIZE // 2
    r = (q // 2) * half + rng.integers(1, half - PATCH)
    c = (q % 2) * half + rng.integers(1, half - PATCH)
    x[r : r + PATCH, c : c + PATCH, 0] = value


def quadrant_images(
    n: int, seed: int = 0, positive: bool | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """uint8 images (n, 32, 32, 1), labels (n,) and the bright square's quadrant (-1: none).

    ``positive``: all class 1 (True), all class 0 (False) or half and half (None).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n) if positive is None else np.full(n, int(positive))
    x = rng.integers(0, 40, size=(n, SIZE, SIZE, 1)).astype(np.uint8)
    where = np.full(n, -1)
    for i in range(n):
        quads = rng.permutation(4)
        _square(x[i], quads[0], int(rng.integers(70, 100)), rng)
        if y[i]:
            where[i] = quads[1]
            _square(x[i], quads[1], int(rng.integers(200, 256)), rng)
    return x, y.astype(np.int64), where


def quadrant_cnn(units: int):
    import keras

    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Dropout(0.1)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    act = "sigmoid" if units == 1 else "softmax"
    return keras.Model(inputs, keras.layers.Dense(units, activation=act)(x), name="quadrants")


@functools.cache
def quadrant_models(base: Path) -> dict[str, Path]:
    """``softmax``: two softmax units; ``binary``: one sigmoid unit. Both trained for real
    on the same images and saved as .keras files."""
    import keras

    folder = Path(base) / "explain-models"
    folder.mkdir(parents=True, exist_ok=True)
    x, y, _ = quadrant_images(480, seed=1)
    out = {}
    for name, units in (("softmax", 2), ("binary", 1)):
        keras.utils.set_random_seed(0)
        model = quadrant_cnn(units)
        loss = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=loss, metrics=["accuracy"])
        target = y.astype("float32") if units == 1 else y
        model.fit(x.astype("float32") / 255.0, target, epochs=4, batch_size=32, verbose=0)
        out[name] = folder / f"{name}.keras"
        model.save(out[name])
    keras.backend.clear_session()
    return out
