"""Opening a saved ``.keras`` checkpoint with what is needed to use it on images.

A run's checkpoint comes with its recorded preprocessing and class names (``config.json``);
a bare checkpoint from plain Keras gets its input size from the model and labels from the
user or indices. Checkpoints load in Keras safe mode: code inside a ``Lambda`` layer never
runs unless the caller passes ``unsafe=True``. An exported model (``cnntui export``: a
.tflite or .onnx file, a SavedModel folder) opens in its own runtime with the
``preprocessing.json`` and ``labels.txt`` written beside it (:func:`open_exported`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnntui.core.errors import CnntuiError
from cnntui.core.images import Preprocessing
from cnntui.core.runs import Run, RunNotFoundError, list_runs, resolve_run

DEFAULT_RUN = "latest-finished"


class CheckpointError(CnntuiError, ValueError):
    """A checkpoint that cannot be used, with a message saying what to do."""


@dataclass
class LoadedModel:
    """A Keras model plus the facts needed to feed it and name its outputs."""

    model: Any
    path: Path
    preprocessing: Preprocessing
    class_names: list[str]
    units: int
    logits: bool = False
    run: Run | None = None
    notes: list[str] = field(default_factory=list)
    runtime: Any = None  # an exported model's runtime (``predict(x)`` → raw output) instead
    temperature: float = 1.0  # temperature scaling (cnntui.core.calibration); 1: none

    @property
    def binary(self) -> bool:
        """A one-unit sigmoid head: the output is p(class 1), class 0 is ``1 - p``."""
        return self.units == 1

    @property
    def num_classes(self) -> int:
        return 2 if self.binary else self.units


def parse_labels(spec: str | None) -> list[str] | None:
    """``--labels``: a file with one label per line, or a comma-separated list."""
    if not spec:
        return None
    path = Path(spec).expanduser()
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"cannot read labels file {path}: {exc}") from None
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        labels = [part.strip() for part in spec.split(",")]
        if len(labels) == 1 and ("/" in spec or spec.endswith(".txt")):
            raise CheckpointError(f"labels file {spec} does not exist")
    if not labels or any(not label for label in labels):
        raise CheckpointError(f"--labels {spec!r} has an empty label")
    return labels


def find_checkpoint(
    run_ref: str | None = None, checkpoint: str | Path | None = None, which: str = "best"
) -> tuple[Path, Run | None]:
    """The checkpoint file to use and its run (``None`` for a bare ``--checkpoint``)."""
    if checkpoint:
        path = Path(checkpoint).expanduser()
        if path.is_dir():
            raise CheckpointError(
                f"{path} is a folder; --checkpoint takes a .keras file (use --run for a run folder)"
            )
        if not path.exists():
            raise CheckpointError(f"checkpoint {path} does not exist")
        run = Run(path.resolve().parent) if (path.parent / "config.json").exists() else None
        return path, run
    try:
        run = resolve_run(run_ref or DEFAULT_RUN)
    except RunNotFoundError as exc:
        others = list_runs() if (run_ref or DEFAULT_RUN) == DEFAULT_RUN else []
        if others:
            newest = others[-1]
            raise CheckpointError(
                f"no finished run yet (newest: {newest.id}, {newest.status}); pass "
                f"--run {newest.id[-4:]} to use its checkpoint so far, or train one with "
                "`cnntui train MODEL`"
            ) from None
        if (run_ref or DEFAULT_RUN) == DEFAULT_RUN:
            raise CheckpointError(
                f"no trained model yet ({exc}). Train one first, e.g. "
                "`cnntui train mnist-2conv --epochs 1`, or pass --checkpoint FILE.keras"
            ) from None
        raise CheckpointError(str(exc)) from None
    path = run.checkpoint(which)
    if not path.exists():
        raise CheckpointError(
            f"run {run.id} has no checkpoint yet ({path.name} missing; status: {run.status}); "
            "wait for its first epoch to finish or train again"
        )
    return path, run


def _load_zoo(zoo_files: list[str]) -> None:
    from cnntui.core.registry import load_zoo

    load_zoo([f for f in zoo_files if Path(f).exists()])


def load_keras_model(path: str | Path, unsafe: bool = False, zoo_files: list[str] = ()) -> Any:
    """``keras.models.load_model`` in safe mode (unless ``unsafe``), without compiling.

    A checkpoint using custom layers registered by a zoo file is retried once after the zoo
    (and ``zoo_files``, e.g. the run's own definition file) has been loaded.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise CheckpointError(f"{path}: expected a Keras 3 .keras file")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a valid .keras file (truncated or not a zip)")
    import keras

    from cnntui.core import jax_ops

    jax_ops.install()

    try:
        try:
            return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
        except TypeError as exc:
            if "Could not locate" not in str(exc):
                raise
            _load_zoo(list(zoo_files))
            return keras.models.load_model(path, compile=False, safe_mode=not unsafe)
    except Exception as exc:  # noqa: BLE001 - any failure is reported as one line
        text = str(exc)
        if "safe_mode" in text or "unsafe" in text.lower():
            raise CheckpointError(
                f"{path} contains a Lambda layer with Python code, which Keras safe mode "
                "refuses to run. Only if you trust where this file came from, pass --unsafe"
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        from cnntui.core import backend

        hint = "" if backend.is_tensorflow() else (
            f"Keras runs on {backend.current()} here: a layer that needs TensorFlow loads "
            "with --backend tensorflow"
        )  # fmt: skip
        raise CheckpointError(f"cannot load checkpoint {path}: {first[:300]}", hint=hint) from None


def _output_is_logits(model: Any) -> bool:
    last = model.layers[-1] if model.layers else None
    act = getattr(last, "activation", None)
    name = getattr(act, "__name__", "") if act is not None else ""
    return name == "linear"


def _input_shape(model: Any, path: Path) -> tuple:
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise CheckpointError(f"{path}: models with {len(shape)} inputs are not supported")
        shape = shape[0]
    if len(shape) != 4:
        raise CheckpointError(f"{path}: expected an image input (batch, H, W, C); got {shape}")
    return tuple(shape[1:])


def check_input(model_shape: tuple, pre: Preprocessing, path: Path, run: Run | None) -> None:
    """Raise if the model's input does not match the run's recorded preprocessing."""
    want = pre.input_shape
    if any(m is not None and int(m) != w for m, w in zip(model_shape, want, strict=True)):
        where = f"run {run.id}" if run else "the given preprocessing"
        shown = "x".join("?" if m is None else str(m) for m in model_shape)
        raise CheckpointError(
            f"{path} expects input {shown} but {where} recorded preprocessing for "
            f"{'x'.join(map(str, want))} ({pre.color_mode}); this checkpoint does not belong "
            "to that run: pass the matching --run, or --checkpoint alone"
        )


def _run_facts(run: Run) -> tuple[Preprocessing | None, list[str] | None]:
    cfg = run.config
    data = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
    pre = None
    if isinstance(data.get("preprocessing"), dict):
        pre = Preprocessing.from_dict(data["preprocessing"])
    elif cfg.get("input_shape"):
        pre = Preprocessing.for_input_shape(tuple(cfg["input_shape"]))
    names = data.get("class_names") or cfg.get("class_names")
    return pre, [str(n) for n in names] if names else None


def open_model(
    run_ref: str | None = None,
    checkpoint: str | Path | None = None,
    labels: list[str] | None = None,
    unsafe: bool = False,
    which: str = "best",
) -> LoadedModel:
    """Find, load and check a checkpoint; raise :class:`CheckpointError` with advice."""
    from cnntui.core.heads import output_units

    path, run = find_checkpoint(run_ref, checkpoint, which)
    zoo_files = [run.config.get("source_file", "")] if run else []
    model = load_keras_model(path, unsafe=unsafe, zoo_files=[f for f in zoo_files if f])
    model_shape = _input_shape(model, path)
    units = output_units(model)
    pre, names = _run_facts(run) if run else (None, None)
    notes = []
    if pre is None:
        if any(d is None for d in model_shape[:2]) or model_shape[2] not in (1, 3):
            raise CheckpointError(
                f"{path}: cannot tell the image size from the model input "
                f"{model_shape}; use a checkpoint with a fixed H x W x 1|3 input"
            )
        pre = Preprocessing.for_input_shape(model_shape)
        notes.append(
            f"no run config: input {pre.input_shape} taken from the model, pixels scaled to [0, 1]"
        )
    else:
        check_input(model_shape, pre, path, run)
    num_classes = 2 if units == 1 else units
    if labels:
        names = labels
    if names is None:
        names = [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise CheckpointError(
            f"{path} has {num_classes} output classes but {len(names)} labels were given "
            f"({', '.join(names[:5])}{'…' if len(names) > 5 else ''})"
        )
    return LoadedModel(
        model=model,
        path=path,
        preprocessing=pre,
        class_names=list(names),
        units=units,
        logits=_output_is_logits(model),
        run=run,
        notes=notes,
    )


def open_exported(path: str | Path, labels: list[str] | None = None) -> LoadedModel:
    """Open an exported model in its own runtime, fed as ``preprocessing.json`` says."""
    from cnntui.core.export.formats import ExportError
    from cnntui.core.export.runtimes import open_runtime
    from cnntui.core.export.sidecars import LABELS, PREPROCESSING, find_sidecar
    from cnntui.core.export.sidecars import read_preprocessing as read_pre

    path = Path(path).expanduser()
    try:
        runtime = open_runtime(path)
    except ExportError as exc:
        raise CheckpointError(str(exc)) from None
    notes: list[str] = []
    pre_file = find_sidecar(path, PREPROCESSING)
    doc: dict[str, Any] = {}
    if pre_file is not None:
        pre, doc = read_pre(pre_file)
        shape = runtime.input_shape
        if len(shape) != 3 or any(
            m is not None and int(m) != w for m, w in zip(shape, pre.input_shape, strict=True)
        ):
            raise CheckpointError(
                f"{path} expects input {shape} but {pre_file} describes "
                f"{'x'.join(map(str, pre.input_shape))} ({pre.color_mode}); keep each model "
                "with the preprocessing.json exported with it"
            )
    else:
        shape = runtime.input_shape
        if len(shape) != 3 or any(d is None for d in shape[:2]) or shape[2] not in (1, 3):
            raise CheckpointError(
                f"{path}: no {PREPROCESSING} beside it and the input {shape} does not say "
                "the image size; put the preprocessing.json from `cnntui export` next to it"
            )
        pre = Preprocessing.for_input_shape(shape)
        notes.append(
            f"no {PREPROCESSING}: input {pre.input_shape} taken from the model, "
            "pixels scaled to [0, 1]"
        )
    units = int(doc.get("units") or 0) or _probe_units(runtime, pre)
    names = labels or doc.get("class_names")
    label_file = find_sidecar(path, LABELS)
    if not labels and label_file is not None:
        names = parse_labels(str(label_file))
    num_classes = 2 if units == 1 else units
    names = [str(n) for n in names] if names else [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise CheckpointError(
            f"{path} has {num_classes} output classes but {len(names)} labels were given"
        )
    return LoadedModel(
        model=None,
        path=path,
        preprocessing=pre,
        class_names=names,
        units=units,
        logits=doc.get("output") == "logits",
        notes=notes,
        runtime=runtime,
    )


def _probe_units(runtime: Any, pre: Preprocessing) -> int:
    import numpy as np

    return int(runtime.predict(np.zeros((1, *pre.input_shape), np.float32)).shape[-1])
