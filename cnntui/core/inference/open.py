"""Open a model for inference: a run's checkpoint, a bare ``.keras`` file or an exported
model, with what is needed to feed it and name its outputs (:class:`LoadedModel`).

:func:`open_for_inference` is the one door the CLI, the TUI and evaluation use: it applies
the run's temperature (``cnntui calibrate``) unless asked not to, so every face shows the
same probabilities for the same image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnntui.core.checkpoints import (
    CheckpointError,
    check_input,
    find_checkpoint,
    load_keras_model,
    model_input_shape,
    output_is_logits,
    parse_labels,
    run_facts,
)
from cnntui.core.images import Preprocessing
from cnntui.core.runs import Run


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
    model_shape = model_input_shape(model, path)
    units = output_units(model)
    pre, names = run_facts(run) if run else (None, None)
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
        logits=output_is_logits(model),
        run=run,
        notes=notes,
    )


def open_exported(path: str | Path, labels: list[str] | None = None) -> LoadedModel:
    """Open an exported model in its own runtime, fed as ``preprocessing.json`` says."""
    from cnntui.core.errors import ExportError
    from cnntui.core.inference.runtimes import open_runtime
    from cnntui.core.inference.sidecars import LABELS, PREPROCESSING, find_sidecar
    from cnntui.core.inference.sidecars import read_preprocessing as read_pre

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
    units = int(doc.get("units") or 0) or probe_units(runtime, pre)
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


def probe_units(runtime: Any, pre: Preprocessing) -> int:
    """The number of output units, from one batch of zeros."""
    import numpy as np

    return int(runtime.predict(np.zeros((1, *pre.input_shape), np.float32)).shape[-1])


def open_for_inference(
    run_ref: str | None = None,
    checkpoint: str | Path | None = None,
    *,
    model: str | Path | None = None,
    labels: list[str] | None = None,
    unsafe: bool = False,
    which: str = "best",
    calibration: bool = True,
) -> LoadedModel:
    """The model every face and evaluation predicts with: an exported file (``model``) in its
    own runtime, else a run's or a bare checkpoint, with the run's stored temperature applied
    unless ``calibration`` is false (``loaded.notes`` says which)."""
    from cnntui.core.inference.calibration import use_run_calibration

    if model:
        return open_exported(model, labels=labels)
    loaded = open_model(run_ref, checkpoint, labels=labels, unsafe=unsafe, which=which)
    if calibration and (note := use_run_calibration(loaded)):
        loaded.notes.append(note)
    return loaded
