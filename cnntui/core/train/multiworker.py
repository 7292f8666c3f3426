"""Multi-worker training (``--strategy multiworker``): what Keras 3 needs, and who writes.

Keras 3.15's TensorFlow trainer does not run ``fit`` under
``tf.distribute.MultiWorkerMirroredStrategy`` (keras-team/keras#20585, open): its symbolic
build reduces the first *data batch* across workers, and its step function averages the
scalar logs with ``axis=0``; both fail at the first step ("Attempt to convert a value
(PerReplica…) to a Tensor", "Invalid reduction dimension 0"). :func:`enable` replaces
those two pieces, for multi-worker runs only: the build uses this worker's part of the
batch (only its shapes matter), and scalar logs are averaged across workers with
``axis=None``. Gradients are all-reduced by the strategy as usual, so every worker holds
the same weights and logs the same values.

As TensorFlow's multi-worker guide prescribes, only the chief (worker 0, or the task of
type ``chief``) writes the run directory; the other workers write theirs in a temporary
folder that is removed when they finish. The cluster is read from ``TF_CONFIG``
(:func:`tf_config_task`, :func:`is_chief`); ``strategy.py`` imports this module, never
the reverse.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

SCRATCH_PREFIX = "cnntui-worker-"
_enabled = False


def enable() -> None:
    """Make Keras's TensorFlow trainer work under MultiWorkerMirroredStrategy (idempotent)."""
    global _enabled
    if _enabled:
        return
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    keras_reduce = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):

            def mean(v):
                rank = getattr(getattr(v, "shape", None), "rank", None)
                return strategy.reduce("MEAN", v, axis=0 if rank else None)

            return tree.map_structure(mean, values)
        return keras_reduce(values, strategy, reduction)

    def maybe_symbolic_build(self, iterator=None, data_batch=None):
        if self._distribute_strategy is None:
            return
        local = self.distribute_strategy.experimental_local_results
        if iterator is not None:
            for _, _, it in iterator:
                batch = next(it)
                data_batch = tree.map_structure(
                    lambda v: local(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v,
                    batch,
                )
                break
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    tf_trainer.reduce_per_replica = reduce_per_replica
    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
    _enabled = True


def tf_config_task() -> dict[str, Any]:
    """The ``task`` of a valid ``TF_CONFIG``; raise ValueError saying what is wrong."""
    raw = os.environ.get("TF_CONFIG")
    example = (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not raw:
        raise ValueError(
            f"--strategy multiworker needs the TF_CONFIG environment variable, "
            f"e.g. TF_CONFIG='{example}'"
        )
    try:
        cfg = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"TF_CONFIG is not valid JSON ({exc}); expected e.g. {example}") from None
    task = cfg.get("task") if isinstance(cfg, dict) else None
    workers = (cfg.get("cluster") or {}).get("worker") if isinstance(cfg, dict) else None
    if not isinstance(task, dict) or not workers:
        raise ValueError(
            f"TF_CONFIG needs a cluster with workers and a task; expected e.g. {example}"
        )
    return task


def is_chief() -> bool:
    """False on a non-chief worker of a multi-worker cluster."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return True
    try:
        task = json.loads(raw).get("task") or {}
    except (ValueError, AttributeError):
        return True
    return task.get("type") in (None, "chief") or (
        task.get("type") == "worker"
        and int(task.get("index", 0)) == 0
        and "chief" not in (json.loads(raw).get("cluster") or {})
    )


def scratch_runs_dir() -> str:
    """A temporary runs folder for a non-chief worker."""
    task = tf_config_task()
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{task.get('type')}{task.get('index')}-")


def writes_run(strategy: str) -> bool:
    """Whether this process writes the real run directory."""
    return strategy != "multiworker" or is_chief()


def is_scratch(run_dir: Path) -> bool:
    """Whether ``run_dir`` is a non-chief worker's temporary run."""
    return Path(run_dir).parent.name.startswith(SCRATCH_PREFIX)


def remove_scratch(run_dir: Path) -> None:
    """Remove a non-chief worker's temporary runs folder (never a real run)."""
    if is_scratch(run_dir):
        shutil.rmtree(Path(run_dir).parent, ignore_errors=True)
