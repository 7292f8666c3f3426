"""Benchmark a one-image ``cnntui explain`` process (Grad-CAM) against ``cnntui predict``.

Goal (issue #11 §6): explain costs at most 1.3x predict on the same checkpoint and image,
whole process each. A bare Keras script that loads the checkpoint and predicts is the
plain-Keras baseline, timed in the same run. Each repeat runs the three back to back in
rotating order; medians, spread (min-max) and ratios are printed.

The checkpoint comes from a real ``cnntui train`` run (1 epoch on 1,000 bundled digits).
Usage: ``python bench/bench_explain.py [--model mnist-conv] [--repeats 7] [--method gradcam]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BARE = """
import os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
from PIL import Image
import keras
model = keras.models.load_model(sys.argv[1])
h, w, c = model.input_shape[1:]
img = Image.open(sys.argv[2]).convert("L" if c == 1 else "RGB").resize((w, h))
x = np.asarray(img, dtype="float32").reshape(1, h, w, c) / 255
print(int(np.asarray(model(x)).argmax()))
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mnist-conv")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--method", default="gradcam")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    env = {**os.environ, "CNNTUI_RUNS_DIR": str(work / "runs"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    cli = [sys.executable, "-m", "cnntui"]
    print(f"training {args.model} for 1 epoch to get a real checkpoint…", flush=True)
    train = [*cli, "train", args.model, "--epochs", "1", "--limit", "1000", "--view", "none",
             "--json"]  # fmt: skip
    out = subprocess.run(train, capture_output=True, text=True, env=env, check=True).stdout
    run_id = json.loads(out.splitlines()[0])["run_id"]
    checkpoint = work / "runs" / run_id / "best.keras"
    with np.load(ROOT / "cnntui" / "assets" / "mnist_5k.npz") as d:
        image = work / "digit.png"
        Image.fromarray(d["x"][7], "L").save(image)
    bare = work / "bare.py"
    bare.write_text(BARE)
    cmds = {
        "predict": [*cli, "predict", str(image), "--run", run_id],
        "explain": [*cli, "explain", str(image), "--run", run_id, "--method", args.method],
        "keras": [sys.executable, str(bare), str(checkpoint), str(image)],
    }
    for cmd in cmds.values():
        timed(cmd, env)  # warm the file cache
    times: dict[str, list[float]] = {k: [] for k in cmds}
    names = list(cmds)
    for r in range(args.repeats):
        for name in names[r % 3 :] + names[: r % 3]:  # rotate the order
            times[name].append(timed(cmds[name], env))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>8}: median {med[k]:.3f} s  (min {min(v):.3f}, max {max(v):.3f}, n={len(v)})")
    pairs = [e / p for e, p in zip(times["explain"], times["predict"])]
    print(f"explain / predict: {med['explain'] / med['predict']:.3f} (ratio of medians), "
          f"{statistics.median(pairs):.3f} (median of paired ratios); goal <= 1.3")  # fmt: skip
    print(f"explain / keras: {med['explain'] / med['keras']:.3f}   "
          f"predict / keras: {med['predict'] / med['keras']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
