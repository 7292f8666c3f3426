"""The Predict screen's heatmap key: Grad-CAM computed in a worker, cached per image."""

from __future__ import annotations

import numpy as np
from PIL import Image
from tui_factory import wait_until

from cnntui.core.images import Preprocessing
from cnntui.tui.app import make_app
from tests.explain_factory import SIZE, quadrant_images, quadrant_models
from tests.run_factory import write_run


async def test_heatmap_key_toggles_grad_cam_over_the_image(tmp_path_factory, tmp_path):
    models = quadrant_models(tmp_path_factory.getbasetemp())
    run = write_run(
        models["softmax"], ["plain", "bright"], pre=Preprocessing(image_size=(SIZE, SIZE))
    )
    x, _, _ = quadrant_images(2, seed=21, positive=True)
    paths = []
    for i, a in enumerate(x):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(a[..., 0]).save(paths[-1])
    app = make_app(follow_running=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "predict")
        pr = app.screen
        pr.query_one("#predict-paths").value = " ".join(map(str, paths))
        pr.action_predict()
        await wait_until(pilot, lambda: len(pr.predictions) == 2, 120, "the predictions")
        pr.query_one("#predict-files").focus()
        await pilot.pause()
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: isinstance(pr.heatmaps.get(0), np.ndarray), 120, "Grad-CAM")
        await pilot.pause()
        assert pr.heatmaps[0].shape == (SIZE, SIZE, 3)
        assert pr.show_heatmap and 1 not in pr.heatmaps  # only what was looked at
        assert pr.shown_pixels(0) is pr.heatmaps[0]
        cached = pr.heatmaps[0]
        await pilot.press("ctrl+k")  # off: the plain image again, the heatmap kept
        await pilot.pause()
        assert pr.shown_pixels(0) is pr.previews[0]
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert pr.heatmaps[0] is cached and pr.shown_pixels(0) is cached  # not computed again


async def test_evaluate_examples_get_the_same_heatmap_key(tmp_path_factory, tmp_path):
    """A real evaluation on the Evaluate screen; Ctrl+K explains the highlighted example's
    predicted class in a worker, caches it, and follows the highlight."""
    models = quadrant_models(tmp_path_factory.getbasetemp())
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
    app = make_app(follow_running=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.open_run(run.id, "evaluate")
        ev = app.screen
        await wait_until(pilot, lambda: ev.result is not None, 120, "the evaluation")
        await pilot.pause()
        ev.query_one("#eval-matrix").move_cursor(row=1, column=2)  # bright predicted bright
        examples = ev.query_one("#eval-examples")
        await wait_until(
            pilot, lambda: "bright → predicted bright" in str(ev.query_one("#eval-cell").render()),
            20, "the cell",
        )  # fmt: skip
        assert examples.option_count >= 2 and examples.highlighted == 0
        examples.focus()
        await pilot.pause()
        first = ev.heatmap_selected()
        await pilot.press("ctrl+k")
        assert ev.show_heatmap and first in ev.heatmaps  # asked for at once, in a worker
        await wait_until(pilot, lambda: ev.heatmaps.get(first) is not None, 120, "Grad-CAM")
        assert isinstance(ev.heatmaps[first], np.ndarray), ev.heatmaps[first]
        plain = ev.result.images[first]
        overlay = ev.heatmaps[first]
        assert overlay.shape == (SIZE, SIZE, 3) and overlay.dtype == np.uint8
        assert ev.heatmap_pixels(first, plain) is overlay and len(ev.heatmaps) == 1
        from cnntui.core.inference.open import open_model
        from cnntui.core.judge.explain.explainer import explain_inputs

        direct = explain_inputs(open_model(str(run.dir)), plain[None], np.array([1]))[0]
        np.testing.assert_array_equal(overlay, direct)  # Grad-CAM of the predicted class
        await pilot.press("down")  # the next example gets its own heatmap, the first is kept
        second = ev.heatmap_selected()
        await wait_until(
            pilot, lambda: isinstance(ev.heatmaps.get(second), np.ndarray), 120, "the next"
        )
        assert second != first and ev.heatmaps[first] is overlay
        await pilot.press("ctrl+k")  # off: the plain image again
        await pilot.pause()
        assert ev.heatmap_pixels(second, plain) is plain and ev.heatmaps[first] is overlay
