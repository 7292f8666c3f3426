"""The export formats: their names, files, thresholds and converters (the frameworks' own).

SavedModel comes from ``keras.Model.export(format="tf_saved_model")``; the TFLite files from
``tf.lite.TFLiteConverter.from_saved_model`` on that SavedModel (fp16: float16 weights;
int8: full-integer, int8 input and output, calibrated on a representative dataset); ONNX
from ``keras.Model.export(format="onnx")``, which drives ``tf2onnx`` (the ``onnx`` extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.errors import ExportError
from cnntui.core.inference.runtimes import require_onnx


@dataclass(frozen=True)
class Format:
    """One export format."""

    name: str
    filename: str
    runtime: str  # tensorflow | tflite | onnxruntime
    min_agreement: float  # default top-1 agreement with Keras below which it FAILED
    extra: str | None = None  # the pip extra it needs, if any
    description: str = ""


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("savedmodel", "saved_model", "tensorflow", 0.99, None, "TensorFlow SavedModel"),
        Format("tflite", "model.tflite", "tflite", 0.99, None, "TFLite, float32"),
        Format("tflite-fp16", "model_fp16.tflite", "tflite", 0.99, None, "TFLite, fp16 weights"),
        Format("tflite-int8", "model_int8.tflite", "tflite", 0.97, None, "TFLite, full int8"),
        Format("onnx", "model.onnx", "onnxruntime", 0.99, "onnx", "ONNX (opset from tf2onnx)"),
    )
}
DEFAULT_FORMATS = [name for name, f in FORMATS.items() if f.extra is None]


def parse_formats(specs: Iterable[str] | None) -> list[str]:
    """``--format`` values (repeatable, comma-separated; ``all``) in canonical order; none =
    the formats that need no extra."""
    names = [p.strip().lower() for s in specs or () for p in str(s).split(",") if p.strip()]
    if not names:
        return list(DEFAULT_FORMATS)
    if "all" in names:
        return list(FORMATS)
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ExportError(
            f"unknown export format {unknown[0]!r}; choose from {', '.join(FORMATS)} or all "
            "(repeat --format or separate them with commas)"
        )
    return [n for n in FORMATS if n in names]


def check_available(formats: Iterable[str]) -> None:
    """Refuse, before any work, formats whose extra is not installed, and any export off
    the TensorFlow backend (SavedModel, TFLite and tf2onnx all run the model in TensorFlow)."""
    from cnntui.core import backend

    formats = list(formats)
    if not backend.is_tensorflow():
        raise ExportError(
            f"export ({', '.join(formats)}) needs the TensorFlow backend and Keras runs on "
            f"{backend.current()} here: run it with --backend tensorflow (pip install "
            "tensorflow); the .keras checkpoint is the same file on every backend"
        )
    if any(FORMATS[f].extra == "onnx" for f in formats):
        require_onnx("--format onnx")


def export_savedmodel(model: Any, path: Path) -> None:
    """A SavedModel with a ``serving_default`` signature (Keras's own exporter)."""
    model.export(str(path), format="tf_saved_model", verbose=False)


def export_onnx(model: Any, path: Path) -> None:
    """An ONNX file through Keras's exporter (tf2onnx under the TensorFlow backend)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # tf2onnx probes np.object
        model.export(str(path), format="onnx", verbose=False)


def export_tflite(
    savedmodel: Path,
    path: Path,
    variant: str = "float",
    representative: Callable[[], Iterator[list[np.ndarray]]] | None = None,
) -> None:
    """Convert ``savedmodel`` to TFLite: ``float``, ``fp16`` weights or full ``int8``."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(savedmodel))
    if variant == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif variant == "int8":
        if representative is None:
            raise ExportError("int8 export needs calibration images")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    path.write_bytes(converter.convert())


def file_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (a SavedModel)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
