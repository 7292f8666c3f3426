"""Image protocols for ``cnntui explain``: textual-image's kitty/sixel encoders where asked
for or found, cnntui's half blocks otherwise."""

from __future__ import annotations

import sys

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from cnntui.cli.graphics import choose_graphics
from cnntui.cli.main import app
from cnntui.core.images import Preprocessing
from tests.explain_factory import SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run

runner = CliRunner()


def test_choice_of_drawing():
    assert choose_graphics("blocks", is_tty=True) == "blocks"
    assert choose_graphics("auto", is_tty=False) == "blocks"  # a pipe gets text
    assert choose_graphics("sixel", is_tty=False) == "sixel"  # asked for outright
    assert choose_graphics("kitty", is_tty=True) == "kitty"
    with pytest.raises(typer.BadParameter, match="one of auto, kitty, sixel, blocks"):
        choose_graphics("iterm", is_tty=True)


def test_missing_textual_image_is_named_with_its_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "textual_image.renderable", None)  # import fails
    monkeypatch.setitem(sys.modules, "textual_image", None)
    assert choose_graphics("auto", is_tty=True) == "blocks"
    with pytest.raises(typer.BadParameter, match=r"pip install 'cnntui\[graphics\]'"):
        choose_graphics("sixel", is_tty=True)


@pytest.fixture
def image_file(tmp_path_factory, tmp_path):
    models = quadrant_models(tmp_path_factory.getbasetemp())
    write_run(models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE)))
    x, _, _ = quadrant_images(1, seed=13, positive=True)
    path = tmp_path / "one.png"
    Image.fromarray(x[0, ..., 0]).save(path)
    return path


def test_explain_draws_sixel_when_asked(image_file):
    res = runner.invoke(app, ["explain", str(image_file), "--graphics", "sixel", "--width", "12"])
    assert res.exit_code == 0, res.output
    start = res.stdout.index("\x1bP")  # a sixel device control string, then the text
    assert "q" in res.stdout[start : start + 40] and res.stdout.index("\x1b\\", start) > start
    assert "gradcam: bright" in res.stdout[start:]
    blocks = runner.invoke(app, ["explain", str(image_file), "--graphics", "blocks"])
    assert blocks.exit_code == 0 and "\x1bP" not in blocks.stdout
    assert "gradcam: bright" in blocks.stdout


def test_bad_graphics_value_exits_2(image_file):
    res = runner.invoke(app, ["explain", str(image_file), "--graphics", "iterm"])
    assert res.exit_code == 2 and "--graphics must be one of" in res.output
