"""Where a backbone entry's pretrained weights come from (``--weights``), and filling the
backbone with them.

- ``imagenet``: the file Keras's own ``keras.applications`` code downloads, found in
  Keras's cache (``$KERAS_HOME/models``, else ``~/.keras/models``) without the network, or
  downloaded there by Keras (``keras.utils.get_file``, with its hash); offline, a
  :class:`WeightsError` names the file, its URL and where to put it.
- a file: a weights file for the backbone without its top: Keras's own ``.h5`` (as
  ``keras.applications`` publishes it) or a Keras 3 ``.weights.h5``.
- a run: the backbone of an earlier cnntui run of the same entry (pretrain on your own large
  data, fine-tune on the small set).
- ``none``: random weights, from scratch.

The model is always built the same way, with random weights, and then filled
(:func:`load_backbone_weights`), so a local file gives the same model as the download.
Checked before any run is created (:func:`check_weights`), so a wrong value is exit 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cnntui.core.errors import CnntuiError
from cnntui.core.user_dirs import keras_home
from cnntui.core.zoo_layers import BACKBONE

IMAGENET, NONE = "imagenet", "none"
KINDS = (IMAGENET, "file", "run", NONE)


class WeightsError(CnntuiError, ValueError):
    """A ``--weights`` value that cannot be used, with what would work."""


@dataclass(frozen=True)
class WeightsChoice:
    """The weights a run starts from: ``kind`` (imagenet, file, run, none) and the file
    read (``path``; for ``imagenet`` the one in Keras's cache), its ``url`` and the
    ``file_hash`` Keras publishes, the ``run`` whose backbone is used, a note for people."""

    kind: str
    path: str | None = None
    url: str | None = None
    file_hash: str | None = None
    run: str | None = None
    note: str = ""

    def describe(self) -> str:
        """One line for people: where the weights came from."""
        if self.kind == IMAGENET:
            return f"ImageNet weights from Keras's cache ({self.path})"
        if self.kind == "file":
            return f"weights from {self.path}"
        if self.kind == "run":
            return f"the backbone of run {self.run} ({self.path})"
        return "random weights (from scratch)"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


@dataclass(frozen=True)
class KerasWeightsFile:
    """The file ``keras.applications`` asks ``get_file`` for: its name, URL and hash."""

    name: str
    url: str
    file_hash: str | None

    @property
    def cached(self) -> Path:
        return keras_home() / "models" / self.name


def classify_weights(value: str | None, entry: Any) -> str:
    """The kind of a ``--weights`` value for ``entry`` (no Keras): ``imagenet`` and ``none``
    by name, an existing file, else a run reference; raise for an entry without a backbone."""
    text = (value or "").strip()
    if entry.pretrained is None:
        if text and text.lower() != NONE:
            raise WeightsError(
                f"--weights is for backbone entries (tag 'backbone', see `cnntui zoo list "
                f"--tag backbone`); {entry.name} trains from scratch"
            )
        return NONE
    low = text.lower()
    if low in ("", IMAGENET):
        return IMAGENET
    if low == NONE:
        return NONE
    if Path(text).expanduser().is_file():
        return "file"
    if Path(text).expanduser().suffix in (".h5", ".keras"):
        raise WeightsError(f"--weights {text}: no such file")
    return "run"


def keras_weights_file(application: str, input_shape: tuple[int, ...]) -> KerasWeightsFile:
    """Ask ``keras.applications.<application>`` which file it would download for its
    ImageNet weights without the top, without downloading: its ``get_file`` call is
    recorded and stopped (the names, URLs and hashes stay Keras's own)."""
    import keras
    from keras.src.utils import file_utils

    asked: dict[str, Any] = {}

    class Asked(Exception):
        pass

    def record(fname=None, origin=None, *args, **kwargs):
        asked.update(name=fname, url=origin, file_hash=kwargs.get("file_hash"))
        raise Asked

    build = getattr(keras.applications, application)
    real = file_utils.get_file
    file_utils.get_file = record
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "weights for input shape (224, 224) will load"
            build(
                include_top=False, weights=IMAGENET, input_shape=tuple(input_shape), pooling="avg"
            )
    except Asked:
        pass
    finally:
        file_utils.get_file = real
        keras.backend.clear_session(free_memory=False)
    if not asked:
        raise WeightsError(f"keras.applications.{application} asked for no weights file")
    return KerasWeightsFile(**asked)


def download(wanted: KerasWeightsFile) -> Path:
    """Keras's own download of ``wanted`` into its cache (``keras.utils.get_file``; its
    progress goes to stderr, so ``--json`` output stays clean)."""
    import keras

    with redirect_stdout(sys.stderr):
        got = keras.utils.get_file(
            wanted.name, wanted.url, cache_subdir="models", file_hash=wanted.file_hash
        )
    return Path(got)


def imagenet_weights(entry: Any) -> WeightsChoice:
    """The ImageNet weights of ``entry``'s backbone: Keras's cached file (used without the
    network), else downloaded by Keras; offline, a :class:`WeightsError` saying what to do.
    Asked for at the backbone's native size, so the file does not depend on the run's
    input (the weights' shapes do not either)."""
    wanted = keras_weights_file(entry.pretrained.application, entry.pretrained.native_input)
    path, note = wanted.cached, ""
    if path.is_file():
        from keras.src.utils.file_utils import validate_file

        if wanted.file_hash and not validate_file(str(path), wanted.file_hash):
            note = (
                f"{path.name} in Keras's cache is not the file Keras publishes (its hash differs)"
            )
    else:
        try:
            path = download(wanted)
        except Exception as exc:  # noqa: BLE001 - any download failure: one clear message
            reason = " ".join(str(exc).split()).rpartition(" -- ")[2][:200] or type(exc).__name__
            raise WeightsError(
                f"cannot get the ImageNet weights of {entry.name} ({reason}): Keras wants "
                f"{wanted.name} from {wanted.url}",
                hint=f"this machine may be offline: download that file where there is a network "
                f"and put it in {wanted.cached.parent}/ (KERAS_HOME), or pass --weights FILE, "
                "or --weights none to train from scratch",
            ) from None
    return WeightsChoice(
        IMAGENET, path=str(path), url=wanted.url, file_hash=wanted.file_hash, note=note
    )


def run_weights(ref: str, entry: Any) -> WeightsChoice:
    """The backbone of an earlier run of ``entry`` (its best checkpoint)."""
    from cnntui.core.runs import RunNotFoundError, resolve_run

    try:
        run = resolve_run(ref)
    except RunNotFoundError as exc:
        raise WeightsError(
            f"--weights {ref!r} is not imagenet, none, a weights file or a run ({exc})"
        ) from None
    trained = run.config.get("model")
    if trained != entry.name:
        raise WeightsError(
            f"run {run.id} trained {trained}, not {entry.name}: its backbone does not fit; "
            f"give a run of {entry.name}, or a weights file"
        )
    path = run.checkpoint("best")
    if not path.exists():
        raise WeightsError(f"run {run.id} has no {path.name} yet (status {run.status})")
    return WeightsChoice("run", path=str(path), run=run.id)


def resolve_weights(value: str | None, entry: Any) -> WeightsChoice:
    """What ``--weights value`` means for ``entry`` (``imagenet`` may download)."""
    kind = classify_weights(value, entry)
    if kind == IMAGENET:
        return imagenet_weights(entry)
    if kind == "file":
        return WeightsChoice("file", path=str(Path(str(value)).expanduser().resolve()))
    if kind == "run":
        return run_weights(str(value).strip(), entry)
    return WeightsChoice(NONE)


def find_backbone(model: Any) -> Any:
    """The nested ``keras.applications`` model of a backbone entry's model."""
    try:
        return model.get_layer(BACKBONE)
    except ValueError:
        raise WeightsError(
            f"{model.name} has no {BACKBONE!r} layer: not a backbone entry"
        ) from None


def _is_legacy_h5(path: Path) -> bool:
    import h5py

    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        return "layer_names" in group.attrs


@contextmanager
def _named_for_keras(path: Path):
    """``path`` under the name Keras's ``load_weights`` reads by: ``.weights.h5`` for its
    own format, another ``.h5`` name for the legacy one (``keras.applications`` files)."""
    legacy = _is_legacy_h5(path)
    if legacy != path.name.endswith(".weights.h5"):
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / ("weights.h5" if legacy else "weights.weights.h5")
        os.symlink(path.resolve(), link)
        yield link


def load_backbone_weights(model: Any, choice: WeightsChoice) -> None:
    """Fill ``model``'s backbone as ``choice`` says; a file that does not fit raises
    :class:`WeightsError` saying why."""
    if choice.kind == NONE:
        return
    backbone = find_backbone(model)
    path = Path(str(choice.path))
    if choice.kind == "run":
        _copy_run_backbone(backbone, path, choice.run)
        return
    try:
        with _named_for_keras(path) as readable:
            backbone.load_weights(readable)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        first = " ".join(str(exc).split())[:240]
        raise WeightsError(
            f"{path} does not fit this backbone ({len(backbone.weights)} weight arrays, "
            f"no top): {first}",
            hint="give the backbone's weights without the ImageNet top (Keras names them "
            "…no_top… or …_notop.h5), saved for the same architecture",
        ) from None


def _copy_run_backbone(backbone: Any, path: Path, run_id: str | None) -> None:
    from cnntui.core.checkpoints import load_keras_model

    source = find_backbone(load_keras_model(path))
    theirs, ours = source.get_weights(), backbone.weights
    shapes = [tuple(w.shape) for w in theirs], [tuple(w.shape) for w in ours]
    if shapes[0] != shapes[1]:
        raise WeightsError(f"the backbone of run {run_id} does not fit this one (other shapes)")
    backbone.set_weights(theirs)


def check_weights(
    value: str | None, entry: Any, input_shape: tuple[int, ...], builder_args: dict | None = None
) -> tuple[WeightsChoice, list[str]]:
    """Resolve ``--weights`` and prove it fits: the entry built at ``input_shape`` and filled
    (imports Keras; call before a run exists, so a mistake creates nothing). Returns the
    choice and the names of the backbone's layers."""
    choice = resolve_weights(value, entry)
    import keras

    try:
        model = entry.build(input_shape, 2, **(builder_args or {}))
        load_backbone_weights(model, choice)
        names = [layer.name for layer in find_backbone(model).layers]
    finally:
        keras.backend.clear_session(free_memory=False)
    return choice, names
