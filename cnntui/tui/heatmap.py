"""The heatmap key of screens with an image list (Predict, Evaluate): Ctrl+K toggles a
Grad-CAM overlay over the selected image, computed in a worker the first time and cached
per image, so the screen never waits on TensorFlow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from textual import work
from textual.binding import Binding

from cnntui.core.errors import CnntuiError
from cnntui.tui.messages import HeatmapReady

HEATMAP_BINDING = Binding("ctrl+k", "heatmap", "Heatmap")


class HeatmapToggle:
    """Mixin for a screen: the screen says which image is selected (``heatmap_selected``),
    how to compute its overlay (``heatmap_job``) and how to redraw it (``heatmap_redraw``);
    this holds the toggle, the cache and the worker."""

    show_heatmap: bool = False
    heatmap_generation: int = 0

    def reset_heatmaps(self) -> None:
        """Forget every cached overlay (new images or a new model)."""
        self.heatmaps: dict[int, Any] = {}  # index -> overlay, None while computing, or why not
        self.heatmap_generation += 1

    def heatmap_selected(self) -> int | None:
        raise NotImplementedError

    def heatmap_job(self, index: int) -> Callable[[], np.ndarray] | None:
        """A function (run in a worker thread) returning image ``index``'s uint8 RGB overlay,
        raising ``ValueError`` or ``CnntuiError`` saying why there is none; None: no job."""
        raise NotImplementedError

    def heatmap_redraw(self) -> None:
        raise NotImplementedError

    def action_heatmap(self) -> None:
        """Toggle the Grad-CAM heatmap over the selected image."""
        self.show_heatmap = not self.show_heatmap
        i = self.heatmap_selected()
        if i is not None:
            self.ensure_heatmap(i)
        self.heatmap_redraw()

    def ensure_heatmap(self, index: int) -> None:
        """Start computing image ``index``'s overlay if it is wanted and not cached."""
        if self.show_heatmap and index not in self.heatmaps:
            job = self.heatmap_job(index)
            if job is not None:
                self.heatmaps[index] = None  # being computed
                self.heatmap_worker(index, job, self.heatmap_generation)

    @work(thread=True, group="heatmap", exit_on_error=False, name="Explaining")
    def heatmap_worker(self, index: int, job: Callable[[], np.ndarray], generation: int) -> None:
        try:
            message = HeatmapReady(index, job(), generation=generation)
        except (ValueError, CnntuiError) as exc:  # e.g. a model with no spatial layer
            message = HeatmapReady(index, None, str(exc), generation)
        except Exception as exc:  # a bug: say so beside the image, and let the funnel report it
            self.post_message(HeatmapReady(index, None, repr(exc), generation))  # type: ignore[attr-defined]
            raise
        self.post_message(message)  # type: ignore[attr-defined]

    def on_heatmap_ready(self, message: HeatmapReady) -> None:
        if message.generation != self.heatmap_generation:
            return  # computed for images that have been replaced since
        self.heatmaps[message.index] = (
            message.overlay if message.overlay is not None else message.error or "failed"
        )
        if message.index == self.heatmap_selected():
            self.heatmap_redraw()

    def heatmap_pixels(self, index: int, plain: Any) -> Any:
        """The overlay of image ``index`` when toggled on and ready, else ``plain``."""
        if self.show_heatmap and isinstance(self.heatmaps.get(index), np.ndarray):
            return self.heatmaps[index]
        return plain

    def heatmap_note(self, index: int) -> str | None:
        """Why image ``index`` has no heatmap (toggled on, computation failed), else None."""
        reason = self.heatmaps.get(index)
        return f"no heatmap: {reason}" if self.show_heatmap and isinstance(reason, str) else None
