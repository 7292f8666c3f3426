"""Finding and loading a saved ``.keras`` checkpoint, and the facts its run recorded.

A run's checkpoint comes with its recorded preprocessing and class names (``config.json``);
a bare checkpoint from plain Keras gets its input size from the model and labels from the
user or indices. Checkpoints load in Keras safe mode: code inside a ``Lambda`` layer never
runs unless the caller passes ``unsafe=True``. An exported model (``cnntui export``: a
.tflite or .onnx file, a SavedModel folder) opens in its own runtime with the
``preprocessing.json`` and ``labels.txt`` written beside it; opening either for inference
is :mod:`cnntui.core.inference.open`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from cnntui.core.errors import CnntuiError
from cnntui.core.images import Preprocessing
from cnntui.core.runs import Run, RunNotFoundError, list_runs, resolve_run

DEFAULT_RUN = "latest-finished"


class CheckpointError(CnntuiError, ValueError):
    """A checkpoint that cannot be used, with a message saying what to do."""


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


def output_is_logits(model: Any) -> bool:
    """Whether the model's last layer has no activation (its outputs are logits)."""
    last = model.layers[-1] if model.layers else None
    act = getattr(last, "activation", None)
    name = getattr(act, "__name__", "") if act is not None else ""
    return name == "linear"


def model_input_shape(model: Any, path: Path) -> tuple:
    """The model's one image input as (H, W, C); raise for anything else."""
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


def run_facts(run: Run) -> tuple[Preprocessing | None, list[str] | None]:
    """The preprocessing and class names a run recorded (``None`` where it did not)."""
    cfg = run.config
    data = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
    pre = None
    if isinstance(data.get("preprocessing"), dict):
        pre = Preprocessing.from_dict(data["preprocessing"])
    elif cfg.get("input_shape"):
        pre = Preprocessing.for_input_shape(tuple(cfg["input_shape"]))
    names = data.get("class_names") or cfg.get("class_names")
    return pre, [str(n) for n in names] if names else None
