"""Parameter tables that go beyond ``model.summary()``: kernels, strides, MACs, memory.

MACs are multiply-accumulates per image, counted for the layers that do them
(convolutions of every kind and Dense); bias additions, activations, normalisation and
pooling count as zero, the usual convention of FLOP counters. Activation memory is the
sum of every layer's output per image, an upper bound for inference without buffer reuse.
"""

from __future__ import annotations

import math
import os
from typing import Any

_CONV_TYPES = ("Conv1D", "Conv2D", "Conv3D")
_TRANSPOSE_TYPES = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_DEPTHWISE_TYPES = ("DepthwiseConv1D", "DepthwiseConv2D")
_SEPARABLE_TYPES = ("SeparableConv1D", "SeparableConv2D")


def _prod(dims) -> int:
    return int(math.prod(int(d) for d in dims if d is not None))


def _shape(tensor_or_shape) -> tuple | None:
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    if shape is None:
        return None
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        return None


def _io_shapes(layer) -> tuple[tuple | None, tuple | None]:
    """The first input and output shapes of a layer in a built functional model."""
    try:
        inputs = layer.input
    except (AttributeError, ValueError):
        inputs = None
    try:
        outputs = layer.output
    except (AttributeError, ValueError):
        outputs = None
    if isinstance(inputs, (list, tuple)):
        inputs = inputs[0] if inputs else None
    if isinstance(outputs, (list, tuple)):
        outputs = outputs[0] if outputs else None
    return _shape(inputs), _shape(outputs)


def layer_macs(layer, in_shape: tuple | None, out_shape: tuple | None) -> int:
    """Multiply-accumulates per image for one layer (0 for layers that do none)."""
    kind = type(layer).__name__
    if in_shape is None or out_shape is None:
        return 0
    if kind == "Dense":
        return _prod(in_shape[1:]) * int(layer.units)
    if kind in _CONV_TYPES:
        in_ch = in_shape[-1] if layer.data_format == "channels_last" else in_shape[1]
        spatial = out_shape[1:-1] if layer.data_format == "channels_last" else out_shape[2:]
        groups = getattr(layer, "groups", 1) or 1
        return _prod(spatial) * int(layer.filters) * _prod(layer.kernel_size) * in_ch // groups
    if kind in _TRANSPOSE_TYPES:
        in_ch = in_shape[-1] if layer.data_format == "channels_last" else in_shape[1]
        spatial = in_shape[1:-1] if layer.data_format == "channels_last" else in_shape[2:]
        return _prod(spatial) * in_ch * _prod(layer.kernel_size) * int(layer.filters)
    if kind in _DEPTHWISE_TYPES:
        in_ch = in_shape[-1] if layer.data_format == "channels_last" else in_shape[1]
        spatial = out_shape[1:-1] if layer.data_format == "channels_last" else out_shape[2:]
        return _prod(spatial) * in_ch * int(layer.depth_multiplier) * _prod(layer.kernel_size)
    if kind in _SEPARABLE_TYPES:
        in_ch = in_shape[-1] if layer.data_format == "channels_last" else in_shape[1]
        spatial = out_shape[1:-1] if layer.data_format == "channels_last" else out_shape[2:]
        mid = in_ch * int(layer.depth_multiplier)
        depthwise = _prod(spatial) * mid * _prod(layer.kernel_size)
        pointwise = _prod(spatial) * mid * int(layer.filters)
        return depthwise + pointwise
    return 0


def _weight_bytes(weights) -> int:
    total = 0
    for w in weights:
        dtype = getattr(w, "dtype", "float32")
        itemsize = _itemsize(dtype)
        total += _prod(w.shape) * itemsize
    return total


def _itemsize(dtype) -> int:
    import numpy as np

    name = getattr(dtype, "name", dtype)
    try:
        return np.dtype(str(name)).itemsize
    except TypeError:
        return 4


def _param_count(weights) -> int:
    return sum(_prod(w.shape) for w in weights)


def _layer_rows(model, prefix: str = "") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        in_shape, out_shape = _io_shapes(layer)
        if (
            hasattr(layer, "layers")
            and getattr(layer, "layers", None)
            and kind in ("Functional", "Sequential", "Model")
        ):
            rows += _layer_rows(layer, prefix=f"{prefix}{layer.name}/")
            continue
        act_dtype = getattr(layer, "compute_dtype", "float32") or "float32"
        row = {
            "name": prefix + layer.name,
            "type": kind,
            "output_shape": list(out_shape) if out_shape is not None else None,
            "params": int(layer.count_params()) if layer.built else 0,
            "trainable_params": _param_count(layer.trainable_weights),
            "non_trainable_params": _param_count(layer.non_trainable_weights),
            "trainable": bool(layer.trainable),
            "kernel": list(layer.kernel_size)
            if hasattr(layer, "kernel_size")
            else (list(layer.pool_size) if hasattr(layer, "pool_size") else None),
            "stride": list(layer.strides)
            if hasattr(layer, "strides") and layer.strides is not None
            else None,
            "macs": layer_macs(layer, in_shape, out_shape),
            "activation_bytes": _prod(out_shape[1:]) * _itemsize(act_dtype)
            if out_shape is not None
            else 0,
        }
        rows.append(row)
    return rows


def layer_table(model) -> dict[str, Any]:
    """Per-layer rows and totals for a built Keras model (JSON-ready)."""
    rows = _layer_rows(model)
    input_bytes = 0
    for tensor in model.inputs or []:
        input_bytes += _prod(_shape(tensor)[1:]) * _itemsize(getattr(tensor, "dtype", "float32"))
    trainable = _param_count(model.trainable_weights)
    non_trainable = _param_count(model.non_trainable_weights)
    return {
        "name": model.name,
        "input_shape": list(_shape(model.inputs[0])[1:]) if model.inputs else None,
        "output_shape": list(_shape(model.outputs[0])[1:]) if model.outputs else None,
        "layers": rows,
        "total_params": int(model.count_params()),
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "weight_bytes": _weight_bytes(model.weights),
        "macs": sum(r["macs"] for r in rows),
        "activation_bytes": input_bytes + sum(r["activation_bytes"] for r in rows),
    }


def summary_text(model, line_length: int = 88) -> str:
    """Keras's own ``model.summary()`` as plain text."""
    lines: list[str] = []

    def capture(text: str, line_break: bool = True) -> None:
        lines.append(text)

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(line_length + 2)  # rich sizes its console from COLUMNS
    try:
        model.summary(line_length=line_length, print_fn=capture)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(line.rstrip("\n") for line in lines).rstrip() + "\n"


def human_count(n: float) -> str:
    """12345678 -> '12.3M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return f"{int(n)}"


def human_bytes(n: float) -> str:
    """Bytes in KiB/MiB/GiB."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def format_table(table: dict[str, Any]) -> str:
    """The parameter table as fixed-width text for a terminal."""
    header = ("layer", "type", "output", "params", "train", "kernel", "stride", "MACs")
    rows = []
    for r in table["layers"]:
        shape = "x".join("?" if d is None else str(d) for d in (r["output_shape"] or [])[1:])
        rows.append(
            (
                r["name"],
                r["type"],
                shape,
                f"{r['params']:,}",
                "yes" if r["trainable"] else "no",
                "x".join(map(str, r["kernel"])) if r["kernel"] else "",
                "x".join(map(str, r["stride"])) if r["stride"] else "",
                human_count(r["macs"]) if r["macs"] else "",
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    right = {3, 7}

    def fmt(cells) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(fmt(header))
    out = [fmt(header), rule, *map(fmt, rows), rule]
    t = table
    out += [
        f"total params:       {t['total_params']:,}  (trainable {t['trainable_params']:,}, "
        f"non-trainable {t['non_trainable_params']:,})",
        f"weight memory:      {human_bytes(t['weight_bytes'])} ({t['weight_bytes']:,} bytes)",
        f"MACs per image:     {human_count(t['macs'])} ({t['macs']:,})",
        f"activation memory:  {human_bytes(t['activation_bytes'])} per image (estimate)",
    ]
    return "\n".join(out)
