"""Real (tiny) training in-process: run directory, events, stop, NaN, early stopping."""

from __future__ import annotations

import csv
import json
import os
import threading

import pytest

from cnntui.core.runs import Run
from cnntui.core.train import TrainConfig, resume, train

TINY_ZOO = """
from cnntui.core.registry import Hyperparameters, register_model

HP = Hyperparameters(batch_size=16, epochs=2, loss="sparse_categorical_crossentropy")


@register_model("tiny-dense", title="Tiny dense (tests)", hyperparameters=HP, tags=("test",))
def tiny_dense(input_shape, num_classes):
    import keras

    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


@register_model("tiny-nan", title="Produces NaN (tests)", hyperparameters=HP, tags=("test",))
def tiny_nan(input_shape, num_classes):
    import keras

    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Rescaling(float("nan")),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
"""

CONFIG_KEYS = {
    "model",
    "title",
    "source_file",
    "model_source",
    "hyperparameters",
    "data",
    "input_shape",
    "num_classes",
    "seed",
    "created",
    "versions",
    "argv",
}


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-zoo")
    (folder / "tiny.py").write_text(TINY_ZOO, encoding="utf-8")
    return str(folder)


def events(run: Run) -> list[dict]:
    return [json.loads(line) for line in run.path("events.jsonl").read_text().splitlines()]


def history(run: Run) -> list[dict]:
    with open(run.path("history.csv"), newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_writes_a_complete_run_directory(tiny_zoo):
    import keras
    import numpy as np

    result = train(TrainConfig("tiny-dense", zoo=[tiny_zoo], epochs=2, limit=300, seed=3))
    run = result.run
    assert result.status == "finished" and run.status == "finished"

    cfg = run.config
    assert CONFIG_KEYS <= set(cfg)
    assert "def tiny_dense" in cfg["model_source"]
    assert cfg["hyperparameters"]["epochs"] == 2 and cfg["hyperparameters"]["batch_size"] == 16
    assert cfg["data"]["source"] == "sample" and cfg["data"]["counts"] == {"train": 270, "val": 30}
    assert cfg["data"]["class_names"] == [str(i) for i in range(10)]
    assert {"cnntui", "keras", "tensorflow", "python"} <= set(cfg["versions"])

    evs = events(run)
    kinds = [e["event"] for e in evs]
    assert kinds[0] == "begin" and kinds[-1] == "done"
    assert [e["epoch"] for e in evs if e["event"] == "epoch"] == [1, 2]
    begin = evs[0]
    assert begin["steps_per_epoch"] == 17 and begin["samples"] == 270 and begin["epochs"] == 2
    epoch = [e for e in evs if e["event"] == "epoch"][-1]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(epoch["logs"])
    assert epoch["images_per_sec"] > 0 and epoch["eta_seconds"] == 0
    assert all("time" in e for e in evs)

    rows = history(run)
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert list(rows[0]) == ["epoch", *sorted(epoch["logs"])]  # CSVLogger's columns

    model = keras.models.load_model(run.path("best.keras"))  # plain Keras, no cnntui
    assert model.predict(np.zeros((1, 28, 28, 1), "float32"), verbose=0).shape == (1, 10)
    assert keras.models.load_model(run.path("last.keras")).optimizer.iterations.numpy() == 34
    best_epoch = json.loads(run.path("state.json").read_text())["best_epoch"]
    same = os.path.samefile(run.path("best.keras"), run.path("last.keras"))
    assert same == (best_epoch == 2)  # best is the best epoch's last.keras, linked not saved

    m = run.metrics
    assert m["epochs_completed"] == 2 and m["wall_seconds"] > 0 and m["images_per_sec"] > 0
    assert m["best_val_loss"] == min(float(r["val_loss"]) for r in rows)
    assert not list(run.dir.glob(".*tmp*"))  # no temporary files left behind


class StopOn:
    """A display sink that asks training to stop at the first event of ``kind``."""

    def __init__(self, kind: str, stop: threading.Event):
        self.kind, self.stop = kind, stop

    def handle(self, event):
        if event["event"] == self.kind:
            self.stop.set()

    def close(self):
        pass


def test_stop_request_ends_after_one_batch_and_resume_continues(tiny_zoo):
    stop = threading.Event()
    cfg = TrainConfig("tiny-dense", zoo=[tiny_zoo], epochs=3, limit=300)
    result = train(cfg, sinks=[StopOn("begin", stop)], stop=stop)
    run = result.run
    assert result.status == "stopped" and run.status == "stopped"
    # no epoch completed: nothing to resume from, so no (costly) checkpoint is written
    assert not run.path("last.keras").exists()
    assert not run.path("history.csv").exists()  # and it is not a completed epoch
    stopped = events(run)[-1]
    assert stopped["event"] == "stopped" and stopped["epoch"] == 0
    assert stopped["resumable"] is False and "nothing to resume" in stopped["reason"]

    again = resume(run.id, epochs=1)
    assert again.status == "finished"
    assert [r["epoch"] for r in history(run)] == ["0"]
    assert [e["event"] for e in events(run)].count("begin") == 2


def test_stop_after_a_completed_epoch_keeps_the_partial_weights(tiny_zoo):
    stop = threading.Event()
    cfg = TrainConfig("tiny-dense", zoo=[tiny_zoo], epochs=3, limit=200)
    result = train(cfg, sinks=[StopOn("epoch", stop)], stop=stop)
    run = result.run
    assert result.status == "stopped"
    assert run.path("last.keras").exists()  # the partial epoch's weights are kept
    assert [r["epoch"] for r in history(run)] == ["0"]  # only the completed epoch
    stopped = events(run)[-1]
    assert stopped["epoch"] == 1 and stopped["resumable"] is True
    assert "nothing to resume" not in stopped["reason"]
    assert json.loads(run.path("state.json").read_text())["epochs_completed"] == 1


def test_nan_loss_fails_with_a_clear_reason(tiny_zoo):
    result = train(TrainConfig("tiny-nan", zoo=[tiny_zoo], epochs=2, limit=100))
    assert result.status == "failed" and result.run.status == "failed"
    failed = events(result.run)[-1]
    assert failed["event"] == "failed" and "NaN" in failed["reason"] and "--lr" in failed["reason"]
    assert not result.run.path("last.keras").exists()  # NaN weights are never saved


def test_early_stopping_and_reduce_lr_on_a_plateau(tiny_zoo):
    # SGD with a learning rate this small leaves the weights bit-identical: a real plateau.
    cfg = TrainConfig(
        "tiny-dense",
        zoo=[tiny_zoo],
        epochs=6,
        limit=100,
        optimizer="sgd",
        learning_rate=1e-30,
        patience=2,
        reduce_lr=True,
    )
    result = train(cfg)
    assert result.status == "finished"
    assert result.reason.startswith("early stopping")
    rows = history(result.run)
    assert len(rows) == 3  # epoch 1 sets the best, 2 and 3 do not improve: stop
    lrs = [float(r["learning_rate"]) for r in rows]
    assert lrs[2] == pytest.approx(lrs[0] / 2, rel=1e-3)
    state = json.loads(result.run.path("state.json").read_text())
    assert state["epochs_completed"] == 3 and state["early_stopping"]["wait"] == 2


def test_bad_requests_fail_before_a_run_directory_exists(tiny_zoo):
    from cnntui.core.runs import list_runs

    with pytest.raises(ValueError, match="--optimizer must be one of"):
        train(TrainConfig("tiny-dense", zoo=[tiny_zoo], optimizer="nadamx"))
    with pytest.raises(ValueError, match="--val-split"):
        train(TrainConfig("tiny-dense", zoo=[tiny_zoo], val_split=1.5))
    with pytest.raises(ValueError, match="not found"):
        train(TrainConfig("tiny-dense", zoo=[tiny_zoo], data="no/such/folder"))
    assert list_runs() == []


def test_checkpoint_saves_after_the_first_build_no_throwaway_keras_objects(tmp_path, monkeypatch):
    """Keras 3.15 rebuilds its saving skip sets (a Layer, an Optimizer, …) at every save;
    save_model caches them, and the file still loads with the same weights."""
    import keras
    import numpy as np
    from keras.src.layers.layer import Layer

    from cnntui.core.train.checkpoint import save_model

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 4)), np.ones((8, 3)), verbose=0)
    save_model(model, tmp_path / "a.keras")
    built = []
    original = Layer.__init__

    def counting(self, *args, **kwargs):
        built.append(type(self).__name__)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Layer, "__init__", counting)
    save_model(model, tmp_path / "b.keras")
    assert built == []  # no throwaway Layer() for the skip set this time
    again = keras.models.load_model(tmp_path / "b.keras")
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(again.optimizer.iterations.numpy()) == 1


def test_batch_hooks_called_out_of_order_never_count_back():
    """Off TensorFlow, Keras runs the batch-end hooks in its threads (``async_safe``), two
    at once and in any order: the step and the batch events only go forward, the NaN reason
    names the first bad batch, and validation is cut short only for an epoch that did not
    start all its steps."""
    import keras

    from cnntui.core.train import callbacks as kc
    from cnntui.core.train.events import EventLog
    from cnntui.core.train.progress import Progress

    seen: list[dict] = []

    class Sink:
        def handle(self, event):
            seen.append(event)

        def close(self):
            pass

    progress = Progress(steps=10)
    info = kc.RunInfo(run_id="r", model_name="m", batch_size=4, samples=40)
    events_cb = kc.EventCallback(EventLog(record=[Sink()]), progress, info, throttle=0.0)
    guard = kc.NaNGuard(progress)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    for cb in (events_cb, guard):
        cb.set_model(model)
    assert kc.EventCallback.async_safe == kc.NaNGuard.async_safe == kc.ASYNC_BATCH_HOOKS
    assert kc.ASYNC_BATCH_HOOKS is (keras.backend.backend() != "tensorflow")
    events_cb.on_epoch_begin(0)
    for batch in range(10):
        events_cb.on_train_batch_begin(batch)
    for batch in (0, 2, 1, 4, 3):  # the hooks of batches 2 and 4 ran before 1's and 3's
        events_cb.on_train_batch_end(batch, {"loss": 1.0})
        guard.on_batch_end(batch, {"loss": float("nan") if batch >= 2 else 1.0})
    assert progress.step == 5
    assert [e["step"] for e in seen if e["event"] == "batch"] == [1, 3, 5]
    assert "epoch 1, batch 3;" in progress.failure  # batch 2 (0-based): the first NaN
    assert model.stop_training
    events_cb.on_test_batch_end(0)  # all 10 steps started: the epoch ran to its end
    assert not getattr(model, "stop_evaluating", False)
    events_cb._started = 5  # the loop stopped after 5 of 10 steps
    events_cb.on_test_batch_end(0)
    assert model.stop_evaluating


def test_lr_find_sweeps_the_inputs_of_the_run_it_is_for(tiny_zoo, tmp_path):
    """``find_lr`` and the training session share one prepare step: with ``--rescale
    none`` and ``--validate-on test`` the sweep loads the data exactly as the run does
    (raw pixels, the whole training set, the test set as validation data)."""
    import numpy as np

    from cnntui.core.train.lr_find import find_lr

    rng = np.random.default_rng(0)
    path = tmp_path / "digits.npz"
    np.savez(
        path, x=rng.integers(0, 256, (60, 8, 8, 1), dtype=np.uint8), y=rng.integers(0, 3, 60),
        x_test=rng.integers(0, 256, (20, 8, 8, 1), dtype=np.uint8), y_test=rng.integers(0, 3, 20),
    )  # fmt: skip
    request = dict(
        model="tiny-dense", zoo=[tiny_zoo], data=str(path), epochs=1, seed=1,
        rescale="none", validate_on="test", runs_dir=str(tmp_path / "runs"),
    )  # fmt: skip
    result = train(TrainConfig(**request))
    assert result.status == "finished"
    recorded = result.run.config["data"]

    sweep, info = find_lr(TrainConfig(**request), steps=5)
    assert len(sweep.lrs) >= 1

    def without_label_mode(options: dict) -> dict:
        return {k: v for k, v in options.items() if k != "label_mode"}

    assert without_label_mode(info["data_options"]) == without_label_mode(recorded["options"])
    assert info["data_options"]["rescale"] == "none" and info["data_options"]["val_split"] == 0.0
    assert info["counts"] == recorded["counts"] == {"train": 60, "val": 20}
    assert info["input_shape"] == result.run.config["input_shape"]
