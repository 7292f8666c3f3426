"""The GPU check: what cnntui does on this machine's accelerator, in one run (< 8 min).

Made for a GPU box with JAX or PyTorch (CUDA) and no TensorFlow, installed offline from a
folder of carried wheels (see the README's "GPU check"); it runs on any backend and on a
CPU too (``--quick``, which the test suite runs under JAX). It prints:

1. the backend and its devices;
2. training images/s of three zoo entries at a few batch sizes, with mixed precision
   (float16 on a GPU, bfloat16 on a CPU), on the bundled digits (steady state: the
   compiling first pass is left out; median and min–max of ``--repeats`` timed passes);
3. the time to 99% validation accuracy on the bundled digits with ``cnntui train``'s own
   code (``fast-resnet``, its modern recipe): from the call to the end of the epoch that
   reached it, and from the ``begin`` event (setup and data loading left out);
4. the cost of the live view and of the event log on throughput: a bare ``model.fit``
   against cnntui's training (event log only, then with the live view drawing into
   /dev/null), same model, data pipeline, batch size and epochs, in alternating rounds;
   images/s over the epochs after the second (under JAX the first two still compile),
   ratio = cnntui / bare (median, min–max).

    python bench/gpu_check.py            # on the GPU box (KERAS_BACKEND=jax or torch)
    python bench/gpu_check.py --quick    # a minute or two on a CPU
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
ENTRIES = ("mnist-conv-pool", "resnet-mini", "fast-resnet")
TARGET = 0.99
STEADY = 2  # epochs left out of the view's cost: the first two still compile (JAX)


def spread(values: list[float], spec: str = ".1f") -> str:
    """``median (min–max)`` of ``values``."""
    med = statistics.median(values)
    return f"{med:{spec}} ({min(values):{spec}}–{max(values):{spec}})"


def device_report() -> dict:
    """The backend, its version and its devices."""
    import keras

    from cnntui.core import backend
    from cnntui.core.train.strategy import gpu_count

    name = keras.backend.backend()
    info = {**backend.describe(name), "keras": keras.__version__, "gpus": gpu_count()}
    if name == "jax":
        import jax

        info["devices"] = [f"{d.platform}:{d.device_kind}" for d in jax.devices()]
    elif name == "torch":
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        info["devices"] = [torch.cuda.get_device_name(i) for i in range(count)] or ["cpu"]
        info["cuda"] = torch.version.cuda
    else:
        import tensorflow as tf

        info["devices"] = [d.name for d in tf.config.list_logical_devices()]
    return info


def digits(n: int | None = None):
    """The bundled digits as float32 (N, 28, 28, 1) in [0, 1] and int labels."""
    import numpy as np

    import cnntui

    with np.load(Path(cnntui.__file__).parent / "assets" / "mnist_5k.npz") as d:
        x, y = d["x"][:n], d["y"][:n]
    return (x[..., None] / 255.0).astype("float32"), y.astype("int32")


class EpochTimer:
    """A Keras callback keeping each epoch's seconds (made lazily: Keras imports late)."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.seconds: list[float] = []

            def on_epoch_begin(self, epoch, logs=None):
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._t)

        return _Timer()


def throughput(entries, batch_sizes, steps: int, repeats: int) -> list[dict]:
    """Training images/s per (entry, batch size): one compiling epoch, then ``repeats``
    timed epochs of ``steps`` batches each, on the digits tiled to fill them."""
    import keras
    import numpy as np

    from cnntui.core import registry
    from cnntui.core.train.strategy import set_precision

    policy = set_precision(True)
    x0, y0 = digits()
    rows = []
    for name in entries:
        for batch in batch_sizes:
            n = steps * batch
            reps = -(-n // len(x0))
            x, y = np.concatenate([x0] * reps)[:n], np.concatenate([y0] * reps)[:n]
            keras.utils.set_random_seed(0)
            model = registry.get_model(name).build((28, 28, 1), 10)
            model.compile("adam", "sparse_categorical_crossentropy")
            timer = EpochTimer()
            model.fit(x, y, batch_size=batch, epochs=1 + repeats, verbose=0, callbacks=[timer])
            rates = [n / s for s in timer.seconds[1:]]
            rows.append({"model": name, "batch": batch, "policy": policy, "images_per_s": rates})
            print(f"  {name:<16} batch {batch:>5}  {spread(rates):>24} images/s", flush=True)
            del model
            keras.backend.clear_session()
    set_precision(False)
    return rows


def _events(run_dir: Path) -> list[dict]:
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def cnntui_train(runs: str, sinks: list, **options) -> tuple[float, list[dict]]:
    """``cnntui train``'s own code path; (seconds from the call, its events)."""
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.train.runner import train

    cfg = TrainConfig(data="sample", runs_dir=runs, patience=0, seed=0, **options).validate()
    t0 = time.time()
    result = train(cfg, sinks=sinks)
    if result.status != "finished":
        raise SystemExit(f"gpu_check: training ended {result.status}: {result.reason}")
    return t0, _events(result.run.dir)


def time_to_target(runs: str, model: str, epochs: int, limit: int | None) -> dict:
    """Seconds until validation accuracy first reached :data:`TARGET`, or the best seen."""
    t0, events = cnntui_train(
        runs, [], model=model, epochs=epochs, limit=limit, mixed_precision=True
    )
    begin = next(e for e in events if e["event"] == "begin")
    best = 0.0
    for e in (e for e in events if e["event"] == "epoch"):
        acc = float(e["logs"].get("val_accuracy", 0.0))
        best = max(best, acc)
        if acc >= TARGET:
            since = {"seconds": e["time"] - t0, "training_seconds": e["time"] - begin["time"]}
            return {"reached": True, "epoch": e["epoch"], "val_accuracy": acc, **since}
    return {"reached": False, "epochs": epochs, "best_val_accuracy": best}


def bare_fit(model_name: str, epochs: int, batch: int, limit: int | None) -> list[float]:
    """Images/s per epoch of a bare ``model.fit`` on cnntui's data pipeline."""
    import keras

    from cnntui.core import registry
    from cnntui.core.data import load_data
    from cnntui.core.heads import label_mode_for, loss_for, output_units
    from cnntui.core.train.strategy import set_precision

    entry = registry.get_model(model_name)
    hp = entry.hyperparameters
    set_precision(True)
    keras.utils.set_random_seed(0)
    data = load_data("sample", input_shape=entry.input_shape, label_mode="int",
                     batch_size=batch, val_split=0.1, seed=0, limit=limit)  # fmt: skip
    model = entry.build(data.input_shape, data.num_classes)
    units = output_units(model)
    loss = loss_for(hp.loss, units)
    train, val = data.train, data.val
    if label_mode_for(loss, units) == "categorical":
        k = data.num_classes
        train = train.map(lambda x, y: (x, keras.ops.one_hot(y, k)))
        val = val.map(lambda x, y: (x, keras.ops.one_hot(y, k)))
    opts = keras.optimizers
    opt = {"adam": opts.Adam, "sgd": opts.SGD, "rmsprop": opts.RMSprop, "adamw": opts.AdamW}
    opt = opt[hp.optimizer]
    model.compile(optimizer=opt(learning_rate=hp.learning_rate), loss=loss, metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[timer])
    set_precision(False)
    keras.backend.clear_session()
    return [int(data.counts["train"]) / s for s in timer.seconds]


def cnntui_rates(runs: str, model: str, epochs: int, batch: int, limit, live: bool) -> list:
    """Images/s per epoch of cnntui's training (event log; plus the live view if ``live``)."""
    sinks = []
    if live:
        from cnntui.cli.live import LiveView

        sinks = [LiveView(stream=open(os.devnull, "w"))]  # noqa: SIM115 - closed by exit
    _, events = cnntui_train(
        runs, sinks, model=model, epochs=epochs, batch_size=batch, limit=limit,
        mixed_precision=True, recipe="article",
    )  # fmt: skip
    return [float(e["images_per_sec"]) for e in events if e["event"] == "epoch"]


def overhead(runs: str, model: str, epochs: int, batch: int, limit, rounds: int) -> dict:
    """Per round (sides rotating): each side's images/s over the epochs after :data:`STEADY`."""
    sides = {"bare": [], "events": [], "live": []}
    for r in range(rounds):
        order = ["bare", "events", "live"]
        order = order[r % 3 :] + order[: r % 3]
        for side in order:
            if side == "bare":
                rates = bare_fit(model, epochs, batch, limit)
            else:
                rates = cnntui_rates(runs, model, epochs, batch, limit, live=side == "live")
            sides[side].append(statistics.mean(rates[STEADY:]))
            print(f"  round {r + 1} {side:<7} {sides[side][-1]:10.1f} images/s", flush=True)
    return sides


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="CPU-sized: seconds, not minutes")
    p.add_argument("--entries", default=",".join(ENTRIES))
    p.add_argument("--batch-sizes", default=None, help="default 128,512,2048 (quick: 32)")
    p.add_argument("--repeats", type=int, default=None, help="timed passes / rounds")
    p.add_argument("--target-model", default="fast-resnet", help="for the time to 99%%")
    p.add_argument("--overhead-model", default="mnist-conv-pool", help="for the view's cost")
    p.add_argument("--json", default=None, help="also write every figure to this file")
    a = p.parse_args(argv)
    quick = a.quick
    batches = [int(b) for b in (a.batch_sizes or ("32" if quick else "128,512,2048")).split(",")]
    repeats = a.repeats or (1 if quick else 3)
    entries = [e for e in a.entries.split(",") if e]
    started = time.time()
    out: dict = {"quick": quick}

    print("device", flush=True)
    out["device"] = device_report()
    for k, v in out["device"].items():
        print(f"  {k:<8} {v}")
    if not out["device"]["gpus"]:
        print("  (no GPU seen: every figure below is this machine's CPU)")

    print("training throughput, mixed precision (median (min–max) of timed epochs)", flush=True)
    out["throughput"] = throughput(entries, batches, steps=2 if quick else 30, repeats=repeats)

    with tempfile.TemporaryDirectory(prefix="cnntui-gpu-check-") as runs:
        epochs = 1 if quick else 15
        print(f"time to {TARGET:.0%} validation accuracy, {a.target_model}, bundled digits")
        res = time_to_target(runs, a.target_model, epochs, 300 if quick else None)
        out["time_to_target"] = res
        if res["reached"]:
            print(
                f"  {res['seconds']:.1f} s from the call ({res['training_seconds']:.1f} s of "
                f"training) at epoch {res['epoch']}: val_accuracy {res['val_accuracy']:.4f}"
            )
        else:
            print(f"  not reached in {res['epochs']} epochs (best {res['best_val_accuracy']:.4f})")

        print(f"cost of the event log and the live view (images/s, epochs after the {STEADY}nd)")
        sides = overhead(runs, a.overhead_model, STEADY + (1 if quick else 3), 128,
                         300 if quick else None, rounds=repeats)  # fmt: skip
    out["overhead"] = sides
    for side in ("events", "live"):
        ratios = [s / b for s, b in zip(sides[side], sides["bare"])]
        out[f"{side}_ratio"] = ratios
        print(f"  {side:<7} / bare  {spread(ratios, '.3f')}")
    out["seconds"] = round(time.time() - started, 1)
    print(f"done in {out['seconds']:.0f} s")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
