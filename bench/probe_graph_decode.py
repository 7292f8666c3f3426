"""The ceiling of an all-TensorFlow epoch 1 (issue 14 §5), a probe, not a cnntui pipeline.

cnntui decodes a folder's epoch 1 with Pillow (reduce-on-load JPEG decode, box resize) so
training and prediction get the same pixels; on 2 cores that reaches about 0.65x
``image_dataset_from_directory`` on ~375x500 photos (``bench_data_pipeline.py``). This
probe measures how far the fastest TensorFlow-only decode would get, with no Python per
file: ``decode_jpeg`` at the DCT scale Pillow's draft picks (1/2 here, accurate integer
DCT), then ``tf.image.resize(method="area")`` to 128x128, rounded to uint8, batched, the
batch written into a numpy array as the decoded-image cache would be. Its pixels are not
Pillow's (TensorFlow's area filter rounds once, Pillow's box filter after each pass), so
adopting it would change every folder-trained model's input. Printed: Keras's epoch, the
probe's epoch, and cnntui's one-thread structural pass (``check_files`` headers), which
the probe would still need before training; medians (min-max) of alternating rounds.

    python bench/probe_graph_decode.py [--images 2000] [--rounds 5] [--folder DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from bench_data_pipeline import cpu  # noqa: E402

SIZE = 128


def timed(make) -> tuple[float, float]:
    """Wall and CPU seconds of one pass over ``make()`` (building it included)."""
    t, c = time.perf_counter(), cpu()
    for _ in make():
        pass
    return time.perf_counter() - t, cpu() - c


def med(values) -> str:
    v = np.asarray(values, float)
    return f"{np.median(v):.3f} ({v.min():.3f}-{v.max():.3f})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--folder", help="use (or create) this folder instead of a temp one")
    a = p.parse_args()
    from bench_data_pipeline import make_folder, warm_page_cache

    tmp = tempfile.TemporaryDirectory(prefix="cnntui-probe-")
    root = Path(a.folder or tmp.name)
    if not any(root.rglob("*.jpg")):
        make_folder(root, a.images, (375, 500), 4)
    warm_page_cache(root)
    import keras
    import tensorflow as tf

    from cnntui.core.data.check import check_files
    from cnntui.core.fastjpeg import draft_scale

    files = sorted(str(f) for f in root.rglob("*.jpg"))
    labels = np.arange(len(files)) % 4
    items = [(f, 0, "train") for f in files]
    workers = min(16, os.cpu_count() or 1)  # one decode per core, as cnntui's pipeline

    def keras_ds():
        return keras.utils.image_dataset_from_directory(
            root, image_size=(SIZE, SIZE), batch_size=32, shuffle=True, seed=0, verbose=False
        ).map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)

    checks = check_files(items, workers=1)
    scales = [(8, 4, 2, 1).index(draft_scale(c.width, c.height, SIZE)) for c in checks]
    store = np.empty((len(files), SIZE, SIZE, 3), np.uint8)
    paths_t, scales_t = tf.constant(files), tf.constant(scales, tf.int32)

    def decode(row):
        data = tf.io.read_file(tf.gather(paths_t, row))
        branches = [
            lambda r=r: tf.io.decode_jpeg(data, 3, ratio=r, dct_method="INTEGER_ACCURATE")
            for r in (8, 4, 2, 1)
        ]
        img = tf.switch_case(tf.gather(scales_t, row), branches)
        img = tf.image.resize(img, (SIZE, SIZE), method="area")
        return row, tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)

    def keep(rows, x):
        store[rows] = x  # the cache row, as cnntui's store writes it
        return x, labels[rows]

    def to_batch(rows, x):
        xb, yb = tf.numpy_function(keep, [rows, x], [tf.uint8, tf.int64], stateful=True)
        xb.set_shape((None, SIZE, SIZE, 3))
        return tf.cast(xb, tf.float32) / 255.0, yb

    def probe_ds():
        ds = tf.data.Dataset.range(len(files)).shuffle(len(files), seed=0)
        ds = ds.map(decode, num_parallel_calls=workers).ignore_errors().batch(32)
        return ds.map(to_batch, num_parallel_calls=workers).prefetch(2)

    timed(keras_ds), timed(probe_ds)  # warm both (graph tracing, thread pools)
    rows: dict[str, list] = {"keras": [], "probe": [], "check": []}
    for _ in range(a.rounds):
        rows["keras"].append(timed(keras_ds))
        rows["probe"].append(timed(probe_ds))
        t, c = time.perf_counter(), cpu()
        check_files(items, workers=1)
        rows["check"].append((time.perf_counter() - t, cpu() - c))
    k, g, s = (np.asarray(rows[n]) for n in ("keras", "probe", "check"))
    print(f"{len(files)} photos, {SIZE}x{SIZE}, batch 32, {a.rounds} alternating rounds")
    print(f"  keras epoch            wall {med(k[:, 0])} s   CPU {med(k[:, 1])} s")
    print(f"  graph-decode probe     wall {med(g[:, 0])} s   CPU {med(g[:, 1])} s")
    print(f"  structural pass (1 thread) wall {med(s[:, 0])} s   CPU {med(s[:, 1])} s")
    both = g + s
    print(f"  keras / probe          wall {med(k[:, 0] / g[:, 0])}   CPU {med(k[:, 1] / g[:, 1])}")
    print(
        f"  keras / (probe + pass) wall {med(k[:, 0] / both[:, 0])}   "
        f"CPU {med(k[:, 1] / both[:, 1])}   (issue 14's goal: 1.0; setup not counted)"
    )


if __name__ == "__main__":
    main()
