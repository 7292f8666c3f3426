"""``cnntui data doctor`` and ``cnntui data split`` on generated photo-like folders."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.main import app
from tests.image_factory import photo_like, write_bad_files

runner = CliRunner()


def _photo(path: Path, label: int, seed: int, size=(120, 160)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo_like(label, size, seed), "RGB").save(path, quality=90)
    return path


def _split_folder(root: Path, per_class: int = 6) -> Path:
    seed = 0
    for split, n in (("train", per_class), ("val", 2)):
        for label, name in enumerate(["cat", "dog"]):
            for i in range(n):
                seed += 1
                _photo(root / split / name / f"{name}_{i:02d}.jpg", label, seed)
    return root


def test_doctor_finds_leakage_a_near_duplicate_conflicts_and_outliers(tmp_path):
    root = _split_folder(tmp_path / "pets")
    # the same photo in train and (under another name) in val: leakage
    shutil.copy(root / "train/cat/cat_00.jpg", root / "val/cat/holiday.jpg")
    # a near copy: re-encoded at another quality and resized by 10 %, same class
    with Image.open(root / "train/dog/dog_01.jpg") as im:
        im.resize((176, 132)).save(root / "train/dog/dog_01_small.jpg", quality=60)
    # the same bytes under two classes, and a re-encoded copy under another class
    shutil.copy(root / "train/cat/cat_02.jpg", root / "train/dog/not_a_dog.jpg")
    with Image.open(root / "train/cat/cat_04.jpg") as im:
        im.save(root / "train/dog/cat_04_again.jpg", quality=70)
    # an exact copy within a class
    shutil.copy(root / "train/dog/dog_03.jpg", root / "train/dog/dog_03 (1).jpg")
    Image.new("RGB", (120, 160), (250, 250, 250)).save(root / "train/cat/blank.png")
    _photo(root / "train/cat/strip.jpg", 0, 999, size=(20, 300))
    write_bad_files(root / "train" / "cat", ["truncated"])

    result = runner.invoke(app, ["data", "doctor", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    exact = {frozenset(Path(f["path"]).name for f in g["files"]): g["where"]
             for g in report["exact_duplicates"]}  # fmt: skip
    assert exact == {
        frozenset({"cat_00.jpg", "holiday.jpg"}): "across splits",
        frozenset({"cat_02.jpg", "not_a_dog.jpg"}): "across classes",
        frozenset({"dog_03.jpg", "dog_03 (1).jpg"}): "within a class",
    }
    near = {frozenset(Path(f["path"]).name for f in g["files"]): g["where"]
            for g in report["near_duplicates"]}  # fmt: skip
    assert near == {
        frozenset({"dog_01.jpg", "dog_01_small.jpg"}): "within a class",
        frozenset({"cat_04.jpg", "cat_04_again.jpg"}): "across classes",
    }
    assert report["summary"] == {"exact_duplicates": 3, "near_duplicates": 2, "leaked": 1,
                                 "conflicting_labels": 2}  # fmt: skip
    outliers = {Path(o["path"]).name: " ".join(o["reasons"]) for o in report["outliers"]}
    assert "mostly blank" in outliers["blank.png"]
    assert "tiny" in outliers["strip.jpg"] and "aspect" in outliers["strip.jpg"]
    assert [Path(u["path"]).name for u in report["unreadable"]] == ["truncated.jpg"]
    train = report["splits"]["train"]["classes"]
    assert train == {"cat": 8, "dog": 10}
    weights = report["imbalance"]["class_weights"]
    assert abs(weights["cat"] - 18 / (2 * 8)) < 1e-9 and abs(weights["dog"] - 18 / 20) < 1e-9

    fixed = tmp_path / "clean"
    before = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    text = runner.invoke(app, ["data", "doctor", str(root), "--fix", str(fixed)])
    assert text.exit_code == 0, text.output
    assert "LEAK across splits" in text.stdout and "left out 7" in text.stdout
    assert sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file()) == before
    kept = {p.relative_to(fixed).as_posix() for p in fixed.rglob("*") if p.is_file()}
    gone = {p.as_posix() for p in before} - kept
    assert gone == {"val/cat/holiday.jpg", "train/cat/cat_02.jpg", "train/dog/not_a_dog.jpg",
                    "train/cat/cat_04.jpg", "train/dog/cat_04_again.jpg",
                    "train/dog/dog_03 (1).jpg", "train/cat/truncated.jpg"}  # fmt: skip
    assert (fixed / "train/cat/cat_00.jpg").stat().st_ino == (
        root / "train/cat/cat_00.jpg"
    ).stat().st_ino  # a hard link, not a copy
    again = runner.invoke(app, ["data", "doctor", str(root), "--fix", str(fixed)])
    assert again.exit_code == 2 and "not empty" in again.stderr


def test_doctor_errors_are_clear(tmp_path):
    result = runner.invoke(app, ["data", "doctor", "sample"])
    assert result.exit_code == 2 and "takes an image folder" in result.stderr
    root = _split_folder(tmp_path / "p", per_class=1)
    inside = runner.invoke(app, ["data", "doctor", str(root), "--fix", str(root / "clean")])
    assert inside.exit_code == 2 and "inside the source" in inside.stderr


def test_split_is_stratified_seeded_and_linked(tmp_path):
    src = tmp_path / "flowers"
    for label, (name, n) in enumerate({"rose": 20, "tulip": 10, "daisy": 3}.items()):
        for i in range(n):
            _photo(src / name / f"{i:03d}.jpg", label, 100 * label + i, size=(24, 32))
    out = tmp_path / "flowers_split"
    result = runner.invoke(
        app, ["data", "split", str(src), str(out), "--val", "0.2", "--test", "0.1", "--seed",
              "3", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["counts"]
    assert counts == {
        "train": {"rose": 14, "tulip": 7, "daisy": 2},
        "val": {"rose": 4, "tulip": 2, "daisy": 1},
        "test": {"rose": 2, "tulip": 1, "daisy": 0},
    }
    for split, per in counts.items():
        for name, n in per.items():
            assert len(list((out / split / name).iterdir())) == n
    names = {p.relative_to(out).parts[1:] for p in out.rglob("*.jpg")}
    assert names == {p.relative_to(src).parts for p in src.rglob("*.jpg")}  # nothing lost
    other = tmp_path / "again"
    runner.invoke(app, ["data", "split", str(src), str(other), "--seed", "3"])
    assert sorted(p.relative_to(other) for p in other.rglob("*.jpg")) == sorted(
        p.relative_to(out) for p in out.rglob("*.jpg")
    )
    bad = runner.invoke(app, ["data", "split", str(src), str(tmp_path / "x"), "--val", "0.9",
                              "--test", "0.2"])  # fmt: skip
    assert bad.exit_code == 2 and "sum below 1" in bad.stderr
    already = runner.invoke(app, ["data", "split", str(out), str(tmp_path / "y")])
    assert already.exit_code == 2 and "already split" in already.stderr


def test_cache_list_and_clear_commands(tmp_path):
    from cnntui.core.data import load_data

    root = _split_folder(tmp_path / "pets", per_class=2)
    load_data(str(root), input_shape=(16, 16, 3))
    listed = runner.invoke(app, ["data", "cache", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)["entries"]
    assert len(entries) == 1 and entries[0]["source"] == str(root)
    assert entries[0]["decoded"] == 4  # the val split is decoded at load
    text = runner.invoke(app, ["data", "cache", "list"])
    assert "1 cached folder(s)" in text.stdout and entries[0]["key"][:12] in text.stdout
    unknown = runner.invoke(app, ["data", "cache", "clear", "nosuchkey"])
    assert unknown.exit_code == 2 and "no cache entry" in unknown.stderr
    cleared = runner.invoke(app, ["data", "cache", "clear"])
    assert cleared.exit_code == 0 and "removed 1 cached folder" in cleared.stdout
    assert (
        json.loads(runner.invoke(app, ["data", "cache", "list", "--json"]).stdout)["entries"] == []
    )


def test_doctor_does_not_call_different_digits_near_duplicates(tmp_path):
    """Real handwritten "1"s share one simple shape: the perceptual hash alone puts many
    pairs of different ones within 6 bits; the thumbnail check keeps only the real copy."""
    import numpy as np

    from cnntui.core.data.doctor import diagnose

    with np.load(Path(__file__).parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        digits = {"one": d["x"][d["y"] == 1][:80], "seven": d["x"][d["y"] == 7][:20]}
    root = tmp_path / "digits"
    for name, images in digits.items():
        for i, digit in enumerate(images):
            split = "val" if i % 4 == 0 else "train"
            path = root / split / name / f"{name}_{i:02d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(digit).resize((64, 64), Image.Resampling.BILINEAR).save(path)
    # a leaked near copy: a training digit re-encoded as JPEG and resized by 10 %
    with Image.open(root / "train/one/one_01.png") as im:
        im.resize((58, 58)).save(root / "val/one/resent.jpg", quality=70)
    # flat pictures: two white ones are one picture, a white and a dark one are not
    for name, grey in (("white.png", 255), ("white_too.png", 254), ("dark.png", 9)):
        Image.new("L", (64, 64), grey).save(root / "train/one" / name)

    hash_only = diagnose(root, min_similarity=0.0)
    assert hash_only["summary"]["near_duplicates"] > 20  # what the hash alone reports
    report = diagnose(root)
    pairs = {frozenset(Path(f["path"]).name for f in g["files"]): g["where"]
             for g in report["near_duplicates"]}  # fmt: skip
    assert pairs == {
        frozenset({"one_01.png", "resent.jpg"}): "across splits",
        frozenset({"white.png", "white_too.png"}): "within a class",
    }
    assert report["summary"]["leaked"] == 1
    leaked = next(g for g in report["near_duplicates"] if g["where"] == "across splits")
    assert leaked["similarity"] >= 0.995


def test_doctor_reads_16_bit_images_as_training_does(tmp_path):
    """A 16-bit grey PNG is scaled to 8 bits as the pipeline scales it, not clipped to
    white (Pillow's own ``convert("L")``): two different scans, every value above 255, are
    neither "mostly blank" nor one picture."""
    import numpy as np

    from cnntui.core.data.doctor import diagnose

    with np.load(Path(__file__).parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        digits = d["x"][[0, 600, 1200, 1800]]
    root = tmp_path / "scans"
    for i, digit in enumerate(digits):
        path = root / ("a" if i % 2 else "b") / f"scan_{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        wide = 20_000 + np.asarray(Image.fromarray(digit).resize((64, 64)), np.uint16) * 150
        Image.fromarray(wide).save(path)
        with Image.open(path) as im:
            assert im.mode == "I;16"
    report = diagnose(root)
    assert report["outliers"] == [] and report["near_duplicates"] == []


def test_doctor_groups_look_alike_frames_with_links_not_pairs(tmp_path):
    """Frames of a still camera are all near copies of each other: one group, listed with a
    spanning tree of links (n - 1), not every pair (n^2 / 2), and --fix keeps the train
    frames and leaves out the val ones."""
    import numpy as np

    from cnntui.core.data.doctor import diagnose, removals

    with np.load(Path(__file__).parents[1] / "cnntui/assets/mnist_5k.npz") as d:
        digit = np.asarray(Image.fromarray(d["x"][0]).resize((64, 64)), np.int16)
    rng = np.random.default_rng(0)
    root = tmp_path / "frames"
    n = 300
    for i in range(n):
        split, name = ("val" if i % 10 < 2 else "train"), "ab"[i % 2]
        path = root / split / name / f"frame_{i:03d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        noisy = np.clip(digit + rng.integers(-2, 3, digit.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(path)

    report = diagnose(root)
    (group,) = report["near_duplicates"]
    assert len(group["files"]) == n and group["where"] == "across splits"
    assert len(group["pairs"]) == n - 1 and group["similarity"] >= 0.995
    linked = {path for pair in group["pairs"] for path in pair["files"]}
    assert linked == {f["path"] for f in group["files"]}  # the links join every frame
    assert report["summary"]["near_duplicates"] == n - 1
    gone = removals(report)
    assert {Path(p).parts[-3] for p in gone} == {"val"} and len(gone) == n // 5
