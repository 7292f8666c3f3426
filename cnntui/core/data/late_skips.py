"""Files that epoch 1's decode found unreadable, announced when the epoch ends.

The structural pass names most bad files before training (the ``begin`` event); a file
damaged past its header is found while epoch 1 decodes it and dropped from its batch. This
Keras callback turns those into a ``skipped`` event per epoch (``skipped``: how many are
new, ``skipped_files``: them, ``total``: all so far) and rewrites the run's ``skipped.txt``;
it fails the run when not one training image could be decoded.
Keras is imported only when the callback is made (training has started).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnntui.core.atomic import atomic_write_text
from cnntui.core.data.contract import DataBundle
from cnntui.core.data.errors import DataError

SKIPPED_IN_EVENT = 20  # the full list is in skipped.txt


def skipped_text(skipped: list[dict[str, str]]) -> str:
    """The lines of ``skipped.txt``: ``path<TAB>reason``."""
    return "".join(f"{s.get('path')}\t{s.get('reason')}\n" for s in skipped)


def late_skip_callback(bundle: DataBundle, log: Any, skipped_txt: str | Path):
    """A ``keras.callbacks.Callback`` announcing files each epoch newly skipped via ``log``
    (anything with ``emit(kind, **fields)``) and keeping ``skipped_txt`` complete."""
    import keras

    # The begin event, made with this callback, announces these. Not at on_train_begin: a
    # PyDataset's workers (and Keras under JAX, to build the model) start decoding before it.
    bundle.new_skips()

    class LateSkips(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            new = bundle.new_skips()
            if not new:
                return
            atomic_write_text(skipped_txt, skipped_text(bundle.skipped))
            log.emit(
                "skipped", epoch=epoch + 1, skipped=len(new),
                skipped_files=new[:SKIPPED_IN_EVENT], total=len(bundle.skipped),
            )  # fmt: skip
            if bundle.store is not None and bundle.store.none_decoded():
                first = new[0]
                raise DataError(
                    f"none of the {bundle.counts.get('train', 0)} training images in "
                    f"{bundle.source} could be decoded (first: {first['path']}: "
                    f"{first['reason']}); all are listed in {skipped_txt}"
                )

    return LateSkips()
