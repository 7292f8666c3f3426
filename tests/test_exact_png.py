"""TensorFlow decodes only the PNGs where it gives Pillow's very pixels, and nothing changes
for the others: prediction's ``tf.data`` path against :func:`load_image_uint8`, byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from image_factory import write_bad_files, write_image
from PIL import Image, PngImagePlugin

from cnntui.core.exact_png import decodes_exactly
from cnntui.core.images import ImageReadError, Preprocessing, load_image_uint8
from cnntui.core.inference.batches import decoded_batches, tf_png_batches

GRAY = Preprocessing(image_size=(28, 28), color_mode="grayscale")
RGB = Preprocessing(image_size=(28, 28), color_mode="rgb")


def _digit(digits, i: int = 0) -> Image.Image:
    return Image.fromarray(digits[0][i], "L")


def _variants(digits, folder: Path) -> dict[str, Path]:
    """PNGs that differ from a plain 28x28 one in one way each."""
    folder.mkdir(parents=True, exist_ok=True)
    img = _digit(digits)
    out: dict[str, Path] = {}

    def save(name: str, im: Image.Image, **kw) -> None:
        out[name] = folder / f"{name}.png"
        im.save(out[name], **kw)

    save("gray", img)
    save("rgb", img.convert("RGB"))
    save("gray_optimized", img, optimize=True)
    save("wrong_size", img.resize((30, 28)))
    save("rgba", img.convert("RGBA"))
    save("palette", img.convert("P"))
    save("sixteen", Image.fromarray(digits[0][0].astype(np.uint16) * 257))
    save("transparent", img, transparency=0)
    exif = Image.Exif()
    exif[0x0112] = 6
    save("exif", img, exif=exif)
    raw = PngImagePlugin.PngInfo()
    raw.add_text("Raw profile type exif", "exif\n  10\n45786966000049492a00")
    save("text_exif", img, pnginfo=raw)
    note = PngImagePlugin.PngInfo()
    note.add_text("Comment", "a plain note")
    save("text_note", img, pnginfo=note)
    good = out["gray"].read_bytes()
    out["truncated"] = folder / "truncated.png"
    out["truncated"].write_bytes(good[: len(good) - 20])
    out["jpeg"] = write_image(folder / "photo.jpg", "rgb", (28, 28))
    return out


def test_only_plain_pngs_at_the_model_size_are_decoded_by_tensorflow(digits, tmp_path):
    files = _variants(digits, tmp_path)
    gray = {name for name, p in files.items() if decodes_exactly(p, GRAY)}
    rgb = {name for name, p in files.items() if decodes_exactly(p, RGB)}
    assert gray == {"gray", "gray_optimized", "text_note"}
    # greyscale files widen to RGB identically in both decoders; RGB files narrow differently
    assert rgb == {"gray", "gray_optimized", "text_note", "rgb"}
    assert not decodes_exactly(tmp_path / "missing.png", GRAY)


def _bad_crc(good: Path, path: Path) -> Path:
    """The PNG ``good`` with a wrong IDAT checksum: libpng (TensorFlow) refuses it, Pillow
    reads it. Such a file must still come out of prediction with Pillow's pixels."""
    data = bytearray(good.read_bytes())
    idat = data.index(b"IDAT")
    length = int.from_bytes(data[idat - 4 : idat], "big")
    crc = idat + 4 + length
    data[crc : crc + 4] = bytes(b ^ 0xFF for b in data[crc : crc + 4])
    path.write_bytes(bytes(data))
    return path


def _decode_all(paths: list[str], pre: Preprocessing) -> tuple[dict, dict]:
    pixels: dict[int, np.ndarray] = {}
    errors: dict[int, str] = {}
    for good, x, errs in decoded_batches(paths, pre, 4):
        pixels.update(zip(good.tolist(), x, strict=True))
        errors.update(errs)
    assert sorted([*pixels, *errors]) == list(range(len(paths)))
    return pixels, errors


@pytest.mark.parametrize("pre", [GRAY, RGB], ids=["grayscale", "rgb"])
@pytest.mark.parametrize("mixed", [False, True], ids=["all-exact", "mixed"])
def test_pipeline_pixels_equal_pillow_for_every_file(digits, tmp_path, pre, mixed):
    """All-exact folders take TensorFlow's decoder (a corrupt one falls back to Pillow for
    its reason); mixed ones Pillow's. Either way: Pillow's pixels, byte for byte."""
    files = [write_image(tmp_path / f"c{i}.png", "gray", (28, 28), seed=i) for i in range(10)]
    files.append(_bad_crc(files[0], tmp_path / "bad_crc.png"))
    if mixed:
        files += list(_variants(digits, tmp_path / "v").values())
        write_bad_files(tmp_path / "bad")
        files += sorted((tmp_path / "bad").iterdir())
    paths = [str(p) for p in files]
    assert all(decodes_exactly(p, pre) for p in paths) is not mixed
    pixels, errors = _decode_all(paths, pre)
    for i, p in enumerate(paths):
        try:
            want = load_image_uint8(p, pre)
        except ImageReadError as exc:
            assert errors.get(i) == exc.reason, p
        else:
            assert i in pixels, (p, errors.get(i))
            assert pixels[i].dtype == np.uint8
            np.testing.assert_array_equal(pixels[i], want, err_msg=p)
    assert 10 in pixels  # bad_crc.png: TensorFlow failed, Pillow's fallback decoded it
    if not mixed:  # TensorFlow's decoder really ran: its own batches hold Pillow's pixels
        by_tf = list(tf_png_batches(paths, 0, pre, 4))
        assert [pos.tolist() for pos, _ in by_tf] == [[0, 1, 2, 3], [4, 5, 6, 7]]  # 8-10 failed
        for pos, x in by_tf:
            for p, img in zip(pos, x, strict=True):
                np.testing.assert_array_equal(img, load_image_uint8(paths[p], pre))
    else:
        assert tf_png_batches(paths, 0, pre, 4) is None


def test_tensorflow_refuses_a_bad_checksum_that_pillow_reads(tmp_path):
    import tensorflow as tf

    bad = _bad_crc(write_image(tmp_path / "a.png", "gray", (28, 28)), tmp_path / "b.png")
    assert decodes_exactly(bad, GRAY)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_png(tf.io.read_file(str(bad)), channels=1)
    assert load_image_uint8(bad, GRAY).shape == (28, 28, 1)
