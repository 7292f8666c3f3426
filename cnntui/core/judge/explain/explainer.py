"""Explain image files with a loaded checkpoint: batches in, one :class:`Explanation` per
(image, class) out, in input order; bad files become explanations with an ``error``.

Images are decoded with the run's own preprocessing (:mod:`cnntui.core.images`) and
classified by :func:`cnntui.core.inference.predict.make_predictor`, so the class and probability
shown are the ones ``cnntui predict`` gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.data.decode import decode_positions
from cnntui.core.images import save_npy, save_png, scale_uint8
from cnntui.core.inference.open import LoadedModel
from cnntui.core.judge.explain.colormap import DEFAULT_CMAP, colorize, normalise, overlay
from cnntui.core.judge.explain.layers import (
    LayerChoiceError,
    LayerRef,
    choose_layer,
    find_layer,
    kernel_of,
)
from cnntui.core.judge.explain.methods import (
    LAYER_METHODS,
    METHOD_OPTIONS,
    METHODS,
    SMOOTHGRAD_NOISE,
    SMOOTHGRAD_SAMPLES,
    check_smoothgrad,
)

DEFAULT_METHOD = "gradcam"
DEFAULT_BATCH = 16
MAX_TILES = 64
MIN_PNG_SIDE = 224


@dataclass
class Explanation:
    """One image's map for one class, or why the image could not be explained."""

    path: str
    method: str = DEFAULT_METHOD
    label: str | None = None
    index: int | None = None
    probability: float | None = None
    rank: int = 1
    layer: str | None = None
    heatmap: np.ndarray | None = None  # (H, W) in [0, 1], at the model's input size
    raw: np.ndarray | None = None  # the method's own values, same size
    pixels: np.ndarray | None = None  # uint8 (H, W, C): what the model saw
    predicted: str | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def overlay(self, cmap: str = DEFAULT_CMAP) -> np.ndarray:
        """uint8 RGB: the heatmap blended over the image."""
        return overlay(self.pixels, self.heatmap, cmap=cmap)

    def to_dict(self) -> dict[str, Any]:
        if self.error is not None:
            return {"path": self.path, "error": self.error}
        h = self.heatmap
        peak = np.unravel_index(int(np.argmax(h)), h.shape)
        return {
            "path": self.path,
            "method": self.method,
            "class": self.label,
            "index": self.index,
            "probability": round(float(self.probability), 6),
            "rank": self.rank,
            "predicted": self.predicted,
            "layer": self.layer,
            "peak": {"row": int(peak[0]), "col": int(peak[1])},
            "quadrant_mass": quadrant_mass(h),
            **({"files": dict(self.files)} if self.files else {}),
        }


def quadrant_mass(heat: np.ndarray) -> dict[str, float]:
    """Share of the map's total in each image quadrant (``top_left`` …)."""
    h, w = heat.shape
    total = float(heat.sum()) or 1.0
    parts = {
        "top_left": heat[: h // 2, : w // 2],
        "top_right": heat[: h // 2, w // 2 :],
        "bottom_left": heat[h // 2 :, : w // 2],
        "bottom_right": heat[h // 2 :, w // 2 :],
    }
    return {k: round(float(v.sum()) / total, 4) for k, v in parts.items()}


def resolve_class(loaded: LoadedModel, label: str) -> int:
    """A class given by name or index; a clear error listing the classes otherwise."""
    names = loaded.class_names
    if label in names:
        return names.index(label)
    if label.lstrip("-").isdigit() and 0 <= int(label) < len(names):
        return int(label)
    shown = ", ".join(names[:30]) + ("…" if len(names) > 30 else "")
    raise LayerChoiceError(f"unknown class {label!r}; the model's classes are: {shown}")


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def check_options(method: str, options: dict[str, Any]) -> None:
    """``ValueError`` for an option the method does not take, or a bad value of one."""
    check_method(method)
    allowed = METHOD_OPTIONS.get(method, ())
    if extra := [k for k in options if k not in allowed]:
        takes = ", ".join(allowed) or "none"
        raise ValueError(f"{method} has no option {extra[0]!r} (its options: {takes})")
    if method == "smoothgrad":
        check_smoothgrad(
            options.get("samples", SMOOTHGRAD_SAMPLES), options.get("noise", SMOOTHGRAD_NOISE)
        )


def layer_for(loaded: LoadedModel, method: str, layer: str | None) -> LayerRef | None:
    """The layer a method needs (chosen automatically unless named), else None."""
    check_method(method)
    if method not in LAYER_METHODS:
        return None
    return find_layer(loaded.model, layer) if layer else choose_layer(loaded.model)


def explain_arrays(
    loaded: LoadedModel,
    pixels: np.ndarray,
    classes: np.ndarray,
    method: str = DEFAULT_METHOD,
    layer: LayerRef | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Raw maps, display heatmaps (N, H, W) and whether raw is signed, for uint8
    ``pixels`` (N, H, W, C) and one class per image; ``options``: the method's own
    keywords (``check_options``)."""
    x = scale_uint8(pixels, loaded.preprocessing)
    fn = METHODS[method]
    target = layer.layer if layer else None
    result = fn(loaded.model, x, np.asarray(classes), loaded.binary, target, **(options or {}))
    heat = np.stack([normalise(m, result.signed) for m in result.maps])
    return result.maps, heat, result.signed


def explain_paths(
    loaded: LoadedModel,
    inputs: list[tuple[str, str | None]],
    method: str = DEFAULT_METHOD,
    classes: list[str] | None = None,
    top_k: int = 1,
    layer: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    options: dict[str, Any] | None = None,
) -> Iterator[Explanation]:
    """Explain each input (``collect_inputs`` pairs) for ``classes`` (by name or index;
    default: its ``top_k`` most probable), batch by batch, in input order; ``options``:
    the method's own keywords (SmoothGrad's ``samples``, ``noise``, ``seed``)."""
    from cnntui.core.inference.predict import make_predictor

    options = options or {}
    check_options(method, options)
    ref = layer_for(loaded, method, layer)
    wanted = [resolve_class(loaded, c) for c in classes] if classes else None
    k = len(wanted) if wanted else max(1, min(top_k, loaded.num_classes))
    predict = make_predictor(loaded, eager=True)
    names, pre = loaded.class_names, loaded.preprocessing
    for start in range(0, len(inputs), batch_size):
        chunk = inputs[start : start + batch_size]
        errors = {i: err for i, (_, err) in enumerate(chunk) if err is not None}
        readable = [i for i, (_, err) in enumerate(chunk) if err is None]
        good, pixels, failed = decode_positions(readable, [path for path, _ in chunk], pre)
        errors.update(failed)
        decoded = list(zip(good.tolist(), pixels))
        done: dict[int, list[Explanation]] = {i: [Explanation(chunk[i][0], method, error=e)]
                                              for i, e in errors.items()}  # fmt: skip
        if decoded:
            pixels = np.stack([a for _, a in decoded])
            probs = predict(scale_uint8(pixels, pre))
            order = np.argsort(-probs, axis=1, kind="stable")
            for rank in range(k):
                cls = np.array(
                    [wanted[rank] if wanted else order[j, rank] for j in range(len(decoded))]
                )
                raw, heat, _ = explain_arrays(loaded, pixels, cls, method, ref, options)
                for j, (i, _) in enumerate(decoded):
                    done.setdefault(i, []).append(
                        Explanation(
                            path=chunk[i][0],
                            method=method,
                            label=names[cls[j]],
                            index=int(cls[j]),
                            probability=float(probs[j, cls[j]]),
                            rank=rank + 1,
                            layer=ref.path if ref else None,
                            heatmap=heat[j],
                            raw=raw[j],
                            pixels=pixels[j],
                            predicted=names[int(order[j, 0])],
                        )
                    )
        for i in range(len(chunk)):
            yield from done[i]


def upscale(rgb: np.ndarray, min_side: int = MIN_PNG_SIDE) -> np.ndarray:
    """Enlarge a small image by a whole factor (nearest neighbour) so it can be looked at."""
    factor = max(1, int(np.ceil(min_side / max(1, min(rgb.shape[:2])))))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1) if factor > 1 else rgb


def output_stem(e: Explanation, position: int) -> str:
    """``0007-cat-gradcam-dog``: input position, file name, method, class."""
    import re

    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(e.path).stem)[:60]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(e.label))[:40]
    return f"{position:04d}-{name}-{e.method}-{label}"


def write_explanation(
    e: Explanation, out_dir: str | Path, position: int, cmap: str = DEFAULT_CMAP
) -> dict[str, str]:
    """The overlay PNG (enlarged when small) and the raw map ``.npy``; returns their paths."""
    out = Path(out_dir)
    stem = output_stem(e, position)
    png, npy = out / f"{stem}.png", out / f"{stem}.npy"
    save_png(png, upscale(e.overlay(cmap)))
    save_npy(npy, e.raw)
    e.files = {"overlay": str(png), "map": str(npy)}
    return e.files


def tile_grid(tiles: np.ndarray, pad: int = 1) -> np.ndarray:
    """(N, h, w, 3) uint8 tiles in a near-square grid with ``pad`` grey pixels between."""
    n, h, w = tiles.shape[:3]
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 64, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        grid[y : y + h, x : x + w] = tiles[i]
    return grid


def _per_tile_norm(maps: np.ndarray) -> np.ndarray:
    lo = maps.min(axis=(1, 2), keepdims=True)
    hi = maps.max(axis=(1, 2), keepdims=True)
    return (maps - lo) / np.where(hi > lo, hi - lo, 1.0)


def feature_map_grid(
    loaded: LoadedModel, pixels: np.ndarray, layer: str, cmap: str = "viridis"
) -> tuple[np.ndarray, dict[str, Any]]:
    """A grid of ``layer``'s activation maps for one image (uint8 (H, W, C) pixels),
    each map scaled to its own range; at most the first 64 channels."""
    from cnntui.core.judge.explain.gradients import layer_activations

    ref = find_layer(loaded.model, layer)
    x = scale_uint8(pixels[None], loaded.preprocessing)
    acts = layer_activations(loaded.model, x, ref.layer)[0]  # (h, w, c)
    maps = np.moveaxis(acts, -1, 0)[:MAX_TILES].astype(np.float64)
    tiles = colorize(_per_tile_norm(maps), cmap)
    info = {"layer": ref.path, "shape": list(acts.shape), "shown": len(maps)}
    return tile_grid(tiles), info


def filter_grid(loaded: LoadedModel, layer: str) -> tuple[np.ndarray, dict[str, Any]]:
    """A grid of a convolution layer's kernels: in colour when they read 3 channels,
    else the mean over input channels in grey; each scaled to its own range."""
    ref = find_layer(loaded.model, layer, need="conv")
    k = np.asarray(kernel_of(ref.layer), dtype=np.float64)  # (kh, kw, in, out)
    kh, kw, cin, cout = k.shape
    k = np.moveaxis(k, -1, 0)[:MAX_TILES]  # (n, kh, kw, in)
    if cin == 3:
        lo = k.min(axis=(1, 2, 3), keepdims=True)
        hi = k.max(axis=(1, 2, 3), keepdims=True)
        tiles = np.rint((k - lo) / np.where(hi > lo, hi - lo, 1.0) * 255).astype(np.uint8)
    else:
        grey = _per_tile_norm(k.mean(axis=-1))
        tiles = np.repeat(np.rint(grey * 255).astype(np.uint8)[..., None], 3, axis=-1)
    info = {"layer": ref.path, "kernel": [kh, kw, cin, cout], "shown": len(k)}
    return tile_grid(tiles), info


def unscale(x: np.ndarray, pre: Any) -> np.ndarray:
    """Model input back to the uint8 pixels :func:`scale_uint8` made it from."""
    px = np.clip(np.rint(np.asarray(x, dtype=np.float64) / pre.scale), 0, 255)
    return (255 - px if pre.invert else px).astype(np.uint8)


def explain_inputs(
    loaded: LoadedModel, x: np.ndarray, classes: np.ndarray, cmap: str = DEFAULT_CMAP
) -> np.ndarray:
    """Grad-CAM overlays (N, H, W, 3) uint8 of model inputs ``x`` (scaled, as an evaluation
    keeps them), one class per image; ``LayerChoiceError`` for a model with no spatial layer."""
    pixels = unscale(x, loaded.preprocessing)
    ref = layer_for(loaded, DEFAULT_METHOD, None)
    _, heat, _ = explain_arrays(loaded, pixels, np.asarray(classes), DEFAULT_METHOD, ref)
    return np.stack([overlay(px, h, cmap=cmap) for px, h in zip(pixels, heat)])


def explain_worst(
    loaded: LoadedModel, result: Any, n: int, folder: str | Path, cmap: str = DEFAULT_CMAP
) -> list[dict[str, Any]]:
    """Overlays of the ``n`` highest-loss examples of an evaluation, explaining the class
    the model predicted (Grad-CAM, or saliency for a model with no spatial layer), written
    to ``folder`` as ``NN-<id>.png``; returns what was written, worst first."""
    import re

    from cnntui.core.judge import metrics

    if result.images is None or not len(result.y_true):
        return []
    method = "gradcam"
    try:
        ref = layer_for(loaded, method, None)
    except LayerChoiceError:
        method, ref = "saliency", None
    idx = metrics.highest_loss(result.losses, n)
    pixels = unscale(result.images[idx], loaded.preprocessing)
    _, heat, _ = explain_arrays(loaded, pixels, result.y_pred[idx], method, ref)
    folder = Path(folder)
    for old in folder.glob("[0-9][0-9]-*.png") if folder.is_dir() else []:
        old.unlink()
    out = []
    for rank, (i, h, px) in enumerate(zip(idx.tolist(), heat, pixels), start=1):
        e = result.example(i)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(str(e["id"])).name)[:60]
        path = folder / f"{rank:02d}-{slug}.png"
        save_png(path, upscale(overlay(px, h, cmap=cmap)))
        out.append({"rank": rank, **e, "method": method, "layer": ref.path if ref else None,
                    "file": str(path)})  # fmt: skip
    return out
