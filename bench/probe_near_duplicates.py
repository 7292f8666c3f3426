"""How ``data doctor`` tells near duplicates from look-alikes (issue 14 §3), a probe.

The doctor finds candidates with a 64-bit perceptual hash and confirms them with the
correlation of the two 32x32 grey thumbnails (``cnntui.core.data.doctor.similarity``).
This probe prints both numbers for:

- every pair of *different* real MNIST digits (the bundled 5,000, upscaled to 64x64 PNGs)
  that the hash puts within ``--max-distance`` bits: false candidates, which the
  similarity threshold must reject;
- copies of one real photo (Grace Hopper's portrait, shipped by ``textual-image``):
  re-encoded, resized, brightened, cropped, flipped, which a leak check should find (all
  but the crops and the flip);
- a folder of ``--lookalikes`` near-identical pictures (one digit with a little noise,
  as frames of a still camera): the doctor's time and peak memory, and the one group it
  reports, whose links grow with the pictures, not with their pairs.

    python bench/probe_near_duplicates.py [--digits 5000] [--max-distance 6] [--lookalikes 3000]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from cnntui.core.data.doctor import (  # noqa: E402
    MIN_SIMILARITY,
    diagnose,
    pair_similarities,
    similarity,
    thumb_stats,
)


def digit_pairs(n: int, max_distance: int) -> None:
    """Hash candidates among ``n`` different MNIST digits and their similarities."""
    with np.load(Path(__file__).resolve().parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        x, y = d["x"][:n], d["y"][:n]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i, (digit, label) in enumerate(zip(x, y, strict=True)):
            path = root / f"digit_{label}" / f"{i:05d}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(digit).resize((64, 64), Image.Resampling.BILINEAR).save(path)
        report = diagnose(root, max_distance=max_distance)
    probes = [p for p in report["_probes"] if not p.reason]
    hashes = np.array([p.phash for p in probes], np.uint64)
    thumbs = np.stack([p.thumb.ravel() for p in probes])
    ii, jj = [], []
    for start in range(0, len(hashes), 512):  # every hash candidate, as the doctor finds them
        dist = np.bitwise_count(hashes[start : start + 512, None] ^ hashes[None, :])
        i, j = np.nonzero(dist <= max_distance)
        keep = i + start < j
        ii.append(i[keep] + start)
        jj.append(j[keep])
    ii, jj = np.concatenate(ii), np.concatenate(jj)
    alike = pair_similarities(thumbs, *thumb_stats(thumbs), ii, jj)
    exact = report["summary"]["exact_duplicates"]
    print(f"{n} MNIST digits ({exact} exact duplicates): {len(alike)} pairs within "
          f"{max_distance} hash bits; the doctor reports "
          f"{report['summary']['near_duplicates']} near duplicates")  # fmt: skip
    if len(alike):
        q = np.quantile(alike, [0.5, 0.9, 0.99, 1.0])
        print(f"  their similarity: median {q[0]:.4f}, 90% {q[1]:.4f}, 99% {q[2]:.4f}, "
              f"max {q[3]:.4f}; confirmed at >= {MIN_SIMILARITY}: "
              f"{int((alike >= MIN_SIMILARITY).sum())}")  # fmt: skip


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue()))


def photo_copies() -> None:
    """Distance and similarity of edited copies of one real photo."""
    import imagehash

    try:
        import textual_image
    except ImportError:
        print("textual-image not installed: no photo copies")
        return
    src = Path(textual_image.__file__).parent / "gracehopper.jpg"
    photo = Image.open(src).convert("RGB")
    w, h = photo.size
    copies = {
        "JPEG quality 30": _jpeg(photo, 30),
        "resized by 10 %, quality 70": _jpeg(photo.resize((w * 9 // 10, h * 9 // 10)), 70),
        "half size": photo.resize((w // 2, h // 2)),
        "grey": photo.convert("L").convert("RGB"),
        "15 % brighter": ImageEnhance.Brightness(photo).enhance(1.15),
        "20 % less contrast": ImageEnhance.Contrast(photo).enhance(0.8),
        "cropped 2.5 % a side": photo.crop((w // 40, h // 40, w - w // 40, h - h // 40)),
        "cropped 5 % a side": photo.crop((w // 20, h // 20, w - w // 20, h - h // 20)),
        "mirrored": photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    }

    def thumb(img: Image.Image) -> Image.Image:
        return img.convert("L").resize((32, 32), Image.Resampling.LANCZOS)

    base = thumb(photo)
    print(f"copies of {src.name} ({w}x{h}): hash distance, similarity")
    for name, img in copies.items():
        t = thumb(img)
        dist = imagehash.phash(base) - imagehash.phash(t)
        alike = similarity(np.asarray(base), np.asarray(t))
        found = "found" if alike >= MIN_SIMILARITY else "not found"
        print(f"  {name:<28} {dist:>3}  {alike:.4f}  {found}")


def lookalikes(n: int) -> None:
    """The doctor on ``n`` near-identical pictures in two classes."""
    import resource
    import time

    with np.load(Path(__file__).resolve().parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        digit = np.asarray(Image.fromarray(d["x"][0]).resize((64, 64)), np.int16)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for i in range(n):
            noisy = np.clip(digit + rng.integers(-2, 3, digit.shape), 0, 255).astype(np.uint8)
            path = root / "ab"[i % 2] / f"{i:05d}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(noisy).save(path)
        t0 = time.perf_counter()
        report = diagnose(root)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    groups = report["near_duplicates"]
    print(f"{n} look-alike pictures: data doctor {wall:.1f} s, peak memory of this process "
          f"{peak:.0f} MiB; {len(groups)} group(s) of {[len(g['files']) for g in groups]} "
          f"pictures, {sum(len(g['pairs']) for g in groups)} links listed "
          f"(of {n * (n - 1) // 2:,} pairs)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=5000)
    parser.add_argument("--max-distance", type=int, default=6)
    parser.add_argument("--lookalikes", type=int, default=3000)
    args = parser.parse_args()
    lookalikes(args.lookalikes)  # first: the peak memory is this process's
    digit_pairs(args.digits, args.max_distance)
    photo_copies()


if __name__ == "__main__":
    main()
