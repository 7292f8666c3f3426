"""Training-time augmentation with Keras preprocessing layers, chosen by name.

Names: ``flip``, ``rotation``, ``zoom``, ``translation``, ``contrast``; each takes an
optional factor, e.g. ``rotation=0.2``. Applied to the train split only.
"""

from __future__ import annotations

from collections.abc import Sequence

from cnntui.core.data.errors import DataError

AUGMENTATIONS: dict[str, float] = {
    "flip": 0.0,
    "rotation": 0.1,
    "zoom": 0.1,
    "translation": 0.1,
    "contrast": 0.2,
}


def parse_augment(names: Sequence[str] | str | None) -> list[tuple[str, float]]:
    """``["flip", "rotation=0.2"]`` (or a comma-separated string) → [(name, factor)]."""
    if not names:
        return []
    if isinstance(names, str):
        names = [names]
    parsed = []
    for item in (part.strip() for raw in names for part in str(raw).split(",")):
        if not item:
            continue
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in AUGMENTATIONS:
            raise DataError(
                f"unknown augmentation {name!r}; choose from {', '.join(AUGMENTATIONS)}"
            )
        try:
            factor = float(value) if value else AUGMENTATIONS[name]
        except ValueError:
            raise DataError(f"augmentation {item!r}: {value!r} is not a number") from None
        parsed.append((name, factor))
    return parsed


def build_augmenter(spec: Sequence[tuple[str, float]], seed: int = 0):
    """A ``keras.Sequential`` of preprocessing layers for ``spec`` (inputs in [0, 1])."""
    from keras import Sequential, layers

    made = []
    for i, (name, factor) in enumerate(spec):
        s = seed + i
        if name == "flip":
            made.append(layers.RandomFlip("horizontal", seed=s))
        elif name == "rotation":
            made.append(layers.RandomRotation(factor, fill_mode="constant", seed=s))
        elif name == "zoom":
            made.append(layers.RandomZoom(factor, fill_mode="constant", seed=s))
        elif name == "translation":
            made.append(layers.RandomTranslation(factor, factor, fill_mode="constant", seed=s))
        elif name == "contrast":
            made.append(layers.RandomContrast(factor, value_range=(0.0, 1.0), seed=s))
    return Sequential(made, name="augment")


def describe(spec: Sequence[tuple[str, float]]) -> list[str]:
    """How the run records augmentation: ``["flip", "rotation=0.1", …]``."""
    return [name if name == "flip" else f"{name}={factor:g}" for name, factor in spec]
