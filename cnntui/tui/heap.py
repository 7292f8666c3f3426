"""Keep the garbage collector's full collections short while the workbench runs."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, then leave every object alive now out of later collections.

    Once the app has started, the heap holds ~110,000 objects (modules, styles, widgets)
    that live as long as it does; a full collection walks all of them, and one paused a
    followed run's repaint by ~70 ms every few seconds (chart builds leave cyclic garbage).
    Called after start-up and once a screen is built; costs one collection each time.
    """
    gc.collect()
    gc.freeze()
