"""``cnntui predict --show --graphics``: the same choice as ``explain`` (cli/graphics.py),
real pixels above the text through textual-image, half blocks beside it otherwise."""

from __future__ import annotations

import sys

import pytest
from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.images import Preprocessing
from tests.explain_factory import SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run

runner = CliRunner()


@pytest.fixture
def image_file(tmp_path_factory, tmp_path):
    models = quadrant_models(tmp_path_factory.getbasetemp())
    write_run(models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE)))
    x, _, _ = quadrant_images(1, seed=13, positive=True)
    path = tmp_path / "one.png"
    Image.fromarray(x[0, ..., 0]).save(path)
    return path


def predict(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["predict", *args], env=env)


def test_show_draws_sixel_above_the_text(image_file):
    res = predict(str(image_file), "--show", "--graphics", "sixel", "--show-width", "12")
    assert res.exit_code == 0, res.output
    start = res.stdout.index("\x1bP")  # a sixel device control string ...
    assert "q" in res.stdout[start : start + 40]
    end = res.stdout.index("\x1b\\", start)
    assert res.stdout.index(str(image_file), end) > end  # ... then the path and the bars
    assert "bright" in res.stdout[end:] and "%" in res.stdout[end:]


def test_show_draws_kitty_when_asked_through_the_environment(image_file, capfd):
    res = predict(str(image_file), "--show", env={"CNNTUI_GRAPHICS": "kitty"})
    assert res.exit_code == 0, res.output
    # textual-image sends kitty's image to the terminal itself, then prints placeholders
    assert "\x1b_G" in capfd.readouterr().out + res.stdout
    assert chr(0x10EEEE) in res.stdout and "\x1bP" not in res.stdout


def test_show_falls_back_to_half_blocks(image_file):
    for args in (["--graphics", "blocks"], []):  # auto on a pipe: text, the terminal not asked
        res = predict(str(image_file), "--show", "--show-width", "16", *args)
        assert res.exit_code == 0, res.output
        assert "\x1bP" not in res.stdout and chr(0x10EEEE) not in res.stdout
        first = res.stdout.splitlines()[0]
        assert first.endswith(str(image_file)) and first[:16].strip()  # image beside the path


def test_pixels_only_with_show(image_file):
    res = predict(str(image_file), "--graphics", "sixel")
    assert res.exit_code == 0 and "\x1bP" not in res.stdout
    res = predict(str(image_file), "--show", "--json", "--graphics", "sixel")
    assert res.exit_code == 0 and "\x1bP" not in res.stdout and res.stdout.startswith("[")


def test_bad_value_and_missing_extra_exit_2(image_file, monkeypatch):
    res = predict(str(image_file), "--show", "--graphics", "iterm")
    assert (
        res.exit_code == 2 and "--graphics must be one of auto, kitty, sixel, blocks" in res.output
    )
    monkeypatch.setitem(sys.modules, "textual_image.renderable", None)  # import fails
    monkeypatch.setitem(sys.modules, "textual_image", None)
    res = predict(str(image_file), "--show", "--graphics", "sixel")
    assert res.exit_code == 2 and "pip install 'cnntui[graphics]'" in res.output
    res = predict(str(image_file), "--show")  # auto without the extra: half blocks
    assert res.exit_code == 0 and "bright" in res.stdout
