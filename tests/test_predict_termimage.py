"""Terminal image drawing: half blocks with 24-bit / 256 colours, ASCII without colour."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnntui.cli.termimage import color_depth, render

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def two_by_two() -> Image.Image:
    img = Image.new("RGB", (2, 2))
    img.putdata([RED, BLUE, GREEN, WHITE])  # top row red, blue; bottom row green, white
    return img


def test_truecolor_half_blocks_stack_two_pixels():
    (line,) = render(two_by_two(), width=2, depth="truecolor")
    assert line == (
        "\x1b[38;2;255;0;0m\x1b[48;2;0;255;0m▀\x1b[38;2;0;0;255m\x1b[48;2;255;255;255m▀\x1b[0m"
    )


def test_256_colours_pick_the_xterm_cube():
    (line,) = render(two_by_two(), width=2, depth="256")
    assert line == "\x1b[38;5;196m\x1b[48;5;46m▀\x1b[38;5;21m\x1b[48;5;231m▀\x1b[0m"


def test_ascii_shading_and_aspect_ratio(tmp_path):
    arr = np.zeros((40, 20), np.uint8)
    arr[:, 10:] = 255  # left half black, right half white
    Image.fromarray(arr).save(tmp_path / "half.png")
    lines = render(tmp_path / "half.png", width=20, depth="ascii")
    assert len(lines) == 20  # 40 px tall at 20 columns: 20 rows of ~2:1 cells
    assert all(line == " " * 10 + "@" * 10 for line in lines)


def test_arrays_in_model_scale_are_drawn():
    lines = render(np.ones((4, 4, 1), np.float32), width=4, depth="ascii")
    assert lines == ["@@@@", "@@@@"]


@pytest.mark.parametrize(
    ("env", "tty", "want"),
    [
        ({"COLORTERM": "truecolor", "TERM": "xterm"}, True, "truecolor"),
        ({"TERM": "xterm-256color"}, True, "256"),
        ({"TERM": "xterm-256color", "NO_COLOR": "1"}, True, "ascii"),
        ({"TERM": "dumb"}, True, "ascii"),
        ({"COLORTERM": "truecolor"}, False, "ascii"),
    ],
)
def test_color_depth(env, tty, want):
    assert color_depth(env, is_tty=tty) == want
