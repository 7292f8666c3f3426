"""How ``data doctor`` tells near duplicates from look-alikes (issue 14 §3), a probe.

The doctor finds candidates with a 64-bit perceptual hash and confirms them with the
correlation of the two 32x32 grey thumbnails (``cnntui.core.data.doctor.similarity``).
This probe prints both numbers for:

- every pair of *different* real MNIST digits (the bundled 5,000, upscaled to 64x64 PNGs)
  that the hash puts within ``--max-distance`` bits: false candidates, which the
  similarity threshold must reject;
- copies of one real photo (Grace Hopper's portrait, shipped by ``textual-image``):
  re-encoded, resized, brightened, cropped, flipped, which a leak check should find (all
  but the crops and the flip).

    python bench/probe_near_duplicates.py [--digits 5000] [--max-distance 6]
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

from cnntui.core.data.doctor import MIN_SIMILARITY, diagnose, similarity  # noqa: E402


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
        report = diagnose(root, max_distance=max_distance, min_similarity=0.0)
    alike = np.array([g["similarity"] for g in report["near_duplicates"]])
    exact = report["summary"]["exact_duplicates"]
    print(f"{n} MNIST digits ({exact} exact duplicates): {len(alike)} pairs within "
          f"{max_distance} hash bits")  # fmt: skip
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=5000)
    parser.add_argument("--max-distance", type=int, default=6)
    args = parser.parse_args()
    digit_pairs(args.digits, args.max_distance)
    photo_copies()


if __name__ == "__main__":
    main()
