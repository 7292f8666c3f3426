"""The files beside an exported model: ``labels.txt``, ``preprocessing.json``, ``MODEL.md``.

``preprocessing.json`` holds the run's recorded :class:`~cnntui.core.images.Preprocessing`
(size, colour mode, resize mode, scaling, inversion) plus the class names and what the
output means, so ``cnntui predict --model`` (or any program) can feed the model exactly as
training did: ``x = (255 - p if invert else p) * scale`` on uint8 pixels, NHWC.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cnntui.core.formats import markdown_table
from cnntui.core.inference.sidecars import LABELS, PREPROCESSING

CARD = "MODEL.md"
SCHEMA = 1


def preprocessing_doc(loaded: Any, files: dict[str, str]) -> dict[str, Any]:
    """``preprocessing.json`` for a :class:`~cnntui.core.inference.open.LoadedModel`."""
    pre = loaded.preprocessing
    run = loaded.run
    return {
        "schema": SCHEMA,
        **pre.to_dict(),
        "input_shape": list(pre.input_shape),
        "layout": "NHWC",
        "input_dtype": "float32",
        "pixel_formula": "x = (255 - p if invert else p) * scale, p = uint8 pixel after resize",
        "class_names": list(loaded.class_names),
        "units": loaded.units,
        "output": "logits" if loaded.logits else "probabilities",
        "binary_sigmoid": loaded.binary,
        "model": run.model_name if run else None,
        "run_id": run.id if run else None,
        "files": files,
    }


def write_sidecars(folder: Path, loaded: Any, files: dict[str, str]) -> None:
    """Write ``labels.txt`` and ``preprocessing.json`` into ``folder``."""
    (folder / LABELS).write_text("".join(f"{n}\n" for n in loaded.class_names), encoding="utf-8")
    doc = preprocessing_doc(loaded, files)
    (folder / PREPROCESSING).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _fmt_pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.2%}"


def _fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def human_size(n: int) -> str:
    """Bytes as B / KB / MB (powers of 1024)."""
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


PARITY_HEADER = (
    "format",
    "file",
    "size",
    "agreement",
    "max |Δp|",
    "accuracy",
    "ms/img b1",
    "ms/img b32",
    "result",
)


def parity_cells(row: dict[str, Any]) -> list[str]:
    """One parity-table row (the Keras reference or a format) as text cells."""
    ref = row["format"] == "keras"
    return [
        row["format"],
        row["file"],
        human_size(row["size_bytes"]) if row.get("size_bytes") is not None else "-",
        "reference" if ref else _fmt_pct(row.get("agreement")),
        "-" if ref else f"{row['max_prob_diff']:.2e}",
        _fmt_pct(row.get("accuracy")),
        _fmt_ms(row.get("latency_ms_b1")),
        _fmt_ms(row.get("latency_ms_b32")),
        "" if ref else ("ok" if row["passed"] else f"FAILED (< {row['min_agreement']:.0%})"),
    ]


def model_card(report: dict[str, Any], config: dict[str, Any], metrics: dict[str, Any]) -> str:
    """``MODEL.md``: model, data, metrics, preprocessing and the parity table."""
    d = config.get("data") if isinstance(config.get("data"), dict) else {}
    pre = report["preprocessing"]
    rows = [report["keras"], *report["formats"]]
    lines = [
        f"# {config.get('title') or report['model']}",
        "",
        f"Exported by cnntui from run `{report['run']}` (checkpoint `{report['checkpoint']}`).",
        "",
        "## Model",
        "",
        f"- zoo entry: `{report['model']}`",
        f"- input: {'x'.join(map(str, pre['input_shape']))} ({pre['color_mode']}), NHWC float32",
        f"- output: {report['units']} unit(s), {report['output']}"
        + (" (one sigmoid unit: p(class 1))" if report["units"] == 1 else ""),
        f"- parameters: {config.get('params', '-')}",
        *(
            [f"- left out (training-only augmentation): {', '.join(report['removed_layers'])}"]
            if report.get("removed_layers")
            else []
        ),
        "",
        "## Data",
        "",
        f"- trained on: `{d.get('source', '-')}` (seed {d.get('seed', '-')}, "
        f"validation split {d.get('val_split', '-')})",
        f"- classes ({len(report['class_names'])}): {', '.join(report['class_names'])}",
        "",
        "## Metrics (training run)",
        "",
    ]
    final = metrics.get("final") if isinstance(metrics.get("final"), dict) else {}
    shown = {f"final {k}": v for k, v in final.items() if k != "learning_rate"}
    shown |= {k: v for k, v in metrics.items() if k.startswith("best_val")}
    shown = {k: v for k, v in shown.items() if isinstance(v, (int, float))}
    lines += [f"- {k}: {v:.4f}" for k, v in sorted(shown.items())] or ["- (none recorded)"]
    if metrics.get("epochs_completed"):
        lines.append(f"- epochs: {metrics['epochs_completed']}")
    lines += [
        "",
        "## Preprocessing",
        "",
        f"- resize to {pre['image_size'][0]}x{pre['image_size'][1]} (H x W), "
        f"mode `{pre['resize_mode']}`, colour `{pre['color_mode']}`",
        f"- pixels: `{pre['pixel_formula']}` with scale {pre['scale']:.8g}, "
        f"invert {str(pre['invert']).lower()}",
        f"- all of it in `{PREPROCESSING}`; class names one per line in `{LABELS}`",
        "",
        "## Export parity",
        "",
        f"Checked on {report['data']['examples']} images of `{report['data']['source']}` "
        f"({report['data']['split']} split) against the Keras model; latency is the median "
        "CPU time per image on the exporting machine.",
        "",
        markdown_table([parity_cells(r) for r in rows], list(PARITY_HEADER)),
    ]
    if report.get("calibration_images"):
        lines += ["", f"int8 calibrated on {report['calibration_images']} training images."]
    lines += [
        "",
        "## Use",
        "",
        "```bash",
        *(f"cnntui predict --model {r['file']} IMAGE…" for r in report["formats"]),
        "```",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
        "",
    ]
    return "\n".join(lines)
