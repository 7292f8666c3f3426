"""Where a resumed run starts: the last epoch committed in ``state.json``.

The callbacks' counters (early stopping, reduce-LR, best so far) are saved per epoch in
``state.json`` and put back by the resumable callbacks (``callbacks/base.py``); the
optimizer's state and the learning rate live in ``last.keras`` itself.
"""

from __future__ import annotations

from cnntui.core.runs import HISTORY, LAST, Run
from cnntui.core.train.checkpoint import read_state, truncate_history


def resume_point(run: Run) -> int:
    """Completed epochs to resume after (0 when there is no usable ``last.keras``).

    Also drops ``history.csv`` rows of epochs that were not committed.
    """
    done = int(read_state(run).get("epochs_completed") or 0)
    if not run.path(LAST).exists():
        done = 0
    truncate_history(run.path(HISTORY), done)
    return done
