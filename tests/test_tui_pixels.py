"""Real pixels in the workbench: with ``graphics`` kitty or sixel the Predict and Evaluate
previews are textual-image widgets whose frames carry the protocol, with ``blocks`` (the
tests' and snapshots' default) cnntui's half blocks; Ctrl+K swaps in the heatmap either way.

A frame is what the app would write to the terminal: the screen's compositor rendered in
full (headless pilots write nothing). Outside a terminal textual-image assumes 10 x 20 pixel
cells, so the sizes below are exact.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from tui_factory import wait_until

from cnntui.core.images import Preprocessing
from cnntui.tui.app import make_app
from cnntui.tui.widgets.image import ImageView
from cnntui.tui.widgets.pixels import PixelView, cells_for, sharp_picture
from tests.explain_factory import SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run

CELL = (10, 20)
PLACEHOLDER = chr(0x10EEEE)  # kitty's unicode placeholder for an image cell
SIXEL_SIZE = re.compile(r'\x1bP[0-9;]*q"1;1;(\d+);(\d+)')


def frame(app) -> str:
    """Everything the app would write to a terminal for its current screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def sixels_in(text: str) -> list[tuple[int, int]]:
    """(width, height) in pixels of each sixel image in ``text``."""
    return [(int(w), int(h)) for w, h in SIXEL_SIZE.findall(text)]


def picture_pixels(view: PixelView) -> np.ndarray:
    return np.asarray(view.picture.image)


def expected(arr: np.ndarray, max_width: int, max_height: int) -> np.ndarray:
    """The pixels the picture should hold for ``arr`` drawn in at most that many cells."""
    from cnntui.tui.widgets.image import to_uint8_rgb

    rgb = to_uint8_rgb(arr)
    return np.asarray(sharp_picture(rgb, *cells_for(rgb.shape, max_width, max_height, CELL), CELL))


def assert_drawn_with(graphics: str, app, view: PixelView, capfd) -> None:
    """The view draws with ``graphics``, and the frame carries that protocol only."""
    text = frame(app)
    if graphics == "blocks":
        assert view.query_one(ImageView) and not view.query(".pixels-picture")
        assert "▀" in text and "\x1bP" not in text and PLACEHOLDER not in text
        return
    picture = view.picture
    assert type(picture).__name__ == {"sixel": "SixelPicture", "kitty": "KittyPicture"}[graphics]
    assert not view.query(ImageView) and picture.display
    columns, rows = picture.region.width, picture.region.height
    if graphics == "sixel":
        assert sixels_in(text) == [(columns * CELL[0], rows * CELL[1])]
        assert PLACEHOLDER not in text
    else:
        assert text.count(PLACEHOLDER) == columns * rows and "\x1bP" not in text
        sent = capfd.readouterr().out  # textual-image sends the image to the terminal itself
        assert "a=p,i=" in sent and f"c={columns},r={rows}" in sent


@pytest.fixture
def quadrant_run(tmp_path_factory):
    models = quadrant_models(tmp_path_factory.getbasetemp())
    return models, write_run(
        models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE))
    )


@pytest.mark.parametrize("graphics", ["sixel", "kitty", "blocks"])
async def test_predict_preview_and_heatmap_key(graphics, quadrant_run, tmp_path, capfd):
    _, run = quadrant_run
    x, _, _ = quadrant_images(2, seed=21, positive=True)
    paths = []
    for i, a in enumerate(x):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(a[..., 0]).save(paths[-1])
    app = make_app(follow_running=False, graphics=graphics)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "predict")
        pr = app.screen
        view = pr.query_one("#predict-image", PixelView)
        assert not view.display and "\x1bP" not in frame(app)  # nothing selected yet
        pr.query_one("#predict-paths").value = " ".join(map(str, paths))
        pr.action_predict()
        await wait_until(pilot, lambda: len(pr.predictions) == 2, 120, "the predictions")
        pr.query_one("#predict-files").focus()
        await pilot.pause()
        assert_drawn_with(graphics, app, view, capfd)
        plain = pr.previews[0]
        if graphics != "blocks":
            assert plain.shape[:2] == (SIZE, SIZE)  # a 32-pixel file stays 32 pixels ...
            np.testing.assert_array_equal(picture_pixels(view), expected(plain, 32, 10))
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(pr.heatmaps.get(0), np.ndarray), 120, "Grad-CAM")
        await pilot.pause()
        assert pr.shown_pixels(0) is pr.heatmaps[0]
        assert_drawn_with(graphics, app, view, capfd)
        if graphics != "blocks":  # ... enlarged by whole pixels, the heatmap the same way
            np.testing.assert_array_equal(picture_pixels(view), expected(pr.heatmaps[0], 32, 10))
        await pilot.press("ctrl+k")  # off: the plain image again
        await pilot.pause()
        assert pr.shown_pixels(0) is plain
        if graphics != "blocks":
            np.testing.assert_array_equal(picture_pixels(view), expected(plain, 32, 10))
    if graphics == "kitty":  # the app gone, its last image is deleted from the terminal
        assert re.search(r"\x1b_Ga=d,I=\d+\x1b\\", capfd.readouterr().out)


async def test_sixels_leave_with_their_screen_and_follow_a_resize(quadrant_run, tmp_path):
    _, run = quadrant_run
    x, _, _ = quadrant_images(1, seed=5, positive=True)
    Image.fromarray(x[0, ..., 0]).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"not a png")
    app = make_app(follow_running=False, graphics="sixel")
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "predict")
        pr = app.screen
        pr.query_one("#predict-paths").value = f"{tmp_path / 'a.png'} {tmp_path / 'b.png'}"
        pr.action_predict()
        await wait_until(pilot, lambda: len(pr.predictions) == 2, 120, "the predictions")
        await pilot.pause()
        view = pr.query_one("#predict-image", PixelView)
        where = view.picture.region
        assert len(sixels_in(frame(app))) == 1
        await pilot.resize_terminal(60, 24)  # narrower: the summary wraps, the picture moves
        await pilot.pause()
        assert view.picture.region != where and len(sixels_in(frame(app))) == 1
        text = frame(app)  # the sixel is placed where the picture now is (1-based row;col)
        region = view.picture.region
        assert f"\x1b[{region.y + 1};{region.x + 1}H\x1bP" in text
        await pilot.press("f4")  # another screen: no sixel in its frame
        await pilot.pause()
        assert "\x1bP" not in frame(app)
        await pilot.press("f6")  # back: drawn again
        await pilot.pause()
        assert len(sixels_in(frame(app))) == 1
        await pilot.press("down")  # the unreadable file: no picture, no sixel
        await pilot.pause()
        assert not view.display and "\x1bP" not in frame(app)
        assert "cannot classify" in str(pr.query_one("#predict-result").render())
        await pilot.press("up")
        await pilot.pause()
        assert view.display and len(sixels_in(frame(app))) == 1


async def test_sixel_cells_are_cleared_before_the_image(quadrant_run, tmp_path):
    """Each row of the picture is painted with the background first (textual-image 0.13's
    fix), so cells the sixel does not cover never keep an older image or text."""
    from textual.geometry import Region

    from cnntui.tui.widgets.protocols import _ClearedSixels

    app = make_app(follow_running=False, graphics="sixel")
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        view = app.screen.query_one("#eval-preview", PixelView)
        view.show(np.full((8, 8), 200, np.uint8), 6, 3)
        await pilot.pause()
        impl = view.query_one(_ClearedSixels)
        lines = impl.render_lines(Region(0, 0, impl.region.width, impl.region.height))
        assert len(lines) == impl.region.height == 3
        for strip in lines:
            first = list(strip)[0]
            assert first.text == " " * impl.region.width and first.style.bgcolor is not None
        assert "\x1bP" in "".join(segment.text for segment in lines[-1])


@pytest.mark.parametrize("graphics", ["sixel", "kitty", "blocks"])
async def test_evaluate_examples_in_pixels(graphics, quadrant_run, tmp_path, capfd):
    """A real evaluation; the example list's preview is a protocol picture (half blocks with
    ``blocks``), Ctrl+K draws the predicted class's Grad-CAM in it, and hiding the tab takes
    the image off the frame."""
    models, _ = quadrant_run
    x, y, _ = quadrant_images(40, seed=23)
    data = tmp_path / "quadrants.npz"
    np.savez(data, x=x, y=y)
    run = write_run(
        models["softmax"],
        ["plain", "bright"],
        pre=Preprocessing(image_size=(SIZE, SIZE)),
        source=str(data),
        val_split=0.5,
    )
    app = make_app(follow_running=False, graphics=graphics)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "evaluate")
        ev = app.screen
        await wait_until(pilot, lambda: ev.result is not None, 120, "the evaluation")
        ev.query_one("#eval-matrix").move_cursor(row=1, column=2)  # bright predicted bright
        await wait_until(pilot, lambda: ev.heatmap_selected() is not None, 20, "an example")
        ev.query_one("#eval-examples").focus()
        await pilot.pause()
        view = ev.query_one("#eval-preview", PixelView)
        first = ev.heatmap_selected()
        plain = ev.result.images[first]
        assert_drawn_with(graphics, app, view, capfd)
        if graphics != "blocks":
            np.testing.assert_array_equal(picture_pixels(view), expected(plain, 24, 8))
        await pilot.press("ctrl+k")
        await wait_until(
            pilot, lambda: isinstance(ev.heatmaps.get(first), np.ndarray), 120, "Grad-CAM"
        )
        await pilot.pause()
        assert ev.heatmap_pixels(first, plain) is ev.heatmaps[first]
        assert_drawn_with(graphics, app, view, capfd)
        if graphics != "blocks":
            np.testing.assert_array_equal(picture_pixels(view), expected(ev.heatmaps[first], 24, 8))
        ev.query_one("#eval-tabs").active = "eval-classes"  # the other tab hides the picture
        await pilot.pause()
        text = frame(app)
        assert "\x1bP" not in text and PLACEHOLDER not in text
