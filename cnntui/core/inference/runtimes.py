"""Running an exported model in its own runtime: TensorFlow (SavedModel), the LiteRT
interpreter (``ai-edge-litert`` when installed, else ``tf.lite.Interpreter``) or ONNX
Runtime. Each gives a :class:`Runtime` from a float32 NHWC batch to the model's raw output.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.errors import ExportError

SAVEDMODEL_FILE = "saved_model.pb"


def model_kind(path: str | Path) -> str:
    """``savedmodel``, ``tflite`` or ``onnx`` from the path; raise for anything else."""
    path = Path(path)
    if path.is_dir():
        if (path / SAVEDMODEL_FILE).exists():
            return "savedmodel"
        raise ExportError(f"{path} is a folder without {SAVEDMODEL_FILE}: not a SavedModel")
    if not path.exists():
        raise ExportError(f"model {path} does not exist")
    if path.suffix.lower() == ".tflite":
        return "tflite"
    if path.suffix.lower() == ".onnx":
        return "onnx"
    raise ExportError(
        f"{path}: --model takes a .tflite file, an .onnx file or a SavedModel folder "
        "(use --checkpoint for a .keras file)"
    )


class Runtime:
    """An exported model, loaded: ``predict(x)`` → raw outputs (N, units) as float."""

    kind = ""
    input_shape: tuple = ()  # (H, W, C), None where the model leaves it open

    def predict(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SavedModelRuntime(Runtime):
    """The ``serving_default`` signature of a SavedModel, in TensorFlow."""

    kind = "savedmodel"

    def __init__(self, path: Path):
        _require_tensorflow(
            f"running the SavedModel {path}",
            "or use the .onnx export (ONNX Runtime) or a .tflite one (pip install ai-edge-litert)",
        )
        import tensorflow as tf

        try:
            self._fn = tf.saved_model.load(str(path)).signatures["serving_default"]
        except (KeyError, OSError, ValueError) as exc:
            raise ExportError(f"cannot load SavedModel {path}: {exc}") from None
        _, kwargs = self._fn.structured_input_signature
        if len(kwargs) != 1:
            raise ExportError(f"{path}: expected one input, found {len(kwargs)}")
        ((self._name, spec),) = kwargs.items()
        self.input_shape = tuple(spec.shape[1:])
        self._tf = tf

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = self._fn(**{self._name: self._tf.constant(x, dtype=self._tf.float32)})
        return np.asarray(next(iter(out.values())))


def _require_tensorflow(what: str, instead: str) -> None:
    """``ExportError`` (one line: what to install or use instead) when TensorFlow is absent."""
    from cnntui.core import backend

    if not backend.installed("tensorflow"):
        raise ExportError(
            f"{what} needs TensorFlow, which is not installed: pip install tensorflow, {instead}"
        )


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        _require_tensorflow("a .tflite file", "or pip install ai-edge-litert (LiteRT alone)")
        import tensorflow as tf

        return tf.lite.Interpreter
    return Interpreter


class TFLiteRuntime(Runtime):
    """A ``.tflite`` file in the LiteRT interpreter; int8 input/output (de)quantised here."""

    kind = "tflite"

    def __init__(self, path: Path, num_threads: int | None = None):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            try:
                self._it = _interpreter_class()(
                    model_path=str(path), num_threads=num_threads or os.cpu_count() or 1
                )
            except (ValueError, RuntimeError) as exc:
                raise ExportError(f"cannot load TFLite model {path}: {exc}") from None
        self._it.allocate_tensors()
        inp, out = self._it.get_input_details(), self._it.get_output_details()
        if len(inp) != 1 or len(out) != 1:
            raise ExportError(f"{path}: expected one input and one output")
        self._in, self._out = inp[0], out[0]
        self.input_shape = tuple(None if d < 0 else int(d) for d in self._in["shape_signature"][1:])
        self._batch = int(self._in["shape"][0])
        self.quantized = np.issubdtype(self._in["dtype"], np.integer)

    def _resize(self, n: int) -> None:
        if n != self._batch:
            self._it.resize_tensor_input(self._in["index"], [n, *self._in["shape"][1:]])
            self._it.allocate_tensors()
            self._in = self._it.get_input_details()[0]
            self._out = self._it.get_output_details()[0]
            self._batch = n

    def predict(self, x: np.ndarray) -> np.ndarray:
        self._resize(len(x))
        dtype = self._in["dtype"]
        if np.issubdtype(dtype, np.integer):
            scale, zero = self._in["quantization"]
            info = np.iinfo(dtype)
            x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
        self._it.set_tensor(self._in["index"], np.ascontiguousarray(x, dtype=dtype))
        self._it.invoke()
        y = self._it.get_tensor(self._out["index"])
        if np.issubdtype(y.dtype, np.integer):
            scale, zero = self._out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return np.asarray(y, dtype=np.float32)


class OnnxRuntime(Runtime):
    """An ``.onnx`` file in ONNX Runtime on the CPU."""

    kind = "onnx"

    def __init__(self, path: Path):
        require_onnx(f"running {path.name}")
        import onnxruntime as ort

        try:
            self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            raise ExportError(f"cannot load ONNX model {path}: {exc}") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise ExportError(f"{path}: expected one input, found {len(inputs)}")
        self._name = inputs[0].name
        self.input_shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape[1:])

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._name: np.asarray(x, dtype=np.float32)})[0]


def open_runtime(path: str | Path) -> Runtime:
    """Load an exported model in its own runtime."""
    path = Path(path).expanduser()
    kind = model_kind(path)
    if kind == "savedmodel":
        return SavedModelRuntime(path)
    if kind == "tflite":
        return TFLiteRuntime(path)
    return OnnxRuntime(path)


ONNX_INSTALL = "pip install 'cnntui[onnx]'"


ONNX_MODULES = ("tf2onnx", "onnx", "onnxruntime")


def missing_modules(modules: Iterable[str]) -> list[str]:
    """Which of ``modules`` cannot be imported here."""
    missing = []
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):  # blocked (``sys.modules[name] = None``) or broken
            missing.append(name)
    return missing


def require_onnx(purpose: str) -> None:
    """Raise :class:`ExportError` naming the install command when the ONNX tools are absent."""
    missing = missing_modules(ONNX_MODULES)
    if missing:
        raise ExportError(
            f"{purpose} needs {', '.join(missing)} (not installed); install them with "
            f"`{ONNX_INSTALL}`"
        )
