"""Build a compiled model's optimizer, loss and metrics before ``fit`` on TensorFlow.

Without a distribution strategy, Keras 3's TensorFlow trainer leaves that state to be
created while the train step is traced; a ``tf.function`` that creates variables on its
first trace is traced a second time, so every run paid for its train step twice (about
0.3 s for a small CNN on the 2-core machine, more for BatchNorm ResNets). Building the
state first, from the data's element spec, as Keras itself does under a strategy
(``Trainer._symbolic_build``), leaves one trace; the JAX and PyTorch trainers already build
it before their first step.
"""

from __future__ import annotations

from typing import Any


def build_before_fit(model: Any, dataset: Any) -> bool:
    """Create ``model``'s training state from ``dataset``'s element spec; True if it did.

    Only on TensorFlow and for a ``tf.data.Dataset``; anything else is left to Keras, which
    builds the same state while tracing (slower, never wrong).
    """
    from cnntui.core import backend

    spec = getattr(dataset, "element_spec", None)
    if not backend.is_tensorflow() or spec is None or not hasattr(model, "_symbolic_build"):
        return False
    batch = tuple(spec) if isinstance(spec, tuple) else (spec,)
    try:
        model._symbolic_build(data_batch=batch)
    except (AttributeError, TypeError, ValueError, NotImplementedError):
        return False  # Keras builds it while tracing, as without this step
    return True
