"""Attribution methods on a batch: each returns one raw map (N, H, W) at input size.

``x`` is the model's input (N, H, W, C, already scaled), ``classes`` the class to explain
per image, ``binary`` whether the model has a one-unit sigmoid head. Gradient-based
methods differentiate the class logit (the softmax/sigmoid switched off, see
:func:`~cnntui.core.judge.explain.gradients.logits_head`). The baseline of integrated gradients
and the occluding patch are zeros in the model's input space (black for [0, 1] scaling).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from cnntui.core.judge.explain.gradients import class_gradients, forward, head_activation

IG_STEPS = 64
SMOOTHGRAD_SAMPLES = 25
SMOOTHGRAD_NOISE = 0.15  # noise sigma as a share of each image's value range
CHUNK = 64


@dataclass
class Attribution:
    """Raw maps (N, H, W); ``signed`` when negative values mean evidence against."""

    maps: np.ndarray
    signed: bool = False
    extra: dict[str, Any] | None = None


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(N, h, w) maps resized bilinearly to (N, H, W)."""
    h, w = size
    if maps.shape[1:] == (h, w):
        return maps.astype(np.float32)
    return np.stack(
        [
            np.asarray(
                Image.fromarray(m.astype(np.float32)).resize((w, h), Image.Resampling.BILINEAR)
            )
            for m in maps
        ]
    )


def gradcam(
    model: Any, x: np.ndarray, classes: np.ndarray, binary: bool, layer: Any
) -> Attribution:
    """Grad-CAM (Selvaraju et al. 2017): activations weighted by their mean gradient, ReLU."""
    _, grads, acts = class_gradients(model, x, classes, binary, layer)
    weights = grads.mean(axis=(1, 2))
    cam = np.maximum(np.einsum("nhwc,nc->nhw", acts, weights), 0.0)
    return Attribution(upsample(cam, x.shape[1:3]))


def gradcam_plus_plus(
    model: Any, x: np.ndarray, classes: np.ndarray, binary: bool, layer: Any
) -> Attribution:
    """Grad-CAM++ (Chattopadhyay et al. 2018), with the closed-form higher-order terms of an
    exponential score: pixel-wise weights of the positive gradients."""
    _, g, acts = class_gradients(model, x, classes, binary, layer)
    g = g.astype(np.float64)
    g2, g3 = g**2, g**3
    denom = 2.0 * g2 + acts.sum(axis=(1, 2), keepdims=True) * g3
    alpha = g2 / np.where(denom != 0.0, denom, 1.0)
    weights = (alpha * np.maximum(g, 0.0)).sum(axis=(1, 2))
    cam = np.maximum(np.einsum("nhwc,nc->nhw", acts, weights), 0.0)
    return Attribution(upsample(cam, x.shape[1:3]))


def saliency(
    model: Any, x: np.ndarray, classes: np.ndarray, binary: bool, layer: Any = None
) -> Attribution:
    """Vanilla gradients (Simonyan et al. 2013): the largest |d score / d pixel| over channels."""
    _, grads, _ = class_gradients(model, x, classes, binary)
    return Attribution(np.abs(grads).max(axis=-1))


def smoothgrad(
    model: Any,
    x: np.ndarray,
    classes: np.ndarray,
    binary: bool,
    layer: Any = None,
    samples: int = SMOOTHGRAD_SAMPLES,
    noise: float = SMOOTHGRAD_NOISE,
    seed: int = 0,
) -> Attribution:
    """SmoothGrad (Smilkov et al. 2017): saliency averaged over ``samples`` copies of the
    image with Gaussian noise (σ = ``noise`` × each image's value range), drawn from ``seed``."""
    check_smoothgrad(samples, noise)
    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape[:3], dtype=np.float64)
    spread = (x.max(axis=(1, 2, 3)) - x.min(axis=(1, 2, 3))).reshape(-1, 1, 1, 1)
    sigma = noise * np.where(spread > 0, spread, 1.0)
    for _ in range(samples):
        noisy = (x + rng.normal(size=x.shape) * sigma).astype(np.float32)
        total += saliency(model, noisy, classes, binary).maps
    return Attribution((total / samples).astype(np.float32))


def check_smoothgrad(samples: int, noise: float) -> None:
    """``ValueError`` saying what is wrong with SmoothGrad's sample count or noise level."""
    if int(samples) != samples or samples < 1:
        raise ValueError(f"SmoothGrad needs at least 1 sample; got {samples!r}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(
            f"SmoothGrad noise is σ as a share of the image's value range, 0 to 1 "
            f"(the paper uses 0.1-0.2); got {noise!r}"
        )


def integrated_gradients(
    model: Any,
    x: np.ndarray,
    classes: np.ndarray,
    binary: bool,
    layer: Any = None,
    steps: int = IG_STEPS,
    baseline: np.ndarray | None = None,
) -> Attribution:
    """Integrated gradients (Sundararajan et al. 2017), trapezoidal rule over ``steps``.

    The map is the attribution summed over channels (signed); ``extra`` holds the full
    attributions (N, H, W, C) and the scores at the image and at the baseline, whose
    difference the attributions add up to (completeness).
    """
    base = np.zeros_like(x) if baseline is None else np.broadcast_to(baseline, x.shape)
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    attributions = np.zeros(x.shape, dtype=np.float64)
    f_x, f_base = np.zeros(len(x)), np.zeros(len(x))
    for n in range(len(x)):
        path = base[n] + alphas[:, None, None, None] * (x[n] - base[n])
        grads, scores = [], []
        for start in range(0, len(path), CHUNK):
            part = path[start : start + CHUNK].astype(np.float32)
            s, g, _ = class_gradients(model, part, np.full(len(part), classes[n]), binary)
            grads.append(g.astype(np.float64))
            scores.append(s)
        g = np.concatenate(grads)
        s = np.concatenate(scores)
        avg = ((g[:-1] + g[1:]) / 2.0).mean(axis=0)
        attributions[n] = (x[n] - base[n]) * avg
        f_x[n], f_base[n] = s[-1], s[0]
    maps = attributions.sum(axis=-1).astype(np.float32)
    extra = {"attributions": attributions, "score": f_x, "baseline_score": f_base}
    return Attribution(maps, signed=True, extra=extra)


def _probabilities(model: Any, x: np.ndarray, binary: bool) -> np.ndarray:
    from cnntui.core.inference.probabilities import to_class_probabilities

    logits = head_activation(model) == "linear"
    out = [forward(model, x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)]
    return to_class_probabilities(np.concatenate(out), binary, logits)


def occlusion_patch(size: tuple[int, int]) -> tuple[int, int]:
    """Patch side and stride for an image: about a seventh of its shorter side, half-overlapping."""
    side = max(2, round(min(size) / 7))
    return side, max(1, side // 2)


def occlusion(
    model: Any, x: np.ndarray, classes: np.ndarray, binary: bool, layer: Any = None
) -> Attribution:
    """Occlusion (Zeiler & Fergus 2014): how much the class probability drops when a
    patch is blanked, averaged over the patches covering each pixel (signed)."""
    n, h, w = x.shape[:3]
    side, stride = occlusion_patch((h, w))
    ys = sorted({*range(0, max(1, h - side + 1), stride), max(0, h - side)})
    xs = sorted({*range(0, max(1, w - side + 1), stride), max(0, w - side)})
    maps = np.zeros((n, h, w), dtype=np.float64)
    for i in range(n):
        base_p = _probabilities(model, x[i : i + 1], binary)[0, classes[i]]
        batch = np.repeat(x[i : i + 1], len(ys) * len(xs), axis=0)
        boxes = [(y0, x0) for y0 in ys for x0 in xs]
        for j, (y0, x0) in enumerate(boxes):
            batch[j, y0 : y0 + side, x0 : x0 + side, :] = 0.0
        drops = base_p - _probabilities(model, batch, binary)[:, classes[i]]
        total = np.zeros((h, w))
        count = np.zeros((h, w))
        for (y0, x0), d in zip(boxes, drops):
            total[y0 : y0 + side, x0 : x0 + side] += d
            count[y0 : y0 + side, x0 : x0 + side] += 1
        maps[i] = total / np.maximum(count, 1)
    return Attribution(maps.astype(np.float32), signed=True)


METHODS = {
    "gradcam": gradcam,
    "gradcam++": gradcam_plus_plus,
    "saliency": saliency,
    "smoothgrad": smoothgrad,
    "integrated-gradients": integrated_gradients,
    "occlusion": occlusion,
}
LAYER_METHODS = ("gradcam", "gradcam++")
METHOD_OPTIONS = {"smoothgrad": ("samples", "noise", "seed")}  # keyword options per method
