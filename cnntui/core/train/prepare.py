"""One prepare step: a :class:`TrainConfig` becomes entry, hyperparameters, data and model.

The training session, the learning-rate finder (``find_lr``, ``--lr auto``) and the
tuner's trials (through the session) all go through :func:`prepare`, so a sweep sees the
inputs of the run it is for: the same input size, rescaling, validation split (or the
test set as validation data, ``--validate-on test``), augmentation and label encoding.

- :func:`resolve`: the zoo entry and the hyperparameters (no Keras, no data; a bad
  setting raises ``ValueError`` before any work).
- :func:`prepare`: that, the seed, the input size and the data bundle (integer labels);
  on resume, what the first session chose and fitted (``config.json``).
- :class:`Prepared`: the result; :meth:`Prepared.compile` builds and compiles the model
  with the recipe, :meth:`Prepared.datasets` encodes the labels for its head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnntui.core.data.contract import DataOptions
from cnntui.core.errors import ConfigError
from cnntui.core.registry import ModelEntry
from cnntui.core.train.batch_augment import BatchAugment, apply
from cnntui.core.train.config import TrainConfig, hyperparameters
from cnntui.core.train.input_size import InputChoice, choose_input

# hyperparameters a resumed session takes from the first one (chosen or fitted there)
RECORDED_HYPERPARAMETERS = (
    "weights",
    "learning_rate",
    "lr_find",
    "warmup",
    "epoch_seconds_estimate",
    "ema",
    "ema_dropped",
)


@dataclass
class Resolved:
    """The zoo entry of a request and every hyperparameter of its run."""

    entry: ModelEntry
    hp: dict[str, Any]


@dataclass
class Prepared:
    """What a run trains: entry, hyperparameters, input size, data and batch augmentation.

    ``hp`` is the run's own dict: the steps after this one (``--lr auto``, ``--time``,
    the loss the head needs) complete it in place.
    """

    cfg: TrainConfig
    entry: ModelEntry
    hp: dict[str, Any]
    input_choice: InputChoice
    data_options: DataOptions
    bundle: Any  # a cnntui.core.data DataBundle, integer labels
    mixing: BatchAugment
    weights: Any = None  # a backbone's WeightsChoice (a new run's; a resume has its own)

    @property
    def samples(self) -> int:
        """Training images."""
        return int(self.bundle.counts.get("train", 0))

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps of one epoch (at least 1)."""
        samples = self.samples
        return math.ceil(samples / self.hp["batch_size"]) if samples else 1

    def compile(self, learning_rate: Any, total_steps: int = 0) -> tuple[Any, int, Any, str]:
        """Build the entry for the data and compile it with the recipe.

        Returns ``(model, output units, loss, label mode)`` (see ``recipe.compile_model``).
        """
        from cnntui.core.train.recipe import compile_model

        cfg = self.cfg
        return compile_model(
            self.entry, self.hp, self.bundle, self.mixing, learning_rate, total_steps,
            cfg.jit_compile, cfg.builder_args, self.weights, self.steps_per_epoch,
        )  # fmt: skip

    def datasets(self, label_mode: str, seed: int = 0) -> tuple[Any, Any, Any]:
        """(train, val, test) with labels encoded for ``label_mode``; the training split
        with the batch augmentation (MixUp, CutMix, …) seeded by ``seed``."""
        b = self.bundle
        k = b.num_classes
        train, val, test = (reencode_labels(ds, label_mode, k) for ds in (b.train, b.val, b.test))
        return apply(train, self.mixing, k, seed), val, test


def resolve(cfg: TrainConfig) -> Resolved:
    """The zoo entry (loading ``cfg.zoo`` first) and the run's hyperparameters.

    Raises ValueError for settings that cannot work together, before any work.
    """
    entry = cfg.entry()
    return Resolved(entry, hyperparameters(cfg, entry))


def prepare(
    cfg: TrainConfig,
    recorded: dict[str, Any] | None = None,
    initial_epoch: int = 0,
    weights: dict[str, Any] | None = None,
) -> Prepared:
    """Entry, hyperparameters, seed, input size and data of ``cfg`` (imports Keras).

    ``recorded`` is the ``config.json`` of a run being resumed: its hyperparameters
    (those the first session chose or fitted) and input size are kept. The seed is
    ``cfg.seed + initial_epoch``, as a resumed run's. ``weights``: a backbone's weights as
    the run's preflight resolved them (``WeightsChoice.to_dict()``), else resolved here.
    """
    import keras

    resolved = resolve(cfg)
    hp = resolved.hp
    if recorded is not None:
        keep_recorded(hp, cfg, recorded.get("hyperparameters") or {})
    keras.utils.set_random_seed(cfg.seed + initial_epoch)
    choice = input_choice(cfg, resolved.entry, (recorded or {}).get("input_choice"))
    options = data_options(cfg, hp, choice.shape)
    return Prepared(
        cfg=cfg,
        entry=resolved.entry,
        hp=hp,
        input_choice=choice,
        data_options=options,
        bundle=load_bundle(cfg, options),
        mixing=batch_augment(hp),
        weights=backbone_weights(cfg, resolved.entry, hp, weights) if recorded is None else None,
    )


def backbone_weights(
    cfg: TrainConfig, entry: ModelEntry, hp: dict[str, Any], known: dict[str, Any] | None = None
) -> Any:
    """A backbone entry's ``WeightsChoice`` (recorded in ``hp["weights"]``), else ``None``:
    ``known`` (what the run's preflight resolved and fetched), else resolved now."""
    if entry.pretrained is None:
        return None
    from cnntui.core.weights import WeightsChoice, resolve_weights

    choice = WeightsChoice(**known) if known else resolve_weights(cfg.weights, entry)
    hp["weights"] = choice.to_dict()
    return choice


def keep_recorded(hp: dict[str, Any], cfg: TrainConfig, recorded: dict[str, Any]) -> None:
    """Put back in ``hp`` what the first session chose and fitted (``recorded``: its
    hyperparameters); the epochs: the request's, else the first session's."""
    hp.update({k: recorded[k] for k in RECORDED_HYPERPARAMETERS if k in recorded})
    hp["epochs"] = int(cfg.epochs or recorded.get("epochs") or hp["epochs"])


def input_choice(
    cfg: TrainConfig, entry: ModelEntry, recorded: dict[str, Any] | None = None
) -> InputChoice:
    """The input size to train at: ``recorded`` (a resumed run's), else chosen now."""
    if recorded:
        return InputChoice(tuple(recorded["shape"]), recorded["reason"])
    from cnntui.core.data.sources import classify_source

    src = classify_source(cfg.data)
    where = str(src.path) if src.path else None
    return choose_input(entry, src.kind, where, cfg.input_shape, cfg.builder_args, cfg.seed)


def data_options(
    cfg: TrainConfig, hp: dict[str, Any], input_shape: tuple[int, int, int]
) -> DataOptions:
    """How the run loads its data (integer labels; ``--validate-on test`` holds nothing
    out of the training set)."""
    return DataOptions(
        input_shape=input_shape,
        label_mode="int",
        batch_size=hp["batch_size"],
        val_split=0.0 if cfg.validate_on == "test" else cfg.val_split,
        seed=cfg.seed,
        limit=cfg.limit,
        augment=cfg.augment or None,
        resize_mode=cfg.resize_mode,
        rescale=cfg.rescale,
    )


def load_bundle(cfg: TrainConfig, options: DataOptions) -> Any:
    """The data bundle of ``cfg`` loaded with ``options`` (the test set as validation
    data for ``--validate-on test``)."""
    from cnntui.core.data import load_data

    bundle = load_data(cfg.data, options)
    if cfg.validate_on == "test":
        use_test_as_validation(bundle)
    return bundle


def batch_augment(hp: dict[str, Any]) -> BatchAugment:
    """The run's batch augmentation (MixUp, CutMix, RandAugment, random erasing)."""
    ra = hp["randaugment"]
    return BatchAugment(hp["mixup"], hp["cutmix"], tuple(ra) if ra else None, hp["random_erasing"])


def use_test_as_validation(bundle: Any) -> None:
    """``--validate-on test``: the source's test set becomes the validation data (trained on
    the whole training set); a source without one is refused before any work."""
    if bundle.test is None:
        raise ConfigError(
            f"--validate-on test: {bundle.source} has no test set; use a keras dataset, a "
            "folder with test/, or an .npz with x_test/y_test (or --validate-on split)"
        )
    bundle.val, bundle.test = bundle.test, None
    bundle.counts["val"] = bundle.counts.pop("test")
    if "test" in bundle.ids:
        bundle.ids["val"] = bundle.ids.pop("test")


def reencode_labels(dataset: Any, label_mode: str, num_classes: int) -> Any:
    """Map int labels of a batched dataset to ``binary`` or ``categorical``."""
    if dataset is None or label_mode == "int":
        return dataset
    from cnntui.core.data.py_pipeline import is_python_dataset

    if is_python_dataset(dataset):
        import numpy as np

        if label_mode == "binary":
            return dataset.map(lambda x, y: (x, np.asarray(y, np.float32).reshape(-1, 1)))
        eye = np.eye(num_classes, dtype=np.float32)
        return dataset.map(lambda x, y: (x, eye[np.asarray(y, np.int64)]))
    import tensorflow as tf

    if label_mode == "binary":
        return dataset.map(lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32), (-1, 1))))
    return dataset.map(lambda x, y: (x, tf.one_hot(tf.cast(y, tf.int32), num_classes)))
