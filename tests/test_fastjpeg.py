"""The simplejpeg path gives Pillow's pixels byte for byte, and leaves to Pillow
every file the two might read differently."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnntui.core import fastjpeg
from cnntui.core.images import Preprocessing, load_image_uint8, open_image, try_load_image_uint8
from tests.image_factory import photo_like, write_bad_file


def _jpeg(size=(90, 120), seed=0, mode="RGB", **save) -> bytes:
    img = Image.fromarray(photo_like(seed % 4, size, seed), "RGB").convert(mode)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=save.pop("quality", 90), **save)
    return buf.getvalue()


def _with_exif(orientation: int | None, extra: bytes = b"") -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "cnntui test"
    return _jpeg(exif=exif.tobytes()) if not extra else _insert(_jpeg(exif=exif.tobytes()), extra)


def _insert(data: bytes, segment: bytes) -> bytes:
    """``data`` with one more APP segment right after the start-of-image marker."""
    return data[:2] + segment + data[2:]


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


XMP_ROTATED = _app1(b'http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta tiff:Orientation="6"/>')


def _pillow_orientation(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as img:
        return int(img.getexif().get(0x0112, 1))


@pytest.mark.parametrize("orientation", [None, 1, 2, 3, 4, 5, 6, 7, 8])
def test_orientation_is_the_one_pillow_reads(orientation):
    data = _with_exif(orientation)
    got = fastjpeg.plain_orientation(data)
    assert got == (orientation or 1) == _pillow_orientation(data)


def test_files_pillow_reads_differently_are_left_to_it(tmp_path):
    plain = _jpeg()
    assert fastjpeg.plain_orientation(plain) == 1
    # XMP orientation without an EXIF one: Pillow rotates by it
    xmp = _insert(plain, XMP_ROTATED)
    assert _pillow_orientation(xmp) == 6 and fastjpeg.plain_orientation(xmp) is None
    # two EXIF blocks (Pillow joins them), multi-picture (Pillow opens MPO, without draft)
    assert fastjpeg.plain_orientation(_with_exif(3, extra=_app1(b"Exif\x00\x00MM"))) is None
    mpo = io.BytesIO()
    first = Image.open(io.BytesIO(plain))
    first.save(mpo, "MPO", save_all=True, append_images=[Image.open(io.BytesIO(_jpeg(seed=1)))])
    with Image.open(io.BytesIO(mpo.getvalue())) as img:
        assert img.format == "MPO"
    assert fastjpeg.plain_orientation(mpo.getvalue()) is None
    # not a JPEG, nothing, a segment running past the end, no start of scan
    png = io.BytesIO()
    first.save(png, "PNG")
    header = write_bad_file(tmp_path / "h.jpg", "header").read_bytes()
    no_scan = header[: header.rindex(b"\xff\xda")]
    for data in (png.getvalue(), b"", plain[:40], no_scan):
        assert fastjpeg.plain_orientation(data) is None


def test_draft_scale_is_pillows():
    for w, h, side in [(442, 400, 128), (1000, 700, 128), (1100, 1030, 128), (100, 90, 128),
                       (64, 64, 28), (57, 300, 28)]:  # fmt: skip
        img = Image.open(io.BytesIO(_jpeg((h, w))))
        img.draft(None, (side, side))
        s = fastjpeg.draft_scale(w, h, side)
        assert img.size == ((w + s - 1) // s, (h + s - 1) // s)


JPEG_KINDS = {
    "420": {},
    "444": {"subsampling": 0},
    "422": {"subsampling": 1},
    "progressive": {"progressive": True},
    "gray": {"mode": "L"},
    "q60": {"quality": 60},
}


def _files(tmp_path):
    out = []
    for i, (kind, opts) in enumerate(JPEG_KINDS.items()):
        sizes = ((75, 101), (201, 157), (330, 290)) + (((1100, 1030),) if i == 0 else ())
        for size in sizes:  # DCT scales 1, 2, 4 (and 8) for the 48-pixel side below
            p = tmp_path / f"{kind}-{size[0]}.jpg"
            p.write_bytes(_jpeg(size, seed=i, **dict(opts)))
            out.append(p)
    for k in range(1, 9):
        p = tmp_path / f"exif{k}.jpg"
        p.write_bytes(_with_exif(k))
        out.append(p)
    return out


def test_fast_path_gives_pillows_pixels(tmp_path, monkeypatch):
    files = _files(tmp_path)
    pres = [Preprocessing((40, 48), "rgb", r) for r in ("stretch", "crop", "pad")]
    pres.append(Preprocessing((40, 48), "grayscale"))
    if fastjpeg.decoder_name() == "pillow":  # not installed: every file goes through Pillow
        assert fastjpeg.decode(files[0], 48, 10**8) is None
        return
    assert all(fastjpeg.decode(p, 48, 10**8) is not None for p in files)
    fast = [[load_image_uint8(p, pre) for p in files] for pre in pres]
    monkeypatch.setenv(fastjpeg.DECODER_ENV, "pillow")
    assert fastjpeg.decode(files[0], 48, 10**8) is None
    for pre, got in zip(pres, fast, strict=True):
        for p, arr in zip(files, got, strict=True):
            np.testing.assert_array_equal(arr, load_image_uint8(p, pre), err_msg=f"{p} {pre}")


def test_bad_and_unusual_jpegs_keep_pillows_verdict(tmp_path, monkeypatch):
    pre = Preprocessing((32, 32), "rgb")
    cmyk = tmp_path / "cmyk.jpg"
    Image.open(io.BytesIO(_jpeg())).convert("CMYK").save(cmyk, "JPEG")
    xmp = tmp_path / "xmp.jpg"
    xmp.write_bytes(_insert(_jpeg(), XMP_ROTATED))
    files = [cmyk, xmp] + [write_bad_file(tmp_path / f"{k}.jpg", k) for k in
                           ("truncated", "header", "empty", "text")]  # fmt: skip
    for p in files:
        assert fastjpeg.decode(p, 32, 10**8) is None, p
    auto = [try_load_image_uint8(p, pre) for p in files]
    monkeypatch.setenv(fastjpeg.DECODER_ENV, "pillow")
    for p, (arr, reason) in zip(files, auto, strict=True):
        want, want_reason = try_load_image_uint8(p, pre)
        assert reason == want_reason, p
        if want is None:
            assert arr is None and reason, p
        else:
            np.testing.assert_array_equal(arr, want)
    assert auto[1][0].shape == (32, 32, 3) and "truncated" in auto[2][1]


def test_multi_picture_jpegs_are_decoded_at_reduced_scale_like_plain_ones(tmp_path):
    first = Image.fromarray(photo_like(1, (600, 800), 1), "RGB")
    second = Image.fromarray(photo_like(2, (600, 800), 2), "RGB")
    mpo, plain = tmp_path / "camera.jpg", tmp_path / "plain.jpg"
    first.save(mpo, "MPO", save_all=True, append_images=[second])
    first.save(plain, "JPEG")
    with Image.open(mpo) as img:
        assert img.format == "MPO"
    assert open_image(mpo, draft=(128, 128)).size == (200, 150)  # 1/4 scale, frame 0
    pre = Preprocessing((128, 128), "rgb")
    np.testing.assert_array_equal(load_image_uint8(mpo, pre), load_image_uint8(plain, pre))
