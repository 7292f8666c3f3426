"""Keep the garbage collector's full collections short while the workbench runs."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect, then leave every object alive now out of later collections.

    Once the app has started, the heap holds ~110,000 objects (modules, styles, widgets)
    that live as long as it does; a full collection walks all of them, and one paused a
    followed run's repaint by ~70 ms every few seconds (chart builds leave cyclic garbage).
    Called after start-up and once the Train screen is built; what an earlier call froze
    and has died since is collected first.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def release_heap() -> None:
    """Hand every frozen object back to the collector (the app is closing)."""
    gc.unfreeze()
