"""Fine-tuning a pretrained backbone against training it from scratch, offline, with weights
cnntui makes itself; and each backbone's training speed at its native size.

The weights: ``mobilenetv3-small`` trained from scratch by ``cnntui train`` on the bundled
digits 0-4 (2,500 real digits, ``--pretrain-epochs``), once. The small split: digits 5-9,
``--per-class`` images of each to train on (chosen by the seed), every other one (about
2,300) as the test set. Per seed, three arms train on the same split for ``--epochs``
epochs at 32x32, their order rotating from seed to seed:

- ``finetune``: ``cnntui train mobilenetv3-small --weights RUN`` (the recipe ``finetune``:
  the head alone for one epoch, then the backbone at 0.3x the head's rate, BatchNorm frozen);
- ``scratch``: the same entry with ``--weights none`` (its from-scratch recipe, ``modern``);
- ``fast-cnn``: the best small entry from scratch on these digits (``cnntui train fast-cnn``
  at their own 28x28), what a user without a backbone would train instead;
- ``keras``: the Keras transfer-learning guide in plain Keras on the same backbone weights
  (``keras.applications.MobileNetV3Small``, the base called with ``training=False``, Adam
  1e-3 on the head for one epoch, then everything at 1e-5).

Every arm validates on the test set after each epoch, so the time to ``--target`` test
accuracy is read from the curve (training seconds summed up to that epoch); the final
accuracy is the last epoch's (no checkpoint picked on the test set). Printed: median
(min-max) over the seeds, and finetune's points over each other arm.

``--speed``: seconds per 1,000 training images of each backbone entry at 224x224 (batch
16, after one warm-up step), against the bare ``keras.applications`` model with a Dense
head, in the same run.

    python bench/bench_transfer.py                    # 3 seeds, ~6 min on 2 cores
    python bench/bench_transfer.py --seeds 1 --epochs 3 --no-speed   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from transfer_factory import write_transfer_split  # noqa: E402

SHAPE = (32, 32, 1)
ENTRY = "mobilenetv3-small"
SPEED_ENTRIES = (
    "mobilenetv3-small", "mobilenetv3-large", "mobilenetv2", "efficientnetv2-b0",
    "resnet50v2", "convnext-tiny",
)  # fmt: skip


def spread(values: list[float], spec: str = ".3f") -> str:
    """``median (min-max)``."""
    return f"{statistics.median(values):{spec}} ({min(values):{spec}}-{max(values):{spec}})"


def curve_of(run) -> list[tuple[float, float]]:
    """(training seconds so far, test accuracy) after each epoch, from ``events.jsonl``."""
    out, total = [], 0.0
    epochs: dict[int, dict] = {}
    for line in run.path("events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "epoch":
            epochs[int(event["epoch"])] = event
    for _, event in sorted(epochs.items()):
        total += float(event.get("seconds") or 0.0)
        out.append((total, float(event["logs"]["val_accuracy"])))
    return out


def cnntui_arm(
    small: Path, seed: int, epochs: int, weights: str | None, entry: str = ENTRY
) -> list[tuple[float, float]]:
    """One ``cnntui train`` on the small split (``weights`` None: an entry without a
    backbone, at the data's own size); its test-accuracy curve."""
    from cnntui.core.train import TrainConfig, train

    shape = SHAPE if weights is not None else None
    cfg = TrainConfig(
        entry, data=str(small), epochs=epochs, input_shape=shape, weights=weights, seed=seed,
        patience=0, validate_on="test",
    )  # fmt: skip
    result = train(cfg)
    assert result.status == "finished", result.reason
    return curve_of(result.run)


def keras_arm(small: Path, weights_file: Path, seed: int, epochs: int):
    """The Keras guide's two phases on the same backbone weights; its test-accuracy curve."""
    import keras
    import numpy as np
    from keras import layers

    with np.load(small) as d:
        x, y, xt, yt = d["x"], d["y"], d["x_test"], d["y_test"]
    keras.utils.set_random_seed(seed)
    base = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(32, 32, 3), pooling="avg"
    )
    base.load_weights(weights_file)
    inputs = keras.Input((28, 28, 1))
    z = layers.Resizing(32, 32)(layers.Concatenate()([inputs, inputs, inputs]))
    z = base(z, training=False)  # BatchNorm in inference mode, as the guide says
    outputs = layers.Dense(5, activation="softmax")(layers.Dropout(0.2)(z))
    model = keras.Model(inputs, outputs)
    curve, total = [], 0.0

    def phase(lr: float, n: int) -> None:
        nonlocal total
        model.compile(
            keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        for _ in range(n):
            t = time.perf_counter()
            model.fit(x[..., None].astype("float32"), y, batch_size=32, epochs=1, verbose=0)
            total += time.perf_counter() - t
            _, acc = model.evaluate(xt[..., None].astype("float32"), yt, verbose=0)
            curve.append((total, float(acc)))

    base.trainable = False
    phase(1e-3, 1)
    base.trainable = True
    phase(1e-5, epochs - 1)
    return curve


def time_to(curve: list[tuple[float, float]], target: float) -> float | None:
    return next((s for s, acc in curve if acc >= target), None)


def pretrain(folder: Path, epochs: int) -> tuple[str, Path]:
    """The run pretrained on digits 0-4, and its backbone's weights as a file."""
    from cnntui.core.train import TrainConfig, train
    from cnntui.core.weights import find_backbone

    data, _ = write_transfer_split(folder)
    cfg = TrainConfig(ENTRY, data=str(data), epochs=epochs, input_shape=SHAPE, weights="none")
    result = train(cfg)
    assert result.status == "finished", result.reason
    import keras

    model = keras.models.load_model(result.run.path("best.keras"), compile=False)
    file = folder / "backbone.weights.h5"
    find_backbone(model).save_weights(file)
    acc = result.metrics.get("best_val_accuracy")
    print(f"pretrained {ENTRY} on digits 0-4 for {epochs} epochs: val_acc {acc:.3f}")
    return result.run.id, file


def accuracy_table(args: argparse.Namespace, folder: Path) -> None:
    run_id, file = pretrain(folder, args.pretrain_epochs)
    arms = ["finetune", "scratch", "fast-cnn", "keras"]
    curves: dict[str, list[list[tuple[float, float]]]] = {a: [] for a in arms}
    for seed in range(args.seeds):
        _, small = write_transfer_split(folder, args.per_class, seed)
        for arm in arms[seed % 4 :] + arms[: seed % 4]:
            if arm == "finetune":
                curve = cnntui_arm(small, seed, args.epochs, run_id)
            elif arm == "scratch":
                curve = cnntui_arm(small, seed, args.epochs, "none")
            elif arm == "fast-cnn":
                curve = cnntui_arm(small, seed, args.epochs, None, "fast-cnn")
            else:
                curve = keras_arm(small, file, seed, args.epochs)
            curves[arm].append(curve)
            print(f"seed {seed} {arm:8s} final {curve[-1][1]:.3f} in {curve[-1][0]:.1f} s")
    print(f"\n{args.per_class} images per class, {args.epochs} epochs, {args.seeds} seeds:")
    print(f"{'arm':9s} {'final test accuracy':24s} {'train s':18s} time to {args.target:.0%}")
    final = {a: [c[-1][1] for c in cs] for a, cs in curves.items()}
    for arm, cs in curves.items():
        reached = [time_to(c, args.target) for c in cs]
        hit = [r for r in reached if r is not None]
        when = f"{spread(hit, '.1f')} s ({len(hit)}/{len(cs)} seeds)" if hit else "never"
        print(f"{arm:9s} {spread(final[arm]):24s} {spread([c[-1][0] for c in cs], '.1f'):18s} "
              f"{when}")  # fmt: skip
    for other in arms[1:]:
        gains = [(f - o) * 100 for f, o in zip(final["finetune"], final[other])]
        print(f"finetune - {other}: {spread(gains, '+.1f')} points")


def trainer(model, batch: int = 16):
    """A function that times ``steps`` training steps of ``model`` on random pixels and
    returns seconds per 1,000 images (compiled and traced once, here)."""
    import numpy as np

    x = np.random.default_rng(0).random((batch, *model.input_shape[1:]), dtype=np.float32)
    y = np.arange(batch) % 10
    model.compile("adamw", "sparse_categorical_crossentropy")
    model.train_on_batch(x, y)  # the trace

    def seconds_per_1000(steps: int = 3) -> float:
        t = time.perf_counter()
        for _ in range(steps):
            model.train_on_batch(x, y)
        return (time.perf_counter() - t) / (steps * batch) * 1000

    return seconds_per_1000


def speed_table(rounds: int = 3) -> None:
    """Per backbone entry, ``rounds`` alternating timings of it and of the bare
    ``keras.applications`` model with a Dense head: medians and the Keras / cnntui ratio."""
    import keras

    from cnntui.core import registry

    registry.load_zoo()
    print("\nseconds per 1,000 training images at 224x224x3 (batch 16), median of "
          f"{rounds} alternating rounds; ratio > 1: cnntui faster")  # fmt: skip
    for name in SPEED_ENTRIES:
        entry = registry.get_model(name)
        ours = trainer(entry.build((224, 224, 3), 10))
        app = getattr(keras.applications, entry.pretrained.application)
        base = app(include_top=False, weights=None, input_shape=(224, 224, 3), pooling="avg")
        theirs = trainer(keras.Sequential([base, keras.layers.Dense(10, activation="softmax")]))
        times: dict[str, list[float]] = {"cnntui": [], "keras": []}
        for r in range(rounds):
            pair = [("cnntui", ours), ("keras", theirs)]
            for side, timed in pair if r % 2 == 0 else pair[::-1]:
                times[side].append(timed())
        keras.backend.clear_session()
        a, b = statistics.median(times["cnntui"]), statistics.median(times["keras"])
        print(f"{name:18s} {spread(times['cnntui'], '.1f'):18s} keras "
              f"{spread(times['keras'], '.1f'):18s} ratio {b / a:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--pretrain-epochs", type=int, default=8)
    parser.add_argument("--target", type=float, default=0.7)
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnntui-bench-transfer-") as tmp:
        os.environ["CNNTUI_RUNS_DIR"] = str(Path(tmp) / "runs")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        accuracy_table(args, Path(tmp))
        if not args.no_speed:
            speed_table()


if __name__ == "__main__":
    main()
