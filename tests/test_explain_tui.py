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
