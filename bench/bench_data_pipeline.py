"""Images per second: cnntui's folder pipeline vs ``keras.utils.image_dataset_from_directory``.

Generates a folder of JPEGs (photo-like sizes, a few classes), then in one run, on the same
folder, image size and batch size, times a full pass over the data for several epochs:

- keras: ``image_dataset_from_directory(...)`` (its own parallel TF decode, no cache);
- cnntui: ``load_data(folder)`` (check pass + Pillow decode + cache when it fits).

The generated images are photo-like by default (``--pattern photo``: a smooth colour
gradient, soft-edged shapes that depend on the class, mild noise and a fine texture; ~45 KB
for 375x500 at quality 90, like real photos of that size). Until 2026-11-22 the folder used
``tests/image_factory.class_pattern`` (stripes under strong per-pixel noise: ~70 KB per
375x500 JPEG, so entropy decoding dominated every decode); ``--pattern noisy`` still makes
that folder. Both pipelines read the very same files either way.

Epoch 1 includes building the dataset (listing files; for cnntui also the check pass that
decodes every file once). Prints the ratio cnntui/keras per epoch (>1 means cnntui is faster)
and each round's epoch-1 seconds: on 2 cores Keras's pipeline (tf.data with AUTOTUNE)
sometimes runs at about half speed for a whole epoch, so its rounds can differ by 2x; the
ratio against its fastest round is the conservative figure.

    python bench/bench_data_pipeline.py [--images 2000] [--source-size 375x500]
        [--image-size 128] [--batch-size 32] [--epochs 3] [--folder DIR]
        [--pattern photo|noisy] [--stream]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def make_folder(
    root: Path, n: int, size: tuple[int, int], classes: int, seed: int = 0, pattern: str = "photo"
) -> None:
    """``n`` JPEGs of about ``size`` (h, w), ±25 %, in ``classes`` class folders."""
    from tests.image_factory import class_pattern, photo_like

    draw = photo_like if pattern == "photo" else class_pattern
    rng = np.random.default_rng(seed)
    for i in range(n):
        label = i % classes
        h = int(size[0] * rng.uniform(0.75, 1.25))
        w = int(size[1] * rng.uniform(0.75, 1.25))
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        img = Image.fromarray(draw(label, (h, w), seed=i), "RGB")
        img.save(folder / f"{i:05d}.jpg", quality=90)


def warm_page_cache(root: Path) -> None:
    """Read every file once so neither pipeline pays for a cold disk."""
    for p in root.rglob("*.jpg"):
        p.read_bytes()


def time_epochs(make_ds, epochs: int) -> tuple[list[float], int]:
    """Seconds per epoch (epoch 1 includes ``make_ds()``) and images per epoch."""
    times = []
    t0 = time.perf_counter()
    ds = make_ds()
    count = 0
    for epoch in range(epochs):
        if epoch:
            t0 = time.perf_counter()
        count = 0
        for x, _ in ds:
            count += int(x.shape[0])
        times.append(time.perf_counter() - t0)
    return times, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--source-size", default="375x500", help="height x width of the JPEGs")
    parser.add_argument("--image-size", type=int, default=128, help="square target size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repeats (medians)")
    parser.add_argument("--folder", help="use (or create) this folder instead of a temp one")
    parser.add_argument(
        "--pattern", choices=("photo", "noisy"), default="photo", help="generated image content"
    )
    parser.add_argument(
        "--stream",
        action="store_true",
        help="cnntui with no cache budget: the check pass only probes, every epoch decodes",
    )
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from cnntui.core.data import load_data

    sh, sw = (int(v) for v in args.source_size.lower().split("x"))
    tmp = None
    if args.folder:
        root = Path(args.folder)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="cnntui-bench-"))
        root = tmp / "photos"
    if not root.exists():
        t = time.perf_counter()
        make_folder(root, args.images, (sh, sw), args.classes, pattern=args.pattern)
        print(f"generated {args.images} JPEGs in {time.perf_counter() - t:.1f}s")
    warm_page_cache(root)
    size = args.image_size
    bs = args.batch_size
    print(
        f"folder {root}: {args.images} JPEGs ~{sh}x{sw}, {args.classes} classes "
        f"({args.pattern if not args.folder else 'as found'}); "
        f"image size {size}x{size}x3, batch {bs}, {os.cpu_count()} CPUs, "
        f"tensorflow {tf.__version__}, keras {keras.__version__}"
    )

    def keras_ds():
        return keras.utils.image_dataset_from_directory(
            root, image_size=(size, size), batch_size=bs, shuffle=True, seed=0, verbose=False
        ).map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)

    def cnntui_ds():
        bundle = load_data(
            str(root), input_shape=(size, size, 3), batch_size=bs, val_split=0.0, seed=0,
            cache_budget_bytes=0 if args.stream else None,
        )  # fmt: skip
        print(f"  cnntui: cached={bundle.cached}, skipped={len(bundle.skipped)}")
        return bundle.train

    # Interleave the two so that load from other processes hits both alike; report medians.
    k_runs, c_runs = [], []
    for _ in range(args.rounds):
        k_times, k_n = time_epochs(keras_ds, args.epochs)
        c_times, c_n = time_epochs(cnntui_ds, args.epochs)
        assert k_n == c_n == args.images, (k_n, c_n)
        k_runs.append(k_times)
        c_runs.append(c_times)
    k_med = np.median(np.array(k_runs), axis=0)
    c_med = np.median(np.array(c_runs), axis=0)
    print(f"median of {args.rounds} interleaved rounds")
    print(f"{'epoch':>5} {'keras img/s':>12} {'cnntui img/s':>13} {'ratio':>6}")
    for e, (kt, ct) in enumerate(zip(k_med, c_med, strict=True), start=1):
        print(f"{e:>5} {k_n / kt:>12.0f} {c_n / ct:>13.0f} {kt / ct:>6.2f}")
    later = (
        f"; later epochs ({'streamed' if args.stream else 'cached'}): "
        f"{np.mean(k_med[1:]) / np.mean(c_med[1:]):.2f}"
        if args.epochs > 1
        else ""
    )
    print(
        f"ratio cnntui/keras, epoch 1 (incl. setup, check pass): {k_med[0] / c_med[0]:.2f}{later}"
    )
    k_first = [r[0] for r in k_runs]
    c_first = [r[0] for r in c_runs]
    print(
        "epoch 1 seconds per round: keras "
        + ", ".join(f"{t:.2f}" for t in k_first)
        + "; cnntui "
        + ", ".join(f"{t:.2f}" for t in c_first)
        + f"; against keras's fastest round: {min(k_first) / min(c_first):.2f}"
    )
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
