"""Which layer to explain: every layer of a model, nested models included, by path.

A layer's *path* names the nested models it sits in, ``features/conv2d_1``; its bare name
works too when it is unique. The automatic choice is the one Grad-CAM wants: the last
layer with a spatial output (H x W > 1) before global pooling or flattening, walking back
past pooling and dropout layers to the convolution block that feeds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SKIPPED_KINDS = ("Pooling", "Dropout", "GaussianNoise", "ZeroPadding", "Cropping")


class LayerChoiceError(ValueError):
    """No layer fits, or the one asked for does not exist; the message lists the valid ones."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class LayerRef:
    """A layer and where it sits."""

    path: str
    layer: Any
    shape: tuple | None

    @property
    def spatial(self) -> bool:
        """A (batch, H, W, C) output with more than one position."""
        s = self.shape
        return bool(s and len(s) == 4 and (s[1] or 2) * (s[2] or 2) > 1)

    @property
    def kind(self) -> str:
        return type(self.layer).__name__


def _shape(layer: Any) -> tuple | None:
    try:
        out = layer.output
    except (AttributeError, ValueError):
        return None
    if isinstance(out, (list, tuple)):
        return None
    shape = getattr(out, "shape", None)
    return tuple(shape) if shape is not None else None


def walk(model: Any, prefix: str = "") -> Iterator[LayerRef]:
    """Every layer in order, descending into nested models (the nested model itself too,
    after its layers), InputLayers left out."""
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ == "InputLayer":
            continue
        path = f"{prefix}{layer.name}"
        if getattr(layer, "layers", None):
            yield from walk(layer, prefix=f"{path}/")
        yield LayerRef(path, layer, _shape(layer))


def choose_layer(model: Any) -> LayerRef:
    """The automatic Grad-CAM layer (see the module docstring)."""
    refs = [r for r in walk(model) if not getattr(r.layer, "layers", None)]
    spatial = [i for i, r in enumerate(refs) if r.spatial]
    if not spatial:
        raise LayerChoiceError(
            "this model has no layer with a spatial (H x W x C) output, so layer-based "
            "methods (gradcam, gradcam++, feature maps) do not apply; use --method "
            "saliency, smoothgrad, integrated-gradients or occlusion"
        )
    i = spatial[-1]
    while i > 0 and any(k in refs[i].kind for k in SKIPPED_KINDS) and refs[i - 1].spatial:
        i -= 1
    return refs[i]


def spatial_layers(model: Any) -> list[LayerRef]:
    """Layers with a spatial output, in order (what ``--layer`` can name)."""
    return [r for r in walk(model) if r.spatial and not getattr(r.layer, "layers", None)]


def find_layer(model: Any, name: str, need: str = "spatial") -> LayerRef:
    """The layer called ``name`` (a path or a unique bare name).

    ``need``: ``spatial`` (a spatial output) or ``conv`` (a layer with a 4-D kernel).
    """
    refs = [r for r in walk(model) if not getattr(r.layer, "layers", None)]
    if need == "conv":
        valid = [r for r in refs if kernel_of(r.layer) is not None]
    else:
        valid = [r for r in refs if r.spatial]
    hits = [r for r in refs if r.path == name] or [r for r in refs if r.layer.name == name]
    listing = ", ".join(r.path for r in valid) or "none"
    what = "convolution layers" if need == "conv" else "layers with a spatial output"
    if not hits:
        raise LayerChoiceError(f"no layer named {name!r} in this model; {what}: {listing}")
    if len(hits) > 1:
        paths = ", ".join(r.path for r in hits)
        raise LayerChoiceError(f"{name!r} names several layers ({paths}); give its full path")
    if hits[0] not in valid:
        raise LayerChoiceError(
            f"layer {hits[0].path} ({hits[0].kind}, output {hits[0].shape}) is not one of "
            f"the {what}: {listing}"
        )
    return hits[0]


def kernel_of(layer: Any) -> Any:
    """The 4-D kernel (kh, kw, in, out) of a convolution layer, or None."""
    for attr in ("kernel", "depthwise_kernel"):
        k = getattr(layer, attr, None)
        if k is not None and len(getattr(k, "shape", ())) == 4:
            return k
    return None
