"""Scale and speed switches: distribution over devices, mixed precision.

``default`` trains on one device; ``mirrored`` replicates over every visible GPU (or, on
a CPU-only machine, over every logical CPU device, which is how the tests exercise it);
``multiworker`` is ``MultiWorkerMirroredStrategy`` configured by the ``TF_CONFIG``
environment variable. Per backend:

- TensorFlow: ``tf.distribute`` (``MirroredStrategy``, ``MultiWorkerMirroredStrategy``),
  made before TensorFlow runs its first op; ``CNNTUI_CPU_DEVICES=N`` splits the CPU.
- JAX: ``mirrored`` is ``keras.distribution.DataParallel`` over the local devices (on a CPU,
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX starts gives N);
  ``multiworker`` is refused (TensorFlow only).
- PyTorch: one device; Keras 3 has no data-parallel ``fit`` for it, so ``mirrored`` and
  ``multiworker`` are refused before any work.

Mixed precision is ``mixed_float16`` on a GPU and ``mixed_bfloat16`` on a CPU, on every
backend.
"""

from __future__ import annotations

import os
from typing import Any

from cnntui.core.train import multiworker

STRATEGIES = ("default", "mirrored", "multiworker")
CPU_DEVICES_ENV = "CNNTUI_CPU_DEVICES"


def check_strategy(name: str, backend: str | None = None) -> str:
    """Validate a ``--strategy`` value for ``backend`` (default: this process's), and
    ``TF_CONFIG`` for ``multiworker``; ``ValueError`` saying what to use instead."""
    from cnntui.core import backend as backends

    if name not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}; got {name!r}")
    chosen = backend or backends.current()
    if name == "multiworker" and chosen != "tensorflow":
        here = "mirrored (every device of this machine)" if chosen == "jax" else "default"
        raise ValueError(
            f"--strategy multiworker is TensorFlow's MultiWorkerMirroredStrategy and Keras "
            f"runs on {chosen} here: use --backend tensorflow for several machines, or "
            f"--strategy {here}"
        )
    if name == "mirrored" and chosen == "torch":
        raise ValueError(
            "--strategy mirrored: Keras 3 has no data-parallel fit for the torch backend "
            "(keras.distribution is JAX-only); use --backend jax or --backend tensorflow "
            "for several devices, or --strategy default (one device)"
        )
    if name == "multiworker":
        multiworker.tf_config_task()
    return name


def split_cpu(count: int) -> None:
    """Expose ``count`` logical CPU devices (must run before TensorFlow initialises)."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
    )


class KerasDistribution:
    """What training needs of a strategy off TensorFlow: ``scope()`` and the replica count.

    ``distribution`` (a ``keras.distribution.Distribution``, or None for one device) is
    also set globally, so ``fit``, ``evaluate`` and ``predict`` shard batches over it.
    """

    def __init__(self, distribution: Any = None) -> None:
        self.distribution = distribution
        mesh = getattr(distribution, "device_mesh", None)
        self.num_replicas_in_sync = int(mesh.devices.size) if mesh is not None else 1
        self.name = type(distribution).__name__ if distribution is not None else "OneDevice"

    def scope(self) -> Any:
        from contextlib import nullcontext

        return self.distribution.scope() if self.distribution is not None else nullcontext()


def _data_parallel(devices: list[str]) -> Any:
    """``DataParallel`` over ``devices``; a batch that does not split evenly (an epoch's
    last, short one) runs replicated on every device instead of failing.

    Keras 3.15's JAX epoch iterator takes every batch's layout from the first batch; it is
    patched (once) to ask for each batch's, as ``keras.src.backend.jax.trainer`` does
    for the non-lazy path.
    """
    import keras
    from keras.distribution import TensorLayout
    from keras.src.backend.jax import trainer

    def per_batch_layouts(self, distribution):
        for data in self.data_adapter.get_jax_iterator():
            yield trainer._distribute_data(data)

    trainer.JAXEpochIterator._get_distributed_iterator = per_batch_layouts

    class DataParallel(keras.distribution.DataParallel):
        def get_data_layout(self, data_shape):
            if data_shape and data_shape[0] and data_shape[0] % self.num_model_replicas:
                return TensorLayout([None] * len(data_shape), self.device_mesh)
            return super().get_data_layout(data_shape)

    return DataParallel(devices=devices)


def _keras_strategy(name: str) -> KerasDistribution:
    """JAX/PyTorch: one device, or (JAX, ``mirrored``) data parallel over the local ones."""
    import keras

    if name == "default":
        if hasattr(keras.distribution, "set_distribution"):
            keras.distribution.set_distribution(None)
        return KerasDistribution()
    gpus = keras.distribution.list_devices("gpu") if gpu_count() else []
    dist = _data_parallel(gpus or keras.distribution.list_devices("cpu"))
    keras.distribution.set_distribution(dist)
    return KerasDistribution(dist)


def gpu_count() -> int:
    """GPUs the active Keras backend can use."""
    from cnntui.core import backend

    chosen = backend.current()
    if chosen == "jax":
        import jax

        return sum(d.platform == "gpu" for d in jax.devices())
    if chosen == "torch":
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    import tensorflow as tf

    return len(tf.config.list_logical_devices("GPU"))


def make_strategy(name: str = "default"):
    """The strategy for ``name``: a ``tf.distribute.Strategy`` on TensorFlow, else a
    :class:`KerasDistribution` (:func:`check_strategy` refuses what a backend lacks)."""
    from cnntui.core import backend

    check_strategy(name)
    if not backend.is_tensorflow():
        return _keras_strategy(name)
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
        multiworker.enable()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if tf.config.list_logical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(devices=devices)


def set_precision(mixed: bool) -> str:
    """Set Keras's global dtype policy; returns the policy name."""
    import keras

    if not mixed:
        policy = "float32"
    else:
        policy = "mixed_float16" if gpu_count() else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def describe(strategy) -> dict[str, Any]:
    """Name and replica count, for ``config.json``."""
    name = strategy.name if isinstance(strategy, KerasDistribution) else type(strategy).__name__
    return {"class": name, "replicas": int(getattr(strategy, "num_replicas_in_sync", 1))}
