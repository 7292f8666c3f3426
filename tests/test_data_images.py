"""Preprocessing parity: the folder pipeline gives exactly what prediction's load_image gives."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnntui.core.data import load_data
from cnntui.core.data.arrays import prepare_arrays, rgb_to_gray
from cnntui.core.images import Preprocessing, load_image
from tests.image_factory import IMAGE_KINDS, make_image_folder, write_image


@pytest.mark.parametrize("resize_mode", ["stretch", "crop", "pad"])
def test_pipeline_matches_load_image_for_every_kind(tmp_path, resize_mode):
    root = make_image_folder(tmp_path / "all", ["a", "b"], per_class=len(IMAGE_KINDS))
    bundle = load_data(
        str(root), input_shape=(20, 30, 3), resize_mode=resize_mode, val_split=0.0,
        batch_size=64, cache_budget_bytes=0,
    )  # fmt: skip
    pre = bundle.preprocessing
    assert pre.resize_mode == resize_mode
    # the unshuffled test of the pipeline: run the same files through the val path
    from cnntui.core.data.pipeline import SkipLog, file_dataset

    paths = sorted(str(p) for p in root.rglob("*.*"))
    ds = file_dataset(paths, np.zeros(len(paths), np.int32), pre, 64, shuffle=False, seed=0,
                      skip_log=SkipLog([], None))  # fmt: skip
    got = np.concatenate([x.numpy() for x, _ in ds])
    want = np.stack([load_image(p, pre) for p in paths])
    np.testing.assert_array_equal(got, want)


def test_exif_cmyk_16bit_and_alpha_are_converted_correctly(tmp_path):
    pre = Preprocessing(image_size=(30, 40), color_mode="rgb")
    upright = load_image(write_image(tmp_path / "up.png", "png", (30, 40)), pre)
    exif = load_image(write_image(tmp_path / "ex.jpg", "exif", (30, 40)), pre)
    sideways = np.rot90(upright, 1)
    assert np.abs(exif - upright).mean() < 0.06  # JPEG noise only
    assert np.abs(exif - np.asarray(Image.fromarray((sideways * 255).astype(np.uint8)).resize(
        (40, 30))) / 255).mean() > 0.1  # fmt: skip
    cmyk = load_image(write_image(tmp_path / "c.jpg", "cmyk", (30, 40)), pre)
    assert np.abs(cmyk - upright).mean() < 0.06
    gray = Preprocessing(image_size=(30, 40), color_mode="grayscale")
    g8 = load_image(write_image(tmp_path / "g8.png", "gray", (30, 40)), gray)
    g16 = load_image(write_image(tmp_path / "g16.png", "gray16", (30, 40)), gray)
    np.testing.assert_allclose(g16, g8, atol=1.5 / 255)
    rgba = load_image(write_image(tmp_path / "a.png", "rgba", (30, 40)), pre)
    np.testing.assert_array_equal(rgba[:10, :13], 1.0)  # transparent corner → white
    np.testing.assert_array_equal(rgba[10:, 13:], upright[10:, 13:])


def test_array_conversion_matches_pillow_exactly(digits_small):
    x = digits_small[0][:20, :, :, None]
    rgb = np.random.default_rng(0).integers(0, 256, (20, 9, 7, 3), dtype=np.uint8)
    want = np.stack([np.asarray(Image.fromarray(im, "RGB").convert("L")) for im in rgb])
    np.testing.assert_array_equal(rgb_to_gray(rgb)[..., 0], want)
    pre = Preprocessing(image_size=(20, 24), color_mode="rgb", resize_mode="pad")
    got = prepare_arrays(x, pre)
    want = np.stack([load_image_from_array(im[..., 0], pre) for im in x])
    np.testing.assert_array_equal(got, want)


def load_image_from_array(img: np.ndarray, pre: Preprocessing) -> np.ndarray:
    """What prediction does with the same digit saved as a PNG file."""
    import io

    buf = io.BytesIO()
    Image.fromarray(img, "L").save(buf, "PNG")
    buf.seek(0)
    from cnntui.core.images import image_to_uint8

    return image_to_uint8(Image.open(buf), pre)
