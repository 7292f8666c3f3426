"""Scale and speed switches: ``tf.distribute`` strategies, mixed precision, XLA.

``default`` trains on one device; ``mirrored`` replicates over every visible GPU (or, on
a CPU-only machine, over every logical CPU device, which is how the tests exercise it);
``multiworker`` is ``MultiWorkerMirroredStrategy`` configured by the ``TF_CONFIG``
environment variable. Strategies must be made before TensorFlow runs its first op.
"""

from __future__ import annotations

import json
import os
from typing import Any

STRATEGIES = ("default", "mirrored", "multiworker")
CPU_DEVICES_ENV = "CNNTUI_CPU_DEVICES"


def check_strategy(name: str) -> str:
    """Validate a ``--strategy`` value (and ``TF_CONFIG`` for ``multiworker``)."""
    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}; got {name!r}")
    if name == "multiworker":
        tf_config_task()
    return name


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


def split_cpu(count: int) -> None:
    """Expose ``count`` logical CPU devices (must run before TensorFlow initialises)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


class OneDevice:
    """``default`` on a backend other than TensorFlow: Keras places the model itself."""

    num_replicas_in_sync = 1

    def scope(self):
        import contextlib

        return contextlib.nullcontext()


def make_strategy(name: str = "default"):
    """The ``tf.distribute.Strategy`` for ``name`` (:class:`OneDevice` off TensorFlow)."""
    from cnntui.core import backend

    check_strategy(name)
    if not backend.is_tensorflow():
        if name != "default":
            raise backend.BackendError(
                f"--strategy {name} is TensorFlow's tf.distribute and Keras runs on "
                f"{backend.current()}; use --strategy default (or --backend tensorflow)"
            )
        return OneDevice()
    import tensorflow as tf

    cpus = int(os.environ.get(CPU_DEVICES_ENV) or 0)
    if cpus > 1:
        try:
            split_cpu(cpus)
        except RuntimeError:
            pass  # already initialised: keep what exists
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multiworker":
        from cnntui.core.train import multiworker

        multiworker.enable()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if tf.config.list_logical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


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


def set_precision(mixed: bool) -> str:
    """Set Keras's global dtype policy; returns the policy name."""
    import keras

    if not mixed:
        policy = "float32"
    else:
        policy = "mixed_float16" if _has_gpu() else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _has_gpu() -> bool:
    from cnntui.core import backend

    if backend.is_tensorflow():
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    import keras

    return bool(keras.distribution.list_devices("gpu")) if hasattr(keras, "distribution") else False


def describe(strategy) -> dict[str, Any]:
    """Name and replica count, for ``config.json``."""
    return {
        "class": type(strategy).__name__,
        "replicas": int(getattr(strategy, "num_replicas_in_sync", 1)),
    }
