"""Benchmark ``cnntui predict`` against plain Keras, measured in one run.

1. One image, whole process: wall time of ``cnntui predict FILE`` over that of a bare
   script that imports Keras, loads the same checkpoint and predicts the same file
   (goal: at most 1.15).
2. A folder: images per second of cnntui's streaming folder prediction (decoding files
   with the training pipeline's code while the model runs) over ``model.predict`` on the
   same images already decoded in memory, at the same batch size (goal: at least 0.9).

The checkpoint comes from a real ``cnntui train`` run (1 epoch on the bundled digits).
Usage: ``python bench/bench_predict.py [--model mnist-conv] [--images 2000] [--repeats 9]
[--format png|jpg]``
(any zoo entry: the digits are resized and coloured to its input by the preprocessing).
Timings on a shared machine are noisy: each repeat times cnntui and the baseline back to
back, and both the ratio of medians and the median of the per-pair ratios are printed, plus
CPU seconds, which other processes disturb less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

BARE = textwrap.dedent(
    """
    import os, sys
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    from PIL import Image
    import keras
    model = keras.models.load_model(sys.argv[1])
    h, w, c = model.input_shape[1:]
    img = Image.open(sys.argv[2]).convert("L" if c == 1 else "RGB").resize((w, h))
    x = np.asarray(img, dtype="float32").reshape(1, h, w, c) / 255
    p = model.predict(x, verbose=0)[0]
    print(int(p.argmax()), float(p.max()))
    """
)


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


CPU: dict[str, list[float]] = {}


def run(cmd: list[str], env: dict[str, str], label: str = "") -> float:
    """Wall seconds of a process; its CPU seconds are kept under ``label``."""
    c = cpu_seconds(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    CPU.setdefault(label, []).append(cpu_seconds(resource.RUSAGE_CHILDREN) - c)
    return elapsed


def make_run(model: str, env: dict[str, str]) -> Path:
    cmd = ["cnntui", "train", model, "--epochs", "1", "--limit", "1000", "--view", "none", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    run_id = json.loads(proc.stdout.splitlines()[0])["run_id"]
    return Path(env["CNNTUI_RUNS_DIR"]) / run_id


def write_images(folder: Path, n: int, fmt: str = "png") -> list[Path]:
    with np.load(ROOT / "cnntui" / "assets" / "mnist_5k.npz") as d:
        x = d["x"]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"{i:05d}.{fmt}"
        Image.fromarray(x[i % len(x)], "L").save(p)
        paths.append(p)
    return paths


def one_image(checkpoint: Path, image: Path, env: dict[str, str], repeats: int) -> None:
    bare_script = Path(tempfile.mkdtemp()) / "bare_predict.py"
    bare_script.write_text(BARE)
    cnntui = ["cnntui", "predict", str(image), "--checkpoint", str(checkpoint)]
    bare = [sys.executable, str(bare_script), str(checkpoint), str(image)]
    run(cnntui, env), run(bare, env)  # warm the file cache
    ours, base = [], []
    for _ in range(repeats):
        ours.append(run(cnntui, env, "ours"))
        base.append(run(bare, env, "bare"))
    o, b = statistics.median(ours), statistics.median(base)
    print(
        f"one image:  cnntui predict {o:.2f} s   bare Keras script {b:.2f} s   "
        f"ratio {o / b:.3f}  (goal <= 1.15; median of paired ratios "
        f"{statistics.median(x / y for x, y in zip(ours, base, strict=True)):.3f})"
    )
    co, cb = statistics.median(CPU["ours"]), statistics.median(CPU["bare"])
    print(
        f"            CPU time (less sensitive to other load): cnntui {co:.2f} s, bare {cb:.2f} s,"
        f" ratio {co / cb:.3f}"
    )
    print(
        f"            runs: cnntui {', '.join(f'{t:.2f}' for t in ours)}; "
        f"bare {', '.join(f'{t:.2f}' for t in base)}"
    )


def folder(checkpoint: Path, paths: list[Path], repeats: int, batch_size: int) -> None:
    from cnntui.core.images import load_image
    from cnntui.core.inference.open import open_model
    from cnntui.core.inference.predict import collect_inputs, predict_paths

    loaded = open_model(checkpoint=checkpoint)
    model, pre = loaded.model, loaded.preprocessing
    x = np.stack([load_image(p, pre) for p in paths])
    inputs = collect_inputs([paths[0].parent])
    n = len(paths)

    def ours() -> float:
        c, t = cpu_seconds(), time.perf_counter()
        done = sum(1 for p in predict_paths(loaded, inputs, batch_size=batch_size) if p.ok)
        assert done == n
        CPU.setdefault("folder ours", []).append(cpu_seconds() - c)
        return n / (time.perf_counter() - t)

    def base(bs: int = batch_size, label: str = "folder base") -> float:
        c, t = cpu_seconds(), time.perf_counter()
        model.predict(x, batch_size=bs, verbose=0)
        CPU.setdefault(label, []).append(cpu_seconds() - c)
        return n / (time.perf_counter() - t)

    ours(), base(), base(32, "default")  # trace the graphs once
    CPU.clear()
    a, b, d = [], [], []
    for _ in range(repeats):
        a.append(ours())
        b.append(base())
        d.append(base(32, "folder default"))
    o, m = statistics.median(a), statistics.median(b)
    print(
        f"folder:     cnntui {o:,.0f} images/s   model.predict on preloaded {m:,.0f} images/s"
        f"   ratio {o / m:.3f}  (goal >= 0.9; median of paired ratios "
        f"{statistics.median(x / y for x, y in zip(a, b, strict=True)):.3f})"
        f"   [{n} {paths[0].suffix[1:].upper()} files, batch {batch_size}]"
    )
    dm = statistics.median(d)
    print(
        f"            vs model.predict(x) with its default batch 32: {dm:,.0f} images/s, ratio "
        f"{o / dm:.3f}"
    )
    co, cb = statistics.median(CPU["folder ours"]), statistics.median(CPU["folder base"])
    print(
        f"            CPU seconds for {n} images: cnntui {co:.2f} (decoding included), "
        f"model.predict {cb:.2f}; n/CPU ratio {cb / co:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="mnist-conv", help="zoo entry to train on the digits")
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument(
        "--format",
        choices=("png", "jpg"),
        default="png",
        help="file format of the digits (PNGs at the model's size are decoded by TensorFlow, "
        "everything else by Pillow)",
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    env = {**os.environ, "CNNTUI_RUNS_DIR": str(tmp / "runs"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    os.environ.update(CNNTUI_RUNS_DIR=env["CNNTUI_RUNS_DIR"], TF_CPP_MIN_LOG_LEVEL="2")
    print(f"training {args.model} for 1 epoch to get a real checkpoint…", flush=True)
    run_dir = make_run(args.model, env)
    checkpoint = run_dir / "best.keras"
    paths = write_images(tmp / "images", args.images, args.format)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    one_image(checkpoint, paths[0], env, args.repeats)
    folder(checkpoint, paths, args.repeats, args.batch_size)


if __name__ == "__main__":
    main()
