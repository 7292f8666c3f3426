"""Evaluate a checkpoint on labelled data: every number of the classifier report.

``evaluate_run`` loads the run's checkpoint and its data (the recorded source, seed and
validation split, so the split is the one training held out, or another ``--data``
source), predicts every example once, and keeps per example an identifier, the true and
predicted class, the probabilities and the loss. :class:`EvaluationResult` derives the
report from those (numpy only, :mod:`cnntui.core.judge.metrics`) and can list the examples
behind any confusion-matrix cell.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnntui.core.atomic import atomic_write_json
from cnntui.core.checkpoints import CheckpointError
from cnntui.core.data.run_data import load_split
from cnntui.core.inference.batches import decode_batch
from cnntui.core.inference.open import LoadedModel, open_for_inference
from cnntui.core.inference.predict import make_predictor
from cnntui.core.judge import metrics
from cnntui.core.runs import Run

EVALUATION = "evaluation.json"
MAX_EXAMPLES = 20


@dataclass
class EvaluationResult:
    """Per-example outcomes of one evaluation, and the report derived from them."""

    class_names: list[str]
    y_true: np.ndarray
    probs: np.ndarray
    ids: list[str]
    source: str = ""
    split: str = ""
    checkpoint: str = ""
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)
    images: np.ndarray | None = None
    loss_name: str = "crossentropy"
    binary_head: bool = False
    temperature: float = 1.0
    positive: int = 1  # two classes: the class whose score and label 1 the binary report uses

    def __post_init__(self) -> None:
        self.y_true = np.asarray(self.y_true, dtype=np.int64).reshape(-1)
        self.probs = np.asarray(self.probs, dtype=np.float64)
        self.y_pred = np.argmax(self.probs, axis=1) if len(self.probs) else np.zeros(0, int)
        self.loss_name, self.losses = metrics.example_losses(
            self.loss_name, self.y_true, self.probs, self.binary_head
        )
        self.confusion = metrics.confusion_matrix(self.y_true, self.y_pred, self.num_classes)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the examples of class ``true`` predicted as ``predicted``."""
        return np.flatnonzero((self.y_true == true) & (self.y_pred == predicted))

    def example(self, i: int) -> dict[str, Any]:
        """One example as JSON: id, true/predicted class, probabilities and loss."""
        t, p = int(self.y_true[i]), int(self.y_pred[i])
        return {
            "id": self.ids[i],
            "true": self.class_names[t],
            "true_index": t,
            "predicted": self.class_names[p],
            "predicted_index": p,
            "probability": float(self.probs[i, p]),
            "true_probability": float(self.probs[i, t]),
            "loss": float(self.losses[i]),
        }

    def report(self, top_k: int = 5, max_examples: int = MAX_EXAMPLES) -> dict[str, Any]:
        """Everything ``cnntui evaluate --json`` prints and ``evaluation.json`` holds."""
        names, cm, k = self.class_names, self.confusion, self.num_classes
        n = len(self.y_true)
        table = metrics.per_class(cm)
        aucs = metrics.roc_auc_ovr(self.y_true, self.probs) if n else [None] * k
        avgs = metrics.averages(table)
        defined = [(a, s) for a, s in zip(aucs, table["support"], strict=True) if a is not None]
        avgs["macro"]["roc_auc"] = float(np.mean([a for a, _ in defined])) if defined else None
        avgs["weighted"]["roc_auc"] = (
            float(np.average([a for a, _ in defined], weights=[s for _, s in defined]))
            if defined and sum(s for _, s in defined)
            else None
        )
        per_class = []
        for c in range(k):
            row = {"class": names[c], "index": c}
            row.update(
                {m: (int(v[c]) if m == "support" else float(v[c])) for m, v in table.items()}
            )
            row["roc_auc"] = aucs[c]
            per_class.append(row)
        k_eff = min(top_k, k - 1)
        out: dict[str, Any] = {
            "run": self.run_id,
            "checkpoint": self.checkpoint,
            "data": self.source,
            "split": self.split,
            "examples": n,
            "class_names": list(names),
            "loss": float(np.mean(self.losses)) if n else None,
            "loss_name": self.loss_name,
            "accuracy": float(np.mean(self.y_true == self.y_pred)) if n else None,
            "top_k_accuracy": (
                {"k": k_eff, "value": metrics.top_k_accuracy(self.y_true, self.probs, k_eff)}
                if k_eff >= 2 and n
                else None
            ),
            "confusion_matrix": cm.tolist(),
            "confusion_matrix_normalised": metrics.row_normalise(cm).round(6).tolist(),
            "per_class": per_class,
            "averages": avgs,
            "binary": self._binary() if k == 2 and n else None,
            "most_confused": [
                {
                    **pair,
                    "true": names[pair["true"]],
                    "true_index": pair["true"],
                    "predicted": names[pair["predicted"]],
                    "predicted_index": pair["predicted"],
                    "examples": [
                        self.ids[i]
                        for i in self.cell(pair["true"], pair["predicted"])[:max_examples]
                    ],
                }
                for pair in metrics.most_confused(cm, limit=10)
            ],
            "confusion_examples": [
                {
                    "true_index": t,
                    "predicted_index": p,
                    "count": int(cm[t, p]),
                    "examples": [self.ids[i] for i in self.cell(t, p)[:max_examples]],
                }
                for t in range(k)
                for p in range(k)
                if cm[t, p]
            ],
            "highest_loss": [
                self.example(int(i)) for i in metrics.highest_loss(self.losses, max_examples)
            ],
            "calibration": self._calibration() if n else None,
            "roc_curves": self._roc_curves() if n else [],
            "pr_curve": self._pr_curve() if k == 2 and n else None,
            "notes": list(self.notes),
            "created": time.time(),
        }
        return out

    def _calibration(self) -> dict[str, Any]:
        cal = metrics.calibration(self.y_true, self.probs, binary=self.num_classes == 2)
        return {"temperature": self.temperature, "bins_count": len(cal["bins"]), **cal}

    def _roc_curves(self) -> list[dict[str, Any]]:
        """One-vs-rest ROC curve per class (at most 200 points each); one for two classes."""
        out = []
        for c in range(1, 2) if self.num_classes == 2 else range(self.num_classes):
            positive = self.y_true == c
            if positive.all() or not positive.any():
                continue
            curve = metrics.thin_curve(metrics.roc_curve(self.probs[:, c], positive), ("fpr",))
            curve.pop("thresholds")
            auc = metrics.roc_auc(self.probs[:, c], positive)
            out.append({"class": self.class_names[c], "index": c, "auc": auc, **curve})
        return out

    def _pr_curve(self) -> dict[str, Any] | None:
        pos = self.positive
        positive = self.y_true == pos
        if positive.all() or not positive.any():
            return None
        curve = metrics.thin_curve(metrics.pr_curve(self.probs[:, pos], positive), ("recall",))
        curve.pop("thresholds")
        return {"positive_class": self.class_names[pos], **curve}

    def _binary(self) -> dict[str, Any]:
        pos = self.positive
        scores, positive = self.probs[:, pos], self.y_true == pos
        sweep = metrics.threshold_sweep(scores, positive)
        return {
            "positive_class": self.class_names[pos],
            "pearson": metrics.pearson(scores, positive.astype(np.float64)),
            "threshold_sweep": sweep,
            "best": metrics.best_threshold(sweep),
        }


def class_index(class_names: list[str], name: str) -> int:
    """The index of class ``name`` (case-insensitive; ``cat`` also matches ``cats``).

    Raises ValueError listing the classes when none matches.
    """
    want = name.strip().lower()
    for i, c in enumerate(class_names):
        if want in (c.lower(), c.lower() + "s") or c.lower() == want + "s":
            return i
    raise ValueError(
        f"positive class {name!r} is not one of the classes {', '.join(class_names)}; "
        "give --positive-class one of them"
    )


def labels_to_int(y: np.ndarray) -> np.ndarray:
    """Integer class labels from ``int`` (N,), ``binary`` (N, 1) or one-hot (N, K) labels."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    return np.rint(y.reshape(-1)).astype(np.int64)


def evaluate_batches(
    loaded: LoadedModel,
    batches: Iterable[tuple[Any, Any]],
    ids: list[str] | None = None,
    id_prefix: str = "",
    keep_images: bool = False,
    loss: str = "crossentropy",
    tta: str | None = None,
) -> EvaluationResult:
    """Predict every ``(x, y)`` batch once and collect the per-example outcomes.

    ``loss``: the Keras loss the model trained with (cross-entropy or mean squared error
    are recomputed as such; any other is reported as cross-entropy).
    """
    predict = make_predictor(loaded, tta=tta)
    probs, labels, images = [], [], []
    for x, y in batches:
        x = np.asarray(x, dtype=np.float32)
        probs.append(predict(x))
        labels.append(labels_to_int(np.asarray(y)))
        if keep_images:
            images.append(x)
    k = loaded.num_classes
    p = np.concatenate(probs) if probs else np.zeros((0, k))
    y_true = np.concatenate(labels) if labels else np.zeros(0, np.int64)
    if len(y_true) and (y_true.min() < 0 or y_true.max() >= k):
        raise CheckpointError(
            f"the data has labels up to {int(y_true.max())} but the model has {k} classes; "
            "this data does not fit this model"
        )
    if ids is None or len(ids) != len(y_true):
        ids = [f"{id_prefix}#{i}" for i in range(len(y_true))]
    return EvaluationResult(
        class_names=loaded.class_names,
        y_true=y_true,
        probs=p,
        ids=list(ids),
        checkpoint=str(loaded.path),
        run_id=loaded.run.id if loaded.run else None,
        images=np.concatenate(images) if keep_images and images else None,
        loss_name=loss,
        binary_head=loaded.binary,
    )


def folder_batches(
    root: str | Path,
    loaded: LoadedModel,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
) -> tuple[Iterator[tuple[np.ndarray, np.ndarray]], str, list[str], list[str]]:
    """Every file of a class-folder tree (its ``test/`` part if it has one), in order.

    Decoded with the run's own preprocessing; class folders are matched to the model's
    classes by name. Returns ``(batches, split, ids, notes)``: ``ids`` (file paths) and
    ``notes`` (unreadable files) fill up as the batches are consumed.
    """
    from cnntui.core.data.arrays import limit_indices
    from cnntui.core.data.folders import scan_folder

    scan = scan_folder(root)
    split = "test" if scan.files.get("test") else "all"
    files = scan.files["test"] if split == "test" else [
        f for part in scan.files.values() for f in part
    ]  # fmt: skip
    if limit:
        files = [files[i] for i in limit_indices(len(files), limit, seed)]
    known = {name: i for i, name in enumerate(loaded.class_names)}
    missing = [n for n in scan.class_names if n not in known]
    if missing:
        raise CheckpointError(
            f"class folders {', '.join(missing[:5])} of {root} are not classes of this model "
            f"({', '.join(loaded.class_names[:10])}); name the folders like the model's classes"
        )
    to_model = [known[n] for n in scan.class_names]
    ids: list[str] = []
    notes: list[str] = []

    def batches() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        bad = []
        for start in range(0, len(files), batch_size):
            chunk = files[start : start + batch_size]
            x, good, errors = decode_batch([p for p, _ in chunk], loaded.preprocessing)
            bad += [f"{chunk[i][0]}: {reason}" for i, reason in errors.items()]
            if x is not None:
                ids.extend(chunk[i][0] for i in good)
                yield x, np.array([to_model[chunk[i][1]] for i in good])
        if bad:
            notes.append(f"{len(bad)} unreadable file(s) left out, e.g. {bad[0]}")

    return batches(), split, ids, notes


def _training_loss(run: Run, loaded: LoadedModel) -> str:
    from cnntui.core.heads import loss_for

    name = (run.config.get("hyperparameters") or {}).get("loss") or "crossentropy"
    return loss_for(str(name), loaded.units)


def evaluation_path(run: Run, data: str | None = None) -> Path:
    """``evaluation.json`` for the run's own data, ``evaluation-<source>.json`` otherwise."""
    if data is None:
        return run.path(EVALUATION)
    slug = re.sub(r"[^a-z0-9]+", "-", Path(str(data)).name.lower()).strip("-") or "data"
    return run.path(f"evaluation-{slug}.json")


def evaluate_run(
    run_ref: str | None = None,
    data: str | None = None,
    split: str = "test",
    checkpoint: str = "best",
    unsafe: bool = False,
    limit: int | None = None,
    top_k: int = 5,
    write: bool = True,
    keep_images: bool = False,
    tta: str | None = None,
    calibration: bool = True,
    explain_worst: int = 0,
    positive_class: str | None = None,
) -> tuple[EvaluationResult, dict[str, Any]]:
    """Evaluate a run's checkpoint; write the report to the run directory when ``write``.

    ``positive_class``: for two classes, the class the binary report (threshold sweep,
    Pearson r, PR curve) calls positive (default: the second, index 1).

    ``tta``: test-time augmentation (``flip``); the report's ``tta`` says which was used.
    ``calibration``: apply the run's temperature (``cnntui calibrate``) when it has one;
    ``explain_worst``: write Grad-CAM overlays of that many highest-loss images.
    """
    from cnntui.core.data.sources import classify_source
    from cnntui.core.inference.tta import NOTE, check_tta

    tta = check_tta(tta)
    loaded = open_for_inference(run_ref, unsafe=unsafe, which=checkpoint, calibration=calibration)
    run = loaded.run
    assert run is not None
    if data is not None and split == "test" and classify_source(data).kind == "folder":
        dataset, used_split, ids, notes = folder_batches(data, loaded, limit)
        source = str(Path(data).expanduser())
    else:
        dataset, source, used_split, ids, notes = load_split(run.config, data, split, limit)
    result = evaluate_batches(
        loaded, dataset, ids=ids, id_prefix=used_split,
        keep_images=keep_images or explain_worst > 0, loss=_training_loss(run, loaded), tta=tta,
    )  # fmt: skip
    result.source, result.split = source, used_split
    if positive_class is not None:
        result.positive = class_index(result.class_names, positive_class)
    result.temperature = loaded.temperature
    result.notes = notes + loaded.notes + ([NOTE[tta]] if tta else [])
    if loaded.temperature != 1.0 and used_split == "val":
        result.notes.append("the temperature was fitted on this same split: optimistic figures")
    report = result.report(top_k=top_k)
    report["tta"] = tta or "none"
    if explain_worst:
        from cnntui.core.judge.explain.explainer import explain_worst as write_worst

        report["explain_worst"] = write_worst(loaded, result, explain_worst, run.path("worst"))
    if write:
        atomic_write_json(evaluation_path(run, data), report)
    return result, report
