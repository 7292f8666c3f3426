"""``cnntui predict`` on real checkpoints and real image files made with Pillow."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from run_factory import saved_models, write_digit_files, write_run
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.checkpoints import CheckpointError, parse_labels
from cnntui.core.images import Preprocessing, load_image
from cnntui.core.inference.open import open_model
from cnntui.core.inference.predict import collect_inputs, predict_paths

runner = CliRunner()


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    return saved_models(tmp_path_factory.getbasetemp())


@pytest.fixture
def digits_run(models):
    return write_run(models["digits10"], [f"d{i}" for i in range(10)])


@pytest.fixture
def digit_files(digits_small, tmp_path):
    x, y = digits_small
    return write_digit_files(x[:12], y[:12], tmp_path / "digits")


def keras_probs(model_path: Path, files: list[Path]) -> np.ndarray:
    """Independent reference: plain Keras on the same decoded pixels."""
    import keras

    model = keras.models.load_model(model_path)
    x = np.stack([load_image(f, Preprocessing()) for f in files])
    return np.asarray(model.predict(x, verbose=0))


def invoke(*args: str):
    return runner.invoke(app, ["predict", *args])


def test_predict_json_matches_plain_keras(digits_run, digit_files, models):
    result = invoke(str(digit_files[0].parent), "--json", "--top-k", "3")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [d["path"] for d in doc] == [str(f) for f in digit_files]
    ref = keras_probs(models["digits10"], digit_files)
    for d, probs in zip(doc, ref, strict=True):
        assert [t["index"] for t in d["top"]] == list(np.argsort(-probs)[:3])
        assert d["top"][0]["label"] == f"d{int(np.argmax(probs))}"
        assert d["top"][0]["probability"] == pytest.approx(float(probs.max()), abs=1e-5)


def test_text_output_has_bars_and_labels(digits_run, digit_files):
    result = invoke(str(digit_files[0]), "-k", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == str(digit_files[0])
    assert len(lines) == 3 and all("%" in line for line in lines[1:])
    assert "█" in lines[1] or "▏" in lines[1] or "▎" in lines[1]


def test_bad_files_reported_and_others_still_predicted(digits_run, digit_files, tmp_path):
    folder = digit_files[0].parent
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    good = digit_files[1].read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "fake.jpg").write_bytes(b"\x89PNG but not really" * 10)
    (folder / ".hidden.png").write_bytes(b"")  # hidden files are skipped, not errors
    result = invoke(str(folder), "--json")
    assert result.exit_code == 1
    doc = {Path(d["path"]).name: d for d in json.loads(result.stdout)}
    assert ".hidden.png" not in doc
    assert "empty" in doc["empty.png"]["error"]
    assert "truncated" in doc["truncated.png"]["error"]
    assert "not an image" in doc["notes.txt"]["error"]
    assert "not an image" in doc["fake.jpg"]["error"]
    assert sum("top" in d for d in doc.values()) == len(digit_files)
    assert "16 files: 12 classified, 4 errors (see above)" in result.stderr


SUMMARY = re.compile(
    r"^(\d+) files?: (\d+) classified, (\d+) errors?.* · ([\d.]+) s \(model ([\d.]+) s\) · "
    r"([\d.]+) images/s$"
)


@pytest.mark.parametrize("fmt", ["text", "--json"])
def test_summary_line_without_a_bar_when_stderr_is_not_a_terminal(digits_run, digit_files, fmt):
    (digit_files[0].parent / "broken.png").write_bytes(b"not a png")
    result = invoke(str(digit_files[0].parent), *([] if fmt == "text" else [fmt]))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert "\x1b[" not in result.stderr and "━" not in result.stderr  # no bar for scripts
    match = SUMMARY.match(lines[-1])
    assert match, lines
    files, classified, errors = (int(g) for g in match.groups()[:3])
    assert (files, classified, errors) == (13, 12, 1)
    seconds, model_seconds, rate = (float(g) for g in match.groups()[3:])
    assert 0 < model_seconds < seconds
    # both times are printed to 0.01 s: the rate lies within what that rounding allows
    working = seconds - model_seconds
    low, high = 12 / (working + 0.01), 12 / max(working - 0.01, 1e-9)
    assert low * 0.99 - 0.1 <= rate <= high * 1.01 + 0.1
    if fmt == "--json":
        assert len(json.loads(result.stdout)) == 13  # still one pure JSON document
    else:
        assert (
            sum(line.startswith(str(digit_files[0].parent)) for line in result.stdout.splitlines())
            == 13
        )


def test_progress_bar_on_a_terminal_stderr_while_stdout_is_piped(
    models, digit_files, isolated_home
):
    """As a user runs `cnntui predict DIR --json > out.json` in a terminal: the bar is on
    the terminal (stderr), stdout is the JSON alone."""
    write_run(models["digits10"], [str(i) for i in range(10)])
    master, slave = pty.openpty()
    env = {**os.environ, "CNNTUI_RUNS_DIR": str(isolated_home / "runs"), "COLUMNS": "100"}
    cmd = [sys.executable, "-m", "cnntui", "predict", str(digit_files[0].parent), "--json"]
    proc = subprocess.Popen(
        [*cmd, "--batch-size", "4"], stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    screen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen.extend(chunk)
    out = proc.stdout.read()
    assert proc.wait() == 0
    os.close(master)
    text = screen.decode("utf-8", "replace")
    assert "━" in text and "12/12" in text and "\x1b[" in text  # Rich's bar, redrawn
    assert "12 files: 12 classified, 0 errors" in text
    assert len(json.loads(out)) == 12 and b"\x1b" not in out


def test_results_print_whole_above_the_bar_when_stdout_is_the_terminal(monkeypatch):
    from rich.console import Console

    from cnntui.cli.progress import StderrProgress

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=40)
    long = "/a/path/" + "x" * 60 + ".png"
    with StderrProgress(2, "predicting", console=console) as bar:
        out = bar.stdout()
        out.write(long + "\n  7  ")  # a partial line waits for its end
        out.flush()
        out.drain()
        assert long in screen.getvalue() and "  7" not in screen.getvalue()
        out.write("99.00%\n")
        bar.advance(2)
    shown = screen.getvalue()
    assert long in shown  # not wrapped at the console's 40 columns
    assert "  7  99.00%" in shown and "━" in shown


def test_any_image_mode_is_preprocessed_like_training(digits_run, digits_small, tmp_path, models):
    """RGB, RGBA, palette, CMYK JPEG, 16-bit, big and EXIF-rotated files of one digit."""
    x, _ = digits_small
    digit = x[0]
    base = Image.fromarray(digit, "L")
    palette = Image.fromarray(digit, "P")
    palette.putpalette([v for i in range(256) for v in (i, i, i)])  # grey ramp palette
    files = {
        "gray.png": base,
        "rgb.png": base.convert("RGB"),
        "rgba.png": base.convert("RGBA"),
        "palette.png": palette,
        "cmyk.jpg": base.convert("RGB").convert("CMYK"),
        "sixteen.png": Image.fromarray(digit.astype(np.uint16) * 257),
        "big.png": base.resize((280, 280)),
    }
    for name, img in files.items():
        img.save(tmp_path / name)
    rotated = base.rotate(90, expand=True)  # stored sideways, EXIF says turn it upright
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated.save(tmp_path / "exif.png", exif=exif)
    result = invoke(*(str(tmp_path / n) for n in [*files, "exif.png"]), "--json")
    assert result.exit_code == 0, result.output
    doc = {Path(d["path"]).name: d["top"][0] for d in json.loads(result.stdout)}
    ref = keras_probs(models["digits10"], [tmp_path / "gray.png"])[0]
    for name in ["rgb.png", "rgba.png", "palette.png", "sixteen.png", "exif.png"]:
        assert doc[name]["index"] == int(np.argmax(ref)), name
        assert doc[name]["probability"] == pytest.approx(float(ref.max()), abs=1e-5), name
    assert doc["cmyk.jpg"]["probability"] > 0 and doc["big.png"]["probability"] > 0


def test_globs_folders_and_missing_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for p in ["a/1.png", "a/b/2.png", "a/3.jpg", "a/.hid/4.png"]:
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_bytes(b"x")
    got = collect_inputs(
        [
            tmp_path / "a",
            str(tmp_path / "a" / "*.png"),
            tmp_path / "nope.png",
            str(tmp_path / "*.gif"),
        ]
    )
    names = [
        (Path(p).relative_to(tmp_path).as_posix() if e is None else Path(p).name, e) for p, e in got
    ]
    assert names == [
        ("a/1.png", None),
        ("a/3.jpg", None),
        ("a/b/2.png", None),
        ("nope.png", "no such file or folder"),
        ("*.gif", "no files match this pattern"),
    ]


def test_small_batches_stream_the_same_results(digits_run, digit_files):
    loaded = open_model()
    inputs = collect_inputs(digit_files)
    one = list(predict_paths(loaded, inputs, top_k=10, batch_size=64))
    many = list(predict_paths(loaded, inputs, top_k=10, batch_size=5))
    assert [p.path for p in many] == [str(f) for f in digit_files]
    for a, b in zip(one, many, strict=True):
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)


def test_binary_head_reports_both_classes(models, digits_small, tmp_path):
    import keras

    write_run(models["binary"], ["zero", "one"], label_mode="binary")
    x, y = digits_small
    files = write_digit_files(x[y <= 1][:6], y[y <= 1][:6], tmp_path / "zo")
    result = invoke(str(tmp_path / "zo"), "--json")
    assert result.exit_code == 0, result.output
    p_one = keras.models.load_model(models["binary"]).predict(
        np.stack([load_image(f, Preprocessing()) for f in files]), verbose=0
    )[:, 0]
    for d, p in zip(json.loads(result.stdout), p_one, strict=True):
        probs = {t["label"]: t["probability"] for t in d["top"]}
        assert set(probs) == {"zero", "one"}
        assert probs["one"] == pytest.approx(float(p), abs=1e-5)
        assert probs["zero"] == pytest.approx(1 - float(p), abs=1e-5)


def test_bare_checkpoint_with_labels_file_or_list(models, digit_files, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"digit {i}" for i in range(10)) + "\n")
    ckpt = str(models["digits10"])
    a = invoke(str(digit_files[0]), "--checkpoint", ckpt, "--labels", str(labels), "--json")
    b = invoke(
        str(digit_files[0]),
        "--checkpoint",
        ckpt,
        "--labels",
        ",".join(f"digit {i}" for i in range(10)),
        "--json",
    )
    c = invoke(str(digit_files[0]), "--checkpoint", ckpt, "--json")
    assert a.exit_code == b.exit_code == c.exit_code == 0, a.output + c.output
    assert json.loads(a.stdout) == json.loads(b.stdout)
    top_a, top_c = json.loads(a.stdout)[0]["top"][0], json.loads(c.stdout)[0]["top"][0]
    assert top_a["label"] == f"digit {top_a['index']}"
    assert top_c["label"] == str(top_c["index"])
    wrong = invoke(str(digit_files[0]), "--checkpoint", ckpt, "--labels", "cat,dog")
    assert wrong.exit_code == 2
    assert "10 output classes but 2 labels" in wrong.stderr


def test_csv_rows(digits_run, digit_files, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"")
    result = invoke(str(digit_files[0]), str(tmp_path / "broken.png"), "--csv", "-k", "2")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rank"] for r in rows] == ["1", "2", ""]
    assert rows[2]["error"] == "empty file (0 bytes)"
    assert float(rows[0]["probability"]) >= float(rows[1]["probability"])


def test_show_draws_the_image(digits_run, digit_files):
    result = invoke(str(digit_files[0]), "--show", "--show-width", "14")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 7  # a 28x28 image at 14 columns is 7 text rows
    assert any(ch in result.stdout for ch in "@%#*")  # ASCII shading when not a terminal
    assert str(digit_files[0]) in lines[0] and "%" in lines[1]


def test_missing_checkpoint_and_input_mismatch(models, digit_files):
    empty = write_run(models["digits10"], [str(i) for i in range(10)], checkpoints=())
    result = invoke(str(digit_files[0]), "--run", empty.id)
    assert result.exit_code == 2
    assert "has no checkpoint yet" in result.stderr
    rgb = Preprocessing(image_size=(32, 32), color_mode="rgb")
    other = write_run(models["digits10"], [str(i) for i in range(10)], pre=rgb)
    result = invoke(str(digit_files[0]), "--run", other.id)
    assert result.exit_code == 2
    assert "expects input 28x28x1" in result.stderr and "32x32x3" in result.stderr
    gone = invoke(str(digit_files[0]), "--checkpoint", "/nowhere/model.keras")
    assert gone.exit_code == 2 and "does not exist" in gone.stderr
    not_zip = digit_files[0].with_suffix(".keras")
    not_zip.write_bytes(b"garbage")
    bad = invoke(str(digit_files[0]), "--checkpoint", str(not_zip))
    assert bad.exit_code == 2 and "not a valid .keras file" in bad.stderr


def test_lambda_code_runs_only_with_unsafe(models, digit_files, tmp_path, monkeypatch):
    marker = tmp_path / "lambda-ran"
    monkeypatch.setenv("CNNTUI_TEST_LAMBDA_MARKER", str(marker))
    ckpt = str(models["lambda"])
    safe = invoke(str(digit_files[0]), "--checkpoint", ckpt)
    assert safe.exit_code == 2
    assert "Lambda" in safe.stderr and "--unsafe" in safe.stderr
    assert "Traceback" not in safe.output
    assert not marker.exists()
    unsafe = invoke(str(digit_files[0]), "--checkpoint", ckpt, "--unsafe", "--json")
    assert unsafe.exit_code == 0, unsafe.output
    assert marker.exists()
    assert len(json.loads(unsafe.stdout)[0]["top"]) == 3


def test_parse_labels_errors(tmp_path):
    assert parse_labels("a, b ,c") == ["a", "b", "c"]
    with pytest.raises(CheckpointError, match="does not exist"):
        parse_labels(str(tmp_path / "labels.txt"))
    with pytest.raises(CheckpointError, match="empty label"):
        parse_labels("a,,b")


def test_exit_codes_of_the_real_command(models, digit_files, tmp_path, isolated_home):
    """As a user runs it: no model yet -> 2 with advice; then a bad file among good -> 1."""
    env = {**os.environ, "CNNTUI_RUNS_DIR": str(isolated_home / "runs")}
    cmd = [sys.executable, "-m", "cnntui", "predict"]
    none = subprocess.run([*cmd, str(digit_files[0])], capture_output=True, text=True, env=env)
    assert none.returncode == 2
    assert "cnntui train" in none.stderr and "Traceback" not in none.stderr
    write_run(models["digits10"], [str(i) for i in range(10)])
    (tmp_path / "zero.jpg").write_bytes(b"")
    some = subprocess.run(
        [*cmd, str(digit_files[0]), str(tmp_path / "zero.jpg")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert some.returncode == 1, some.stderr
    assert "empty file" in some.stdout and "%" in some.stdout
    assert "Traceback" not in some.stderr


def test_logits_output_becomes_probabilities(digit_files, tmp_path):
    """A bare model ending in a linear layer: scores go through a softmax."""
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    path = tmp_path / "logits.keras"
    model.save(path)
    result = invoke(str(digit_files[0]), "--checkpoint", str(path), "--json")
    assert result.exit_code == 0, result.output
    top = json.loads(result.stdout)[0]["top"]
    z = np.asarray(model(load_image(digit_files[0], Preprocessing())[None]))[0].astype(float)
    want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert sum(t["probability"] for t in top) == pytest.approx(1.0, abs=1e-5)
    for t in top:
        assert t["probability"] == pytest.approx(want[t["index"]], abs=1e-5)


def test_default_run_must_be_finished(models, digit_files):
    running = write_run(models["digits10"], [str(i) for i in range(10)], status="failed")
    result = invoke(str(digit_files[0]))
    assert result.exit_code == 2
    assert "no finished run yet" in result.stderr and running.id[-4:] in result.stderr
    assert invoke(str(digit_files[0]), "--run", running.id[-4:]).exit_code == 0
