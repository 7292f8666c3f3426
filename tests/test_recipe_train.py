"""The recipe in real (tiny) training: resume-exact schedules, EMA checkpoints, class
weights on an imbalanced folder, the time budget, the LR finder and flip TTA."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from run_factory import StopAfter
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.formats import describe
from cnntui.core.runs import BEST, LAST
from cnntui.core.train import TrainConfig, resume, train
from cnntui.core.train.events import read_events
from cnntui.core.train.schedules import SchedulePlan


def _epoch_events(run) -> dict[int, dict]:
    events, _ = read_events(run.path("events.jsonl"), 0)
    return {e["epoch"]: e for e in events if e["event"] == "epoch"}


def test_cosine_resume_continues_the_same_curve_with_ema_checkpoints():
    import keras

    cfg = TrainConfig(
        model="mnist-mlp", epochs=4, limit=300, recipe="modern", warmup=1.0, patience=0
    )
    stop = threading.Event()
    first = train(cfg, sinks=[StopAfter(2, stop)], stop=stop)
    assert first.status == "stopped" and sorted(_epoch_events(first.run)) == [1, 2]
    done = resume(first.run.id)
    assert done.status == "finished"
    hp = done.run.config["hyperparameters"]
    assert hp["recipe"] == "modern" and hp["schedule"] == "cosine" and hp["ema"]
    plan = SchedulePlan(**{**hp["lr_schedule"], "warmup_steps": hp["lr_schedule"]["warmup_steps"]})
    steps = hp["lr_schedule"]["total_steps"] // 4
    events = _epoch_events(done.run)
    assert sorted(events) == [1, 2, 3, 4]
    for epoch, event in events.items():  # the LR each epoch began and ended at, resumed too
        begun, ended = plan.lr_at((epoch - 1) * steps), plan.lr_at(epoch * steps - 1)
        assert event["logs"]["learning_rate_start"] == pytest.approx(begun, rel=1e-4), epoch
        assert event["logs"]["learning_rate"] == pytest.approx(ended, rel=1e-4), epoch
    assert events[2]["logs"]["learning_rate_start"] == pytest.approx(2e-3, rel=1e-4)  # warmed
    assert events[4]["logs"]["learning_rate"] < 0.05 * 2e-3  # annealed: the last step, near 0
    assert events[4]["logs"]["learning_rate"] < events[3]["logs"]["learning_rate"] < 2e-3
    begins = [e for e in read_events(done.run.path("events.jsonl"), 0)[0] if e["event"] == "begin"]
    assert [b["initial_epoch"] for b in begins] == [0, 2]
    assert all(b["recipe"].startswith("recipe modern: adamw") for b in begins)
    # plain Keras opens both checkpoints; the schedule and the EMA travel with them
    last = keras.models.load_model(done.run.path(LAST))
    assert type(last.optimizer.learning_rate).__name__ != "float"
    assert last.optimizer.use_ema and int(last.optimizer.iterations.numpy()) == 4 * steps
    assert isinstance(last.optimizer._learning_rate, keras.optimizers.schedules.CosineDecay)
    keras.models.load_model(done.run.path(BEST))


def test_class_weight_auto_on_an_imbalanced_folder(tmp_path):
    from cnntui.core.images import load_image
    from cnntui.core.inference.open import open_model
    from cnntui.core.inference.predict import make_predictor
    from tests.image_factory import make_image_folder

    root = make_image_folder(
        tmp_path / "imbalanced",
        {"big": 100, "small": 10},
        size=(16, 16),
        kinds=("png",),
        vary_sizes=False,
    )
    cfg = TrainConfig(
        model="resnet-mini",
        data=str(root),
        epochs=4,
        patience=0,
        class_weight="auto",
        builder_args={"width": 8, "depth": 1},
        input_shape=(16, 16, 3),
        val_split=0.0,
        learning_rate=3e-3,
    )
    result = train(cfg)
    assert result.status == "finished"
    begin = next(
        e for e in read_events(result.run.path("events.jsonl"), 0)[0] if e["event"] == "begin"
    )
    weights = begin["class_weight"]
    assert weights["small"] == pytest.approx(10 * weights["big"], rel=1e-6)
    assert weights["big"] == pytest.approx(110 / 200)
    loaded = open_model(result.run.id, which="last")
    small = sorted((root / "small").iterdir())
    x = np.stack([load_image(p, loaded.preprocessing) for p in small])
    predicted = make_predictor(loaded)(x).argmax(axis=1)
    names = loaded.class_names
    # not a model that always answers the big class
    assert (predicted == names.index("small")).mean() >= 0.5


def test_time_budget_ends_within_ten_percent():
    budget = 20.0
    cfg = TrainConfig(
        model="mnist-mlp", limit=400, recipe="modern", time_budget=f"{budget:g}s", patience=0
    )
    result = train(cfg)
    assert result.status == "finished"
    used = result.metrics["time_budget"]["used_seconds"]
    assert result.metrics["time_budget"]["seconds"] == budget
    assert abs(used - budget) <= 0.1 * budget, result.metrics
    assert result.metrics["epochs_completed"] >= 2
    events = _epoch_events(result.run)
    lrs = [events[e]["logs"]["learning_rate"] for e in sorted(events)]
    assert lrs[-1] < max(lrs)  # the schedule was fitted to the budget and decayed
    request = json.loads(result.run.path("request.json").read_text())
    assert request["time_budget"] == "20s"
    # the epoch total is the budget's projection, and says so: "epoch 2/~14"
    begin = next(e for e in read_events(result.run.path("events.jsonl"), 0)[0]
                 if e["event"] == "begin")  # fmt: skip
    assert begin["epochs_estimated"] and "~" in describe(begin).splitlines()[0]
    assert all(events[e]["epochs_estimated"] for e in events)
    assert all(events[e]["eta_seconds"] <= budget for e in events)  # never past the budget
    assert describe(events[1]).startswith(f"epoch {1:>{len(str(events[1]['epochs']))}}/~")


def test_lr_find_cli_and_lr_auto():
    runner = CliRunner()
    out = runner.invoke(app, ["lr-find", "mnist-mlp", "--limit", "300", "--steps", "25", "--json"])
    assert out.exit_code == 0, out.output
    sweep = json.loads(out.output.strip().splitlines()[-1])
    assert 2 <= len(sweep["lrs"]) <= 25 and sweep["steps"] == 25
    assert sweep["lrs"] == sorted(sweep["lrs"])
    assert sweep["suggestion"] == sweep["suggestions"]["valley"]
    assert 1e-7 <= sweep["suggestion"] <= 10
    if len(sweep["lrs"]) < 25:
        assert sweep["stopped_early"]

    result = train(TrainConfig(model="mnist-mlp", epochs=1, limit=300, learning_rate="auto"))
    assert result.status == "finished"
    hp = result.run.config["hyperparameters"]
    recorded = json.loads(result.run.path("lr_find.json").read_text())
    assert hp["learning_rate"] == recorded["suggestion"] == hp["lr_find"]["suggestion"]
    assert hp["recipe_sources"]["learning_rate"] == "lr-find"


def test_tta_flip_is_the_mean_of_the_two_passes(tmp_path, digits_small):
    import keras

    from cnntui.core.inference.open import open_model
    from cnntui.core.inference.predict import make_predictor

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = open_model(checkpoint=str(path), labels=[str(i) for i in range(10)])
    x = (digits_small[0][:16, :, :, None] / 255.0).astype(np.float32)
    plain = make_predictor(loaded, eager=True)
    mirrored = plain(np.ascontiguousarray(x[:, :, ::-1]))
    tta = make_predictor(loaded, eager=True, tta="flip")(x)
    np.testing.assert_allclose(tta, (plain(x) + mirrored) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(plain(x), mirrored)  # the mirror is a different view
    np.testing.assert_allclose(tta.sum(axis=1), 1.0, atol=1e-5)
