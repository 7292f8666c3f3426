"""Real run directories for predict/evaluate tests: tiny Keras models trained for real.

The run layout follows ``cnntui.core.runs`` and ``docs/ARCHITECTURE.md`` exactly, so the
code under test reads it the way it reads runs made by ``cnntui train``.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cnntui.core.atomic import atomic_save, atomic_write_json
from cnntui.core.images import Preprocessing
from cnntui.core.runs import BEST, CONFIG, LAST, Run, create_run

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tiny_cnn(input_shape=(28, 28, 1), units: int = 10, lambda_layer: bool = False):
    """A small real CNN; ``units=1`` gives a sigmoid head. Optionally with a Lambda layer.

    The Lambda's code touches the file named by ``$CNNTUI_TEST_LAMBDA_MARKER`` when it runs.
    """
    import keras

    inputs = keras.Input(input_shape)
    x = inputs
    if lambda_layer:
        x = keras.layers.Lambda(
            lambda t: (
                __import__("pathlib")
                .Path(__import__("os").environ["CNNTUI_TEST_LAMBDA_MARKER"])
                .touch()
                or t
            )
        )(x)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    activation = "sigmoid" if units == 1 else "softmax"
    outputs = keras.layers.Dense(units, activation=activation)(x)
    model = keras.Model(inputs, outputs)
    loss = "binary_crossentropy" if units == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def train_tiny(x: np.ndarray, y: np.ndarray, units: int = 10, epochs: int = 1, **kw):
    """Train :func:`tiny_cnn` on uint8 digits (N, 28, 28) for real."""
    import keras

    keras.utils.set_random_seed(0)
    model = tiny_cnn((*x.shape[1:3], 1), units=units, **kw)
    xs = x.astype("float32")[..., None] / 255.0
    ys = y.astype("float32").reshape(-1, 1) if units == 1 else y.astype("int32")
    model.fit(xs, ys, epochs=epochs, batch_size=32, verbose=0)
    return model


def write_run(
    model,
    class_names: list[str],
    root: str | Path | None = None,
    *,
    name: str = "tiny",
    pre: Preprocessing | None = None,
    source: str = "sample",
    label_mode: str = "int",
    val_split: float = 0.1,
    seed: int = 0,
    limit: int | None = None,
    status: str = "finished",
    checkpoints: tuple[str, ...] = (BEST, LAST),
) -> Run:
    """A run directory as ``cnntui train`` writes it: config, status, checkpoints.

    ``model`` is a Keras model or the path of a saved ``.keras`` file to copy.
    """
    pre = pre or Preprocessing()
    run = create_run("tiny-cnn", name=name, root=root)
    atomic_write_json(
        run.path(CONFIG),
        {
            "model": "tiny-cnn",
            "title": "Tiny test CNN",
            "hyperparameters": {
                "optimizer": "adam",
                "learning_rate": 1e-3,
                "loss": "sparse_categorical_crossentropy",
                "batch_size": 32,
                "epochs": 1,
                "limit": limit,
            },
            "data": {
                "source": source,
                "class_names": list(class_names),
                "num_classes": len(class_names),
                "preprocessing": pre.to_dict(),
                "label_mode": label_mode,
                "batch_size": 32,
                "val_split": val_split,
                "seed": seed,
                "limit": limit,
                "counts": {},
                "skipped": 0,
                "augment": [],
            },
            "input_shape": list(pre.input_shape),
            "num_classes": len(class_names),
            "seed": seed,
            "created": time.time(),
        },
    )
    for name_ in checkpoints:
        if isinstance(model, (str, Path)):
            shutil.copyfile(model, run.path(name_))
        else:
            atomic_save(run.path(name_), model.save)
    run.set_status(status)
    return run


def write_digit_files(x: np.ndarray, y: np.ndarray, folder: Path, mode: str = "L") -> list[Path]:
    """Save digits as real PNG files ``<index>_<label>.png`` (optionally RGB/RGBA etc.)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (img, label) in enumerate(zip(x, y, strict=True)):
        p = folder / f"{i:04d}_{int(label)}.png"
        Image.fromarray(img, "L").convert(mode).save(p)
        paths.append(p)
    return paths


@functools.cache
def saved_models(base: Path) -> dict[str, Path]:
    """Train and save, once per test session, the checkpoints the tests share.

    ``digits10``: softmax over 10 digits (1 epoch on 300 real digits); ``binary``: a
    one-unit sigmoid head, zero vs one; ``lambda``: a model with a Python Lambda layer.
    """
    import keras

    with np.load(Path(__file__).resolve().parents[1] / "cnntui" / "assets" / "mnist_5k.npz") as d:
        x, y = d["x"], d["y"]
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(y == k), 30, replace=False) for k in range(10)])
    rng.shuffle(idx)
    xs, ys = x[idx], y[idx]
    folder = base / "saved-models"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    out["digits10"] = folder / "digits10.keras"
    train_tiny(xs, ys, units=10).save(out["digits10"])
    zero_one = ys <= 1
    out["binary"] = folder / "binary.keras"
    train_tiny(xs[zero_one], ys[zero_one], units=1, epochs=3).save(out["binary"])
    os.environ["CNNTUI_TEST_LAMBDA_MARKER"] = str(folder / "lambda-ran-while-building")
    out["lambda"] = folder / "lambda.keras"
    try:
        tiny_cnn(units=10, lambda_layer=True).save(out["lambda"])
    finally:
        del os.environ["CNNTUI_TEST_LAMBDA_MARKER"]
    keras.backend.clear_session()
    return out


class StopAfter:
    """A sink that asks training to stop once epoch ``n`` is recorded."""

    def __init__(self, n: int, stop: threading.Event):
        self.n, self.stop = n, stop

    def handle(self, event):
        if event.get("event") == "epoch" and event["epoch"] == self.n:
            self.stop.set()

    def close(self):
        pass
