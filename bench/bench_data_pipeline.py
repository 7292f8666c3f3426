"""Images per second: cnntui's folder pipeline vs ``keras.utils.image_dataset_from_directory``.

One bounded run (a few minutes), on one generated folder of photo-like JPEGs (~375x500,
``--pattern photo``; ``--pattern noisy`` for the older stripes-under-noise images), one image
size and batch size. Rounds alternate Keras and cnntui so load from other processes hits
both alike; every figure is the median of the rounds with its spread (min-max), and every
ratio is against Keras measured in the same run (>1: cnntui is faster).

- keras: ``image_dataset_from_directory`` (parallel TF decode, no cache) on the clean folder
  (it stops at the first bad file, so it cannot read the other one);
- cnntui: ``load_data`` on the same images with bad files mixed in (a hard-linked copy plus
  an empty, a text, a header-only and two truncated JPEGs): structural pass, epoch 1
  decodes once into the decoded-image disk cache (cleared before each round), later epochs
  read it; "second run" is a new ``load_data`` on the same folder, its epoch 1 from the cache.
  The memory budget is set to a third of the decoded size: the disk cache does not depend
  on it (note: on a machine with free RAM the OS page cache still holds the cache file, so
  this shows the pipeline's cost, not a disk's);
- epoch-start gap: the array pipeline on 54,000 28x28 images (the bundled digits tiled, as
  MNIST minus its validation tenth): seconds from the last batch of an epoch to the first
  of the next, against plain ``tf.data`` (``from_tensor_slices → shuffle → batch``), and the
  same inside ``model.fit`` of a tiny model (from ``on_epoch_end`` to the next batch);
- data doctor on the folder: wall seconds and CPU seconds.

    python bench/bench_data_pipeline.py [--images 2000] [--source-size 375x500]
        [--image-size 128] [--batch-size 32] [--epochs 3] [--rounds 3] [--folder DIR]
        [--pattern photo|noisy] [--skip-gap] [--skip-doctor]
"""

from __future__ import annotations

import argparse
import os
import resource
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


def with_bad_files(root: Path, dst: Path) -> int:
    """``dst``: hard links to every image of ``root`` plus bad files; returns how many."""
    from tests.image_factory import write_bad_files

    for p in root.rglob("*.jpg"):
        target = dst / p.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(p, target)
    classes = sorted(d for d in dst.iterdir() if d.is_dir())
    bad = write_bad_files(classes[0], ["truncated", "empty", "text", "header"])
    bad2 = write_bad_files(classes[-1], ["truncated"])
    return len(bad) + len(bad2)


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def epochs_of(ds, epochs: int, t0: float, c0: float) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds per pass over ``ds`` (the first from ``t0``/``c0``) and images
    in the last pass."""
    times, cpus, count = [], [], 0
    for epoch in range(epochs):
        if epoch:
            t0, c0 = time.perf_counter(), cpu()
        count = 0
        for x, _ in ds:
            count += int(x.shape[0])
        times.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return times, cpus, count


def med(values) -> str:
    v = np.asarray(values, float)
    return f"{np.median(v):8.2f} ({v.min():.2f}-{v.max():.2f})"


def ratio(keras_s, cnntui_s) -> str:
    r = np.asarray(keras_s, float) / np.asarray(cnntui_s, float)
    return f"{np.median(r):5.2f}x ({r.min():.2f}-{r.max():.2f})"


def folder_rounds(args, root: Path, bad_root: Path, n_images: int) -> None:
    import keras
    import tensorflow as tf

    from cnntui.core.data import load_data
    from cnntui.core.data.cache import clear_entries

    size, bs = args.image_size, args.batch_size
    budget = n_images * size * size * 3 // 3

    def keras_ds():
        return keras.utils.image_dataset_from_directory(
            root, image_size=(size, size), batch_size=bs, shuffle=True, seed=0, verbose=False
        ).map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)

    def cnntui_bundle():
        return load_data(
            str(bad_root), input_shape=(size, size, 3), batch_size=bs, val_split=0.0, seed=0,
            cache_budget_bytes=budget,
        )  # fmt: skip

    rows: dict[str, list] = {k: [] for k in ("k", "c", "c2", "kcpu", "ccpu", "c2cpu")}
    for r in range(args.rounds):
        t0, c0 = time.perf_counter(), cpu()
        k_times, k_cpu, k_n = epochs_of(keras_ds(), args.epochs, t0, c0)
        clear_entries()
        t0, c0 = time.perf_counter(), cpu()
        bundle = cnntui_bundle()
        c_times, c_cpu, c_n = epochs_of(bundle.train, args.epochs, t0, c0)
        t0, c0 = time.perf_counter(), cpu()
        again = cnntui_bundle()
        c2_times, c2_cpu, _ = epochs_of(again.train, 1, t0, c0)
        assert k_n == c_n == n_images, (k_n, c_n, n_images)
        if r == 0:
            reused = again.cache and again.cache["reused"]
            print(f"  cnntui: {len(bundle.skipped)} files skipped (all named); "
                  f"{reused} rows reused by the second run")  # fmt: skip
        for key, val in (("k", k_times), ("c", c_times), ("c2", c2_times[0]), ("kcpu", k_cpu),
                         ("ccpu", c_cpu), ("c2cpu", c2_cpu[0])):  # fmt: skip
            rows[key].append(val)
    k, c = np.array(rows["k"]), np.array(rows["c"])
    kc, cc = np.array(rows["kcpu"]), np.array(rows["ccpu"])
    print(f"\nfolder: seconds per epoch, median (min-max) of {args.rounds} rounds")
    print(f"{'epoch':>14} {'keras s':>20} {'cnntui s':>20} {'ratio':>20}   "
          f"{'keras CPU s':>20} {'cnntui CPU s':>20} {'CPU ratio':>20}")  # fmt: skip
    for e in range(args.epochs):
        label = "1 (incl setup)" if e == 0 else f"{e + 1} (cached)"
        print(f"{label:>14} {med(k[:, e])} {med(c[:, e])}   {ratio(k[:, e], c[:, e])}   "
              f"{med(kc[:, e])} {med(cc[:, e])}   {ratio(kc[:, e], cc[:, e])}")  # fmt: skip
    c2, c2c = rows["c2"], rows["c2cpu"]
    print(f"{'2nd run, ep 1':>14} {med(k[:, 0])} {med(c2)}   {ratio(k[:, 0], c2)}   "
          f"{med(kc[:, 0])} {med(c2c)}   {ratio(kc[:, 0], c2c)}")  # fmt: skip
    if args.epochs > 1:
        later = ratio(k[:, 1:].mean(1), c[:, 1:].mean(1))
        later_cpu = ratio(kc[:, 1:].mean(1), cc[:, 1:].mean(1))
        print(f"later epochs (cached) vs keras streaming: {later}, CPU {later_cpu}")
    print(f"epoch 1 (incl. structural pass, bad files): {ratio(k[:, 0], c[:, 0])}, "
          f"CPU {ratio(kc[:, 0], cc[:, 0])}")  # fmt: skip
    print(f"(decoded size {n_images * size * size * 3 / 2**20:.0f} MiB, memory budget "
          f"{budget / 2**20:.0f} MiB; the disk cache does not use the budget)")  # fmt: skip


class GapTimer:
    """Keras callback: seconds from each ``on_epoch_end`` to the next epoch's first batch."""

    def __init__(self):
        import keras

        outer = self
        self.gaps: list[float] = []
        self.batch: list[float] = []

        class CB(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                outer._end = time.perf_counter()

            def on_train_batch_begin(self, batch, logs=None):
                now = time.perf_counter()
                if batch == 0 and hasattr(outer, "_end"):
                    outer.gaps.append(now - outer._end)
                elif batch == 10:
                    outer._b10 = now
                elif batch == 60:
                    outer.batch.append((now - outer._b10) / 50)

        self.callback = CB()


def gap_rounds(args) -> None:
    import keras
    import tensorflow as tf

    from cnntui.core.data.bundle import load_arrays, sample_path
    from cnntui.core.data.contract import DataOptions

    with np.load(sample_path()) as d:
        x, y = d["x"], d["y"]
    reps = -(-60_000 // len(x))
    x, y = np.tile(x, (reps, 1, 1))[:60_000], np.tile(y, reps)[:60_000]
    opts = DataOptions(batch_size=128, val_split=0.1, seed=0)
    bundle = load_arrays("digits x12", x, y, [str(i) for i in range(10)], opts)
    n = bundle.counts["train"]
    xs = (x[:n, :, :, None] / 255.0).astype("float32")
    plain = tf.data.Dataset.from_tensor_slices((xs, y[:n].astype("int32")))
    plain = plain.shuffle(n, seed=0, reshuffle_each_iteration=True).batch(128).prefetch(2)

    def pass_gaps(ds, epochs=3) -> list[float]:
        gaps = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            it = iter(ds)
            next(it)
            gaps.append(time.perf_counter() - t0)
            for _ in it:
                pass
        return gaps[1:]

    k_gap, c_gap = [], []
    for _ in range(args.rounds):
        k_gap += pass_gaps(plain)
        c_gap += pass_gaps(bundle.train)
    print(f"\nepoch-start gap, {n:,} in-memory 28x28 images, batch 128 (seconds to the first "
          f"batch of epochs 2-3; median (min-max))")  # fmt: skip
    print(f"  iterating: plain tf.data {med(k_gap)}   cnntui {med(c_gap)}")
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.Flatten(), keras.layers.Dense(10),
    ])  # fmt: skip
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    fit_gaps = {}
    for name, ds in (("plain tf.data", plain), ("cnntui", bundle.train)):
        timer = GapTimer()
        model.fit(ds.take(200), validation_data=bundle.val.take(20), epochs=3, verbose=0,
                  callbacks=[timer.callback])  # fmt: skip
        fit_gaps[name] = (timer.gaps, timer.batch)
    line = "   ".join(
        f"{k} gap {med(g)} (a batch {np.median(b):.3f})" for k, (g, b) in fit_gaps.items()
    )
    print(f"  in model.fit (200 steps/epoch + validation): {line}")


def doctor_rounds(args, root: Path) -> None:
    from cnntui.core.data.doctor import diagnose

    walls, cpus = [], []
    for _ in range(args.rounds):
        t0, c0 = time.perf_counter(), cpu()
        report = diagnose(root)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    print(f"\ndata doctor on {report['images']} photos: wall {med(walls)} s, CPU {med(cpus)} s "
          f"(target < 20 s wall on 2 cores); found {report['summary']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--classes", type=int, default=4)
    parser.add_argument("--source-size", default="375x500", help="height x width of the JPEGs")
    parser.add_argument("--image-size", type=int, default=128, help="square target size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="alternating repeats (medians)")
    parser.add_argument("--folder", help="use (or create) this folder instead of a temp one")
    parser.add_argument("--pattern", choices=("photo", "noisy"), default="photo")
    parser.add_argument("--skip-gap", action="store_true", help="no epoch-start gap lines")
    parser.add_argument("--skip-doctor", action="store_true", help="no data doctor line")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cnntui-bench-"))
    os.environ["CNNTUI_CACHE_DIR"] = str(tmp / "cache")  # never the user's cache
    import keras
    import tensorflow as tf

    sh, sw = (int(v) for v in args.source_size.lower().split("x"))
    root = Path(args.folder) if args.folder else tmp / "photos"
    if not root.exists():
        t = time.perf_counter()
        make_folder(root, args.images, (sh, sw), args.classes, pattern=args.pattern)
        print(f"generated {args.images} JPEGs in {time.perf_counter() - t:.1f}s")
    n_images = sum(1 for _ in root.rglob("*.jpg"))
    bad_root = tmp / "with-bad-files"
    n_bad = with_bad_files(root, bad_root)
    warm_page_cache(root)
    print(
        f"folder {root}: {n_images} JPEGs ~{sh}x{sw} (+{n_bad} bad files for cnntui), "
        f"image size {args.image_size}x{args.image_size}x3, batch {args.batch_size}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
        f"tensorflow {tf.__version__}, keras {keras.__version__}"
    )
    try:
        folder_rounds(args, root, bad_root, n_images)
        if not args.skip_doctor:
            doctor_rounds(args, root)
        if not args.skip_gap:
            gap_rounds(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
