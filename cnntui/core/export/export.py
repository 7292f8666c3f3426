"""``export_run``: a run's checkpoint to every asked-for format, each checked against Keras.

Everything is written into a temporary folder beside ``out`` and renamed into place at the
end, so a failure leaves the output folder as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.export import formats as fm
from cnntui.core.export import parity, sidecars
from cnntui.core.export.inference import inference_model
from cnntui.core.inference.open import LoadedModel, open_model
from cnntui.core.inference.predict import make_predictor
from cnntui.core.inference.probabilities import to_class_probabilities

DEFAULT_OUT = "export"
DEFAULT_CALIBRATION = 200
FORMATS_NEEDING_SAVEDMODEL = {"savedmodel", "tflite", "tflite-fp16", "tflite-int8"}
Progress = Callable[[str, dict[str, Any]], None]  # ("step", {"text"}) | ("row", row)


def check_out(out: Path, force: bool, keep: Iterable[Path] = ()) -> None:
    """Refuse an output path that is a file, or a folder with files unless ``force``; never
    replace the home folder, ``/``, or a folder holding one of ``keep`` (the run)."""
    if out.exists() and not out.is_dir():
        raise fm.ExportError(f"--out {out} is a file; give a folder")
    if not (out.is_dir() and any(out.iterdir())):
        return
    if not force:
        raise fm.ExportError(
            f"output folder {out} already holds files; pass --force to replace it, "
            "or choose another --out"
        )
    real = out.resolve()
    guarded = [Path.home().resolve(), Path(real.anchor)]
    if real in guarded or any(p.resolve().is_relative_to(real) for p in keep):
        raise fm.ExportError(
            f"--force would replace {out}, which holds the run or your files; "
            "choose a folder of its own for --out"
        )


def parse_min_agreement(value: float | None) -> float | None:
    """``--min-agreement`` as a fraction: 0.98 or 98 (percent) both mean 98%."""
    if value is None:
        return None
    frac = value / 100.0 if value > 1 else value
    if not 0 < frac <= 1:
        raise fm.ExportError(f"--min-agreement must be in (0, 1] or (0, 100]; got {value}")
    return frac


def versions() -> dict[str, str]:
    """Versions of the converters and runtimes that are installed."""
    found = {}
    for dist in ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return found


def _arrays(dataset: Iterable, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    from cnntui.core.judge.evaluate import labels_to_int

    xs, ys, n = [], [], 0
    for x, y in dataset:
        xs.append(np.asarray(x, dtype=np.float32))
        ys.append(labels_to_int(np.asarray(y)))
        n += len(xs[-1])
        if limit and n >= limit:
            break
    if not xs:
        raise fm.ExportError("the parity data has no images; pass --data with labelled images")
    x, y = np.concatenate(xs), np.concatenate(ys)
    return (x[:limit], y[:limit]) if limit else (x, y)


def parity_data(
    loaded: LoadedModel, data: str | None, limit: int | None, want_train: bool
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], np.ndarray | None]:
    """(x, y, about, calibration x): the run's validation split (or ``data``), and the
    first images of the run's own training split for int8 calibration."""
    from cnntui.core.data.run_data import load_run_data, load_split
    from cnntui.core.data.sources import classify_source
    from cnntui.core.judge.evaluate import folder_batches

    config = loaded.run.config
    bundle = None
    if data is None:
        bundle, source, _, notes = load_run_data(config, None, "val")
        if bundle.val is None:
            raise fm.ExportError(
                f"run {loaded.run.id} has no validation split to check the export on; "
                "pass --data SOURCE"
            )
        dataset, split = bundle.val, "val"
    elif classify_source(data).kind == "folder":
        dataset, split, _, notes = folder_batches(data, loaded)
        source = str(Path(data).expanduser())
    else:
        dataset, source, split, _, notes = load_split(config, data, "test")
    x, y = _arrays(dataset, limit)
    calib = None
    if want_train:
        if bundle is None:
            bundle = load_run_data(config, None, "val")[0]
        calib = _arrays(bundle.train, None)[0]
    about = {"source": source, "split": split, "examples": int(len(y)), "notes": notes}
    return x, y, about, calib


def _representative(calib: np.ndarray, n: int):
    def gen():
        for i in range(min(n, len(calib))):
            yield [calib[i : i + 1]]

    return gen


def _savedmodel(model: Any, path: Path) -> None:
    try:
        fm.export_savedmodel(model, path)
    except Exception as exc:  # noqa: BLE001 - the exporter's failure becomes one clear line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise fm.ExportError(f"SavedModel export failed: {first}") from None


def _convert(fmt: str, model: Any, tmp: Path, saved: Path, calib, n_calib: int) -> Path:
    target = tmp / fm.FORMATS[fmt].filename
    try:
        if fmt == "savedmodel":
            shutil.copytree(saved, target)
        elif fmt == "onnx":
            fm.export_onnx(model, target)
        else:
            variant = {"tflite": "float", "tflite-fp16": "fp16", "tflite-int8": "int8"}[fmt]
            rep = _representative(calib, n_calib) if variant == "int8" else None
            fm.export_tflite(saved, target, variant, rep)
    except fm.ExportError:
        raise
    except Exception as exc:  # noqa: BLE001 - a converter's failure becomes one clear line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        others = [f for f in fm.FORMATS if f != fmt]
        raise fm.ExportError(
            f"{fmt} conversion failed: {first}. The other formats may still work "
            f"(--format {','.join(others)})"
        ) from None
    return target


def _commit(tmp: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_run(
    run_ref: str | None = None,
    formats: Iterable[str] | None = None,
    out: str | Path | None = None,
    force: bool = False,
    data: str | None = None,
    limit: int | None = None,
    calibration_images: int = DEFAULT_CALIBRATION,
    min_agreement: float | None = None,
    unsafe: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Export, check each format against the Keras model, and return the parity report.

    Raises :class:`~cnntui.core.export.formats.ExportError` (or ``CheckpointError``)
    before writing anything for bad input; ``report["passed"]`` is False when a format's
    agreement is below its threshold (its files are still written, marked FAILED).
    """
    emit = progress or (lambda kind, payload: None)
    names = fm.parse_formats(formats)
    fm.check_available(names)
    threshold = parse_min_agreement(min_agreement)
    if calibration_images < 1:
        raise fm.ExportError(f"--calibration-images must be at least 1; got {calibration_images}")
    loaded = open_model(run_ref, unsafe=unsafe)
    run = loaded.run
    out = Path(out).expanduser() if out else run.path(DEFAULT_OUT)
    check_out(out, force, keep=[run.dir, run.dir.parent])
    emit("step", {"text": f"loading the data of run {run.id}"})
    x, y, about, calib = parity_data(loaded, data, limit, "tflite-int8" in names)
    keras_predict = make_predictor(loaded, pad_to=parity.PARITY_BATCH)
    reference = parity.predict_all(keras_predict, x)
    keras_row = {
        "format": "keras",
        "file": loaded.path.name,
        "size_bytes": loaded.path.stat().st_size,
        "accuracy": parity.accuracy(reference, y),
        **parity.timings(make_predictor(loaded), x),  # unpadded: batch 1 is batch 1
    }
    emit("row", keras_row)
    out.parent.mkdir(parents=True, exist_ok=True)
    model, removed = inference_model(loaded.model)
    if removed:
        emit("step", {"text": f"left out augmentation layers: {', '.join(removed)}"})
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        saved = tmp / ".work" / "saved_model"
        if FORMATS_NEEDING_SAVEDMODEL.intersection(names):
            emit("step", {"text": "exporting the SavedModel"})
            _savedmodel(model, saved)
        rows = []
        for name in names:
            emit("step", {"text": f"converting to {name}"})
            target = _convert(name, model, tmp, saved, calib, calibration_images)
            emit("step", {"text": f"checking {name} against Keras"})
            rows.append(_check(name, target, loaded, x, y, reference, threshold))
            emit("row", rows[-1])
        shutil.rmtree(tmp / ".work", ignore_errors=True)
        files = {r["format"]: r["file"] for r in rows}
        sidecars.write_sidecars(tmp, loaded, files)
        report = {
            "run": run.id,
            "model": run.model_name,
            "checkpoint": loaded.path.name,
            "out": str(out),
            "class_names": loaded.class_names,
            "units": loaded.units,
            "output": "logits" if loaded.logits else "probabilities",
            "preprocessing": sidecars.preprocessing_doc(loaded, files),
            "data": about,
            "calibration_images": min(calibration_images, len(calib))
            if calib is not None
            else None,
            "removed_layers": removed,
            "keras": keras_row,
            "formats": rows,
            "passed": all(r["passed"] for r in rows),
            "versions": versions(),
        }
        metrics = run.metrics if run.path("metrics.json").exists() else {}
        card = sidecars.model_card(report, run.config, metrics)
        (tmp / sidecars.CARD).write_text(card, encoding="utf-8")
        _commit(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _check(name, target, loaded, x, y, reference, threshold) -> dict[str, Any]:
    from cnntui.core.inference.runtimes import open_runtime

    runtime = open_runtime(target)

    def predict(batch: np.ndarray) -> np.ndarray:
        return to_class_probabilities(runtime.predict(batch), loaded.binary, loaded.logits)

    probs = parity.predict_all(predict, x)
    need = threshold if threshold is not None else fm.FORMATS[name].min_agreement
    row = {
        "format": name,
        "file": fm.FORMATS[name].filename,
        "runtime": fm.FORMATS[name].runtime,
        "size_bytes": fm.file_size(target),
        **parity.compare(probs, reference, y),
        **parity.timings(predict, x),
        "min_agreement": need,
    }
    row["passed"] = row["agreement"] is not None and row["agreement"] >= need
    return row
