"""Benchmark exported models against plain Keras: CPU latency per image, one run.

A real ``cnntui train`` run (1 epoch on the bundled digits) is exported to every format
(``cnntui.core.export.export_run``, which also checks parity), then each runtime and plain
Keras (``model(x, training=False)`` at batch 1, ``model.predict_on_batch`` at batch 32) are
timed in alternating rounds: every round times each of them once, in turn, so load on a
shared machine hits all alike. Printed per runtime and batch size: the median ms per image
over the rounds, the spread (min–max of the rounds' medians), and the ratio to Keras.

Usage: ``python bench/bench_export.py [--model mnist-conv-pool] [--rounds 7] [--calls 20]``
(takes about a minute on a quiet 2-core machine; ONNX rows need ``cnntui[onnx]``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def per_image_ms(fn, x: np.ndarray, calls: int) -> float:
    fn(x)  # warm-up (traces / allocates for this shape)
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times) / len(x)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mnist-conv-pool")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args(argv)

    import keras

    from cnntui.core.export.export import export_run
    from cnntui.core.export.formats import FORMATS
    from cnntui.core.inference.runtimes import missing_modules, open_runtime
    from cnntui.core.train import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        result = train(TrainConfig(args.model, epochs=1, limit=1500, runs_dir=tmp))
        formats = [f for f in FORMATS if f != "onnx" or not missing_modules(["tf2onnx"])]
        report = export_run(str(result.run.dir), formats, out=Path(tmp) / "export")
        model = keras.models.load_model(result.run.path("best.keras"), compile=False)
        h, w, c = model.input_shape[1:]
        x32 = np.random.default_rng(0).random((32, h, w, c), dtype=np.float32)
        runners = {"keras": None}
        runners |= {
            r["format"]: open_runtime(Path(report["out"]) / r["file"]) for r in report["formats"]
        }

        def call(name: str, x: np.ndarray):
            if name == "keras":
                return model(x, training=False) if len(x) == 1 else model.predict_on_batch(x)
            return runners[name].predict(x)

        samples: dict[tuple[str, int], list[float]] = {(n, b): [] for n in runners for b in (1, 32)}
        for _ in range(args.rounds):
            for batch in (1, 32):
                for name in runners:
                    xb = x32[:batch]
                    samples[(name, batch)].append(
                        per_image_ms(lambda v, n=name: call(n, v), xb, args.calls)
                    )
        print(
            f"{args.model}: ms per image, median of {args.rounds} alternating rounds "
            f"(min-max), ratio to plain Keras"
        )
        print(f"{'runtime':<12} {'batch':>5} {'median':>9} {'spread':>19} {'vs keras':>9}")
        for batch in (1, 32):
            base = statistics.median(samples[("keras", batch)])
            for name in runners:
                s = samples[(name, batch)]
                med = statistics.median(s)
                print(
                    f"{name:<12} {batch:>5} {med:>9.4f} {min(s):>9.4f}-{max(s):<9.4f} "
                    f"{med / base:>9.3f}"
                )
        agree = ", ".join(f"{r['format']} {r['agreement']:.2%}" for r in report["formats"])
        print(
            f"parity (top-1 agreement with Keras on {report['data']['examples']} images): {agree}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
