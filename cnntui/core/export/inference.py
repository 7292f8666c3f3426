"""The model as it runs at inference: training-only augmentation layers taken out.

Keras's random preprocessing layers (``RandomFlip``, ``RandomRotation``, …) pass images
through unchanged at inference, but their graphs still hold random-number ops that TFLite
cannot convert and that no deployed model needs. They are replaced by ``Identity``; every
other layer is shared with the original, weights and all.
"""

from __future__ import annotations

from typing import Any

from cnntui.core.errors import ExportError

# identity at inference (RandomCrop is not: it centre-crops, so it stays)
AUGMENT_CLASSES = ("AugMix", "RandAugment", "MixUp", "CutMix")
KEPT = ("RandomCrop",)


def is_augmentation(layer: Any) -> bool:
    """A training-only augmentation layer."""
    name = type(layer).__name__
    return (name.startswith("Random") and name not in KEPT) or name in AUGMENT_CLASSES


def _all_layers(model: Any) -> list[Any]:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found.extend(_all_layers(layer))
    return found


def inference_model(model: Any) -> tuple[Any, list[str]]:
    """``model`` without its augmentation layers, and the names of those taken out."""
    if not any(is_augmentation(layer) for layer in _all_layers(model)):
        return model, []
    import keras

    removed: list[str] = []

    def clone(layer: Any) -> Any:
        if is_augmentation(layer):
            removed.append(layer.name)
            return keras.layers.Identity(name=layer.name)
        return layer

    try:
        stripped = keras.models.clone_model(model, clone_function=clone, recursive=True)
    except Exception as exc:  # noqa: BLE001 - subclassed models cannot be cloned
        raise ExportError(
            f"the model has augmentation layers ({type(exc).__name__}: cannot rebuild it "
            f"without them: {str(exc).splitlines()[0][:200]}); apply augmentation in the "
            "data pipeline (`cnntui train --augment`) instead of inside the model"
        ) from None
    return stripped, removed
