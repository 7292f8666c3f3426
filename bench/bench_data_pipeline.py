"""Images per second: cnntui's folder pipeline vs ``keras.utils.image_dataset_from_directory``.

One bounded run (about 3 minutes on a quiet 2-core machine with the defaults; it prints its
own runtime), on one generated folder of photo-like JPEGs (~375x500, ``--pattern photo``;
``--pattern noisy`` for the older stripes-under-noise images), one image size and batch
size. Rounds alternate Keras and cnntui so load from other processes hits both alike; every
figure is the median of the rounds with its spread (min-max), and every ratio is against
Keras measured in the same run (>1: cnntui is faster), in wall and in CPU seconds.

- keras: ``image_dataset_from_directory`` (parallel TF decode, no cache) on the clean folder
  (it stops at the first bad file, so it cannot read the other one); every epoch streams;
- cnntui: ``load_data`` on the same images with bad files mixed in (a hard-linked copy plus
  an empty, a text, a header-only and two truncated JPEGs): structural pass, epoch 1
  decodes once into the decoded-image disk cache (cleared before each round), later epochs
  read it with the cache file in the OS page cache ("cached");
- over RAM: the memory budget is a third of the decoded size, so the pixels go to the disk
  cache, and before the measured epoch the cache file is dropped from memory (unmapped and
  evicted from the page cache, its resident share printed), as when the decoded images do
  not fit RAM: one more epoch of the same run against Keras's streaming epochs, and epoch 1
  of a second run (a new ``load_data`` on the same folder, reading the cache from disk);
- epoch 1's cost per image, stage by stage (CPU ms on a sample of the photos, one thread):
  header check (the structural pass), Pillow open + reduce-on-load decode, area resize and
  array, the whole ``load_image_uint8``; against the per-image CPU of each pipeline's epoch 1;
- epoch-start gap (issue 14 section 4): the array pipeline on 54,000 28x28 images (the
  bundled digits tiled, as MNIST minus its validation tenth): seconds from the last batch
  of an epoch to the first of the next, against plain ``tf.data`` (``from_tensor_slices →
  shuffle → batch``, the pipeline of the run that stalled), and the same inside
  ``model.fit`` of a tiny model (from ``on_epoch_end`` to the next batch);
- data doctor on the folder: wall seconds and CPU seconds.

    python bench/bench_data_pipeline.py [--images 2000] [--source-size 375x500]
        [--image-size 128] [--batch-size 32] [--epochs 3] [--rounds 3] [--folder DIR]
        [--pattern photo|noisy] [--skip-gap] [--skip-doctor] [--skip-profile]
        [--jpeg-decoder auto|pillow]
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


def decoder() -> str:
    """cnntui's JPEG decoder: Pillow, or simplejpeg when installed (the same pixels)."""
    import PIL.features

    from cnntui.core import fastjpeg

    turbo = PIL.features.version("libjpeg_turbo")
    name = fastjpeg.decoder_name()
    return f"{name} (Pillow's libjpeg-turbo {turbo})" if name == "pillow" else name


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


def drop_from_memory(store) -> float:
    """Unmap the store's cache file and evict it from the OS page cache, as when it does not
    fit RAM; return the share of it still resident (NaN where that cannot be read)."""
    import mmap

    pixels = store.pixels
    if not isinstance(pixels, np.memmap):
        raise SystemExit("over-RAM rounds need the disk cache (CNNTUI_CACHE_DIR is off?)")
    pixels.flush()
    if hasattr(mmap, "MADV_DONTNEED"):
        pixels._mmap.madvise(mmap.MADV_DONTNEED)  # this process's pages of it, unmapped
    fd = os.open(store.folder / "pixels.u8", os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return resident_share(fd)
    finally:
        os.close(fd)


def resident_share(fd: int) -> float:
    """Share of the file's pages in the page cache (``mincore``), NaN if unknown."""
    import ctypes
    import mmap

    size = os.fstat(fd).st_size
    if not size:
        return float("nan")
    mm = mmap.mmap(fd, size, access=mmap.ACCESS_COPY)  # maps, reads nothing
    try:
        pages = -(-size // mmap.PAGESIZE)
        vec = (ctypes.c_ubyte * pages)()
        anchor = ctypes.c_char.from_buffer(mm)
        try:
            rc = ctypes.CDLL(None).mincore(
                ctypes.c_void_p(ctypes.addressof(anchor)), ctypes.c_size_t(size), vec
            )
        finally:
            del anchor
        return float("nan") if rc else sum(v & 1 for v in vec) / pages
    except (OSError, AttributeError):
        return float("nan")
    finally:
        mm.close()


def goal(name: str, keras_s, cnntui_s, keras_cpu, cnntui_cpu, target: float) -> None:
    print(f"  {name:<52} {ratio(keras_s, cnntui_s)}, CPU {ratio(keras_cpu, cnntui_cpu)}"
          f"   (goal >= {target:g}x)")  # fmt: skip


def folder_rounds(args, root: Path, bad_root: Path, n_images: int) -> dict[str, np.ndarray]:
    """Alternating Keras / cnntui rounds; prints the table and the goal lines and returns
    the epoch-1 CPU seconds of both (for the per-image profile)."""
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

    keys = ("k", "c", "cold", "c2", "kcpu", "ccpu", "coldcpu", "c2cpu", "resident")
    rows: dict[str, list] = {k: [] for k in keys}
    for r in range(args.rounds):
        t0, c0 = time.perf_counter(), cpu()
        k_times, k_cpu, k_n = epochs_of(keras_ds(), args.epochs, t0, c0)
        clear_entries()
        t0, c0 = time.perf_counter(), cpu()
        bundle = cnntui_bundle()
        c_times, c_cpu, c_n = epochs_of(bundle.train, args.epochs, t0, c0)
        resident = [drop_from_memory(bundle.store)]
        t0, c0 = time.perf_counter(), cpu()
        cold_times, cold_cpu, cold_n = epochs_of(bundle.train, 1, t0, c0)
        resident.append(drop_from_memory(bundle.store))
        t0, c0 = time.perf_counter(), cpu()
        again = cnntui_bundle()
        c2_times, c2_cpu, c2_n = epochs_of(again.train, 1, t0, c0)
        assert k_n == c_n == cold_n == c2_n == n_images, (k_n, c_n, cold_n, c2_n, n_images)
        if r == 0:
            reused = again.cache and again.cache["reused"]
            print(f"  cnntui: {len(bundle.skipped)} files skipped (all named); "
                  f"{reused} rows reused by the second run")  # fmt: skip
        for key, val in (("k", k_times), ("c", c_times), ("cold", cold_times[0]),
                         ("c2", c2_times[0]), ("kcpu", k_cpu), ("ccpu", c_cpu),
                         ("coldcpu", cold_cpu[0]), ("c2cpu", c2_cpu[0])):  # fmt: skip
            rows[key].append(val)
        rows["resident"] += resident
        del bundle, again
    k, c = np.array(rows["k"]), np.array(rows["c"])
    kc, cc = np.array(rows["kcpu"]), np.array(rows["ccpu"])
    print(f"\nfolder: seconds per epoch, median (min-max) of {args.rounds} rounds")
    print(f"{'epoch':>16} {'keras s':>20} {'cnntui s':>20} {'ratio':>20}   "
          f"{'keras CPU s':>20} {'cnntui CPU s':>20} {'CPU ratio':>20}")  # fmt: skip
    k_later = k[:, 1:].mean(1) if args.epochs > 1 else k[:, 0]
    kc_later = kc[:, 1:].mean(1) if args.epochs > 1 else kc[:, 0]
    table = [("1 (incl setup)", k[:, 0], c[:, 0], kc[:, 0], cc[:, 0])]
    table += [(f"{e + 1} (cached)", k[:, e], c[:, e], kc[:, e], cc[:, e])
              for e in range(1, args.epochs)]  # fmt: skip
    table += [
        ("over RAM, later", k_later, rows["cold"], kc_later, rows["coldcpu"]),
        ("over RAM, run 2", k[:, 0], rows["c2"], kc[:, 0], rows["c2cpu"]),
    ]
    for label, ks, cs, kcs, ccs in table:
        print(f"{label:>16} {med(ks)} {med(cs)}   {ratio(ks, cs)}   "
              f"{med(kcs)} {med(ccs)}   {ratio(kcs, ccs)}")  # fmt: skip
    res = np.asarray(rows["resident"], float)
    res_txt = "n/a" if np.isnan(res).all() else f"{np.nanmax(res):.0%} at most"
    print(f"(decoded size {n_images * size * size * 3 / 2**20:.0f} MiB = 3x the memory budget "
          f"of {budget / 2**20:.0f} MiB; 'over RAM' epochs start with the cache file dropped "
          f"from memory: resident {res_txt}; keras streams every epoch)")  # fmt: skip
    print("\ngoals (keras / cnntui, median (min-max) over the rounds):")
    goal("epoch 1, structural pass and bad files included", k[:, 0], c[:, 0], kc[:, 0],
         cc[:, 0], 1.0)  # fmt: skip
    if args.epochs > 1:
        goal("cached epochs", k[:, 1:].mean(1), c[:, 1:].mean(1), kc[:, 1:].mean(1),
             cc[:, 1:].mean(1), 8.0)  # fmt: skip
    goal("over RAM: later epoch vs keras streaming", k_later, rows["cold"], kc_later,
         rows["coldcpu"], 4.0)  # fmt: skip
    goal("over RAM: epoch 1 of a second run", k[:, 0], rows["c2"], kc[:, 0], rows["c2cpu"],
         4.0)  # fmt: skip
    return {"keras": kc[:, 0] / n_images, "cnntui": cc[:, 0] / n_images}


def profile_epoch1(args, root: Path, per_image: dict[str, np.ndarray] | None) -> None:
    """Epoch 1's CPU per image, stage by stage, on a sample of the photos (one thread)."""
    from cnntui.core import fastjpeg
    from cnntui.core.images import (
        MAX_PIXELS,
        Preprocessing,
        check_header,
        load_image_uint8,
        resize,
    )  # fmt: skip

    pre = Preprocessing((args.image_size, args.image_size), "rgb")
    paths = sorted(root.rglob("*.jpg"))[: args.profile_images]

    def decoded(p):
        with Image.open(p) as img:
            img.draft(None, (max(pre.image_size),) * 2)
            img.load()
            return img

    def boxed(p):
        return np.asarray(resize(decoded(p), pre.image_size), np.uint8)

    stages = {
        "header check (structural pass)": check_header,
        "Pillow open + reduce-on-load decode": decoded,
        "  + area resize + array": boxed,
        "simplejpeg decode (the fast path, if on)": lambda p: fastjpeg.decode(
            p, max(pre.image_size), MAX_PIXELS
        ),
        "load_image_uint8 (the whole decode)": lambda p: load_image_uint8(p, pre),
    }
    if fastjpeg.decoder_name() == "pillow":
        del stages["simplejpeg decode (the fast path, if on)"]
    ms: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(max(3, args.rounds)):
        for name, fn in stages.items():  # alternating, so load hits each stage alike
            c0 = time.process_time()
            for p in paths:
                fn(p)
            ms[name].append((time.process_time() - c0) / len(paths) * 1000)
    print(f"\nepoch 1, CPU ms per image on {len(paths)} of the photos (one thread, median "
          f"(min-max) of {max(3, args.rounds)} repeats; JPEG decoder "
          f"{fastjpeg.decoder_name()}):")  # fmt: skip
    for name, v in ms.items():
        print(f"  {name:<42} {med(v)}")
    if per_image:
        k, c = per_image["keras"] * 1000, per_image["cnntui"] * 1000
        print(f"  {'keras epoch 1, per image (all threads)':<42} {med(k)}")
        print(f"  {'cnntui epoch 1, per image (all threads)':<42} {med(c)}")
        rest = (
            c
            - np.median(ms["header check (structural pass)"])
            - np.median(ms["load_image_uint8 (the whole decode)"])
        )
        print(f"  {'  of which not header check nor decode':<42} {med(rest)}"
              "  (tf.data, cache writes, threads, setup)")  # fmt: skip


def structural_rounds(args, bad_root: Path) -> None:
    """The structural pass over the whole folder (bad files included): as training runs it
    (one thread unless the reads wait on the disk) against one thread per core."""
    from cnntui.core.data.check import check_files, default_threads

    items = [(str(p), 0, "train") for p in sorted(bad_root.rglob("*")) if p.is_file()]
    threads = max(2, default_threads())
    rows: dict[str, list[tuple[float, float]]] = {"as training runs it": [],
                                                  f"{threads} threads": []}  # fmt: skip
    for _ in range(max(3, args.rounds)):
        for name, workers in (("as training runs it", None), (f"{threads} threads", threads)):
            t0, c0 = time.perf_counter(), cpu()
            check_files(items, workers=workers)
            rows[name].append((time.perf_counter() - t0, cpu() - c0))
    print(f"\nstructural pass over {len(items)} files, median (min-max) of "
          f"{max(3, args.rounds)} alternating rounds:")  # fmt: skip

    def ms(values) -> str:
        v = np.asarray(values) * 1000
        return f"{np.median(v):.0f} ({v.min():.0f}-{v.max():.0f})"

    for name, v in rows.items():
        wall, cpu_s = zip(*v, strict=True)
        print(f"  {name:<22} wall {ms(wall)} ms, CPU {ms(cpu_s)} ms")


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
    parser.add_argument("--skip-profile", action="store_true", help="no per-stage epoch-1 cost")
    parser.add_argument("--profile-images", type=int, default=200, help="photos profiled")
    parser.add_argument("--jpeg-decoder", choices=("auto", "pillow"), default="auto",
                        help="pillow: turn the optional simplejpeg fast path off")  # fmt: skip
    args = parser.parse_args()
    if args.jpeg_decoder == "pillow":
        os.environ["CNNTUI_JPEG_DECODER"] = "pillow"

    started = time.perf_counter()
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
        f"tensorflow {tf.__version__}, keras {keras.__version__}, JPEG decoder {decoder()}"
    )
    try:
        per_image = folder_rounds(args, root, bad_root, n_images)
        if not args.skip_profile:
            profile_epoch1(args, root, per_image)
            structural_rounds(args, bad_root)
        if not args.skip_doctor:
            doctor_rounds(args, root)
        if not args.skip_gap:
            gap_rounds(args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nruntime {time.perf_counter() - started:.0f} s, load average now "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
