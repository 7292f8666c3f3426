"""The training recipe's pieces, without training: schedules, resolution, LR finder rules,
batch mixing, class weights, time budgets, input size, and the command-line mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core import registry
from cnntui.core.train import TrainConfig
from cnntui.core.train.budget import epochs_for, format_duration, parse_duration
from cnntui.core.train.class_weights import balanced, resolve_class_weight
from cnntui.core.train.config import hyperparameters
from cnntui.core.train.input_size import choose_input, fit_size
from cnntui.core.train.lr_find import smooth, steep, suggest, valley
from cnntui.core.train.recipe import ema_momentum
from cnntui.core.train.schedules import SchedulePlan


def _entry(name: str):
    registry.load_zoo()
    return registry.get_model(name)


# -- schedules ---------------------------------------------------------------------------


def test_cosine_with_warmup_at_given_steps():
    plan = SchedulePlan("cosine", 0.01, total_steps=1000, warmup_steps=100)
    assert plan.lr_at(0) == pytest.approx(0.01 / 25)
    assert plan.lr_at(50) == pytest.approx(0.01 / 25 + (0.01 - 0.01 / 25) / 2)
    assert plan.lr_at(100) == pytest.approx(0.01)
    # halfway through the decay: the cosine is at its midpoint
    assert plan.lr_at(550) == pytest.approx(0.01 * (0.5 * (1 - 1e-3) + 1e-3))
    assert plan.lr_at(1000) == pytest.approx(0.01 * 1e-3)
    lrs = [plan.lr_at(s) for s in range(100, 1001)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


@pytest.mark.parametrize("name", ["constant", "cosine", "onecycle", "step", "plateau"])
@pytest.mark.parametrize("warmup", [0, 30])
def test_keras_schedule_matches_the_plan(name, warmup):
    plan = SchedulePlan(name, 3e-3, total_steps=240, warmup_steps=warmup)
    schedule = plan.keras()
    for step in (0, 1, 15, 29, 30, 31, 90, 119, 120, 121, 179, 180, 181, 239, 240, 400):
        got = schedule if isinstance(schedule, float) else float(schedule(step))
        assert got == pytest.approx(plan.lr_at(step), rel=1e-5, abs=1e-9), (name, warmup, step)


def test_onecycle_and_step_shapes():
    one = SchedulePlan("onecycle", 0.1, total_steps=100)
    assert one.warmup() == 30
    assert one.lr_at(0) == pytest.approx(0.1 / 25)
    assert one.lr_at(30) == pytest.approx(0.1)
    assert one.lr_at(100) == pytest.approx(0.1 / 25 / 1e4)
    step = SchedulePlan("step", 0.1, total_steps=100)
    assert [step.lr_at(s) for s in (0, 49, 50, 74, 75, 99)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    )


# -- resolution: flag > entry > recipe -------------------------------------------------


def test_recipe_resolution_order():
    tutorial = _entry("mnist-2conv")
    hp = hyperparameters(TrainConfig(model="mnist-2conv"), tutorial)
    assert hp["recipe"] == "article" and hp["schedule"] == "constant" and not hp["ema"]
    assert hp["optimizer"] == tutorial.hyperparameters.optimizer
    assert hp["learning_rate"] == tutorial.hyperparameters.learning_rate

    modern = hyperparameters(TrainConfig(model="mnist-2conv", recipe="modern", epochs=20), tutorial)
    assert modern["optimizer"] == "adamw" and modern["schedule"] == "cosine"
    assert modern["weight_decay"] == 0.05 and modern["label_smoothing"] == 0.1 and modern["ema"]
    assert modern["warmup"] == 1.0
    assert modern["recipe_sources"]["schedule"] == "recipe"

    short = hyperparameters(TrainConfig(model="mnist-2conv", recipe="modern", epochs=3), tutorial)
    assert short["warmup"] == pytest.approx(0.3)  # at most a tenth of the run

    flagged = hyperparameters(
        TrainConfig(model="mnist-2conv", recipe="modern", schedule="step", learning_rate=0.05),
        tutorial,
    )
    assert flagged["schedule"] == "step" and flagged["learning_rate"] == 0.05
    assert flagged["recipe_sources"]["schedule"] == "flag"


def test_entry_hyperparameters_beat_the_recipe_default():
    from dataclasses import replace

    entry = _entry("resnet-mini")
    assert entry.recipe == "modern"
    custom = replace(
        entry,
        hyperparameters=replace(entry.hyperparameters, schedule="onecycle", label_smoothing=0.2),
    )
    hp = hyperparameters(TrainConfig(model="resnet-mini"), custom)
    assert hp["recipe"] == "modern"
    assert hp["schedule"] == "onecycle" and hp["recipe_sources"]["schedule"] == "entry"
    assert hp["label_smoothing"] == 0.2
    hp = hyperparameters(TrainConfig(model="resnet-mini", label_smoothing=0.0), custom)
    assert hp["label_smoothing"] == 0.0 and hp["recipe_sources"]["label_smoothing"] == "flag"


def test_modern_default_ema_is_dropped_for_batchnorm_nets_only():
    from cnntui.core.train.recipe import drop_default_ema, summary

    bn_entry, plain_entry = _entry("resnet-mini"), _entry("mnist-mlp")
    bn_net = bn_entry.build((28, 28, 1), 10)
    hp = hyperparameters(TrainConfig(model="resnet-mini"), bn_entry)
    assert hp["ema"] and hp["recipe_sources"]["ema"] == "recipe"
    drop_default_ema(hp, bn_net)
    assert not hp["ema"] and hp["ema_dropped"] == "batchnorm"
    assert "no EMA (BatchNorm net)" in summary(hp)
    asked = hyperparameters(TrainConfig(model="resnet-mini", ema=True), bn_entry)
    drop_default_ema(asked, bn_net)  # --ema wins
    assert asked["ema"] and "ema_dropped" not in asked
    plain = hyperparameters(TrainConfig(model="mnist-mlp", recipe="modern"), plain_entry)
    drop_default_ema(plain, plain_entry.build((28, 28, 1), 10))  # no BatchNorm: kept
    assert plain["ema"] and "ema_dropped" not in plain


def test_ema_momentum_spans_a_tenth_of_the_run():
    assert ema_momentum(10_000) == pytest.approx(0.999)
    assert ema_momentum(500) == pytest.approx(0.98)
    assert ema_momentum(20) == pytest.approx(0.9)


# -- LR finder rules -------------------------------------------------------------------


def _synthetic_curve(n=100):
    lrs = 1e-7 * (10 / 1e-7) ** (np.arange(n) / (n - 1))
    x = np.log10(lrs)
    # flat until 1e-5, falls steepest around 1e-3, bottoms out at 1e-2, explodes after 1e-1
    loss = 2.3 - 1.8 / (1 + np.exp(-(x + 3) * 3)) + np.where(x > -1, (x + 1) ** 2 * 8, 0)
    return lrs.tolist(), loss.tolist()


def test_lr_finder_suggestions_on_a_synthetic_curve():
    lrs, losses = _synthetic_curve()
    sm = smooth(losses, beta=0.0)  # beta 0: no smoothing, the curve itself
    assert sm == pytest.approx(losses)
    s = steep(lrs, losses)
    assert 3e-4 < s < 3e-3  # the steepest descent is at 1e-3
    v = valley(lrs, losses)
    assert 1e-5 < v < 1e-2  # inside the long descent, well before the minimum at 1e-2
    got = suggest(lrs, smooth(losses))
    assert set(got) == {"valley", "steep"}
    assert 1e-5 < got["valley"] < 1e-1


def test_smoothing_is_debiased():
    assert smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])


# -- MixUp / CutMix -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        {"mixup": 0.4},
        {"cutmix": 1.0},
        {"mixup": 0.2, "cutmix": 1.0, "randaugment": (2, 9), "random_erasing": 0.5},
    ],
)
def test_mixed_labels_sum_to_one(spec, digits_small):
    import tensorflow as tf

    from cnntui.core.train.batch_augment import BatchAugment, apply

    x, y = digits_small
    x = (x[:64, :, :, None] / 255.0).astype("float32")
    y1 = tf.one_hot(y[:64].astype("int32"), 10)
    ds = tf.data.Dataset.from_tensor_slices((x, y1)).batch(16)
    mixed = 0
    for xb, yb in apply(ds, BatchAugment(**spec), 10, seed=1):
        yb = yb.numpy()
        assert xb.shape == (16, 28, 28, 1)
        assert np.allclose(yb.sum(axis=1), 1.0, atol=1e-5)
        assert (yb >= 0).all()
        mixed += int((yb.max(axis=1) < 0.999).sum())
        assert 0.0 <= float(tf.reduce_min(xb)) and float(tf.reduce_max(xb)) <= 1.0 + 1e-5
    assert mixed > 0  # the labels really were mixed


# -- class weights, budgets, input size ------------------------------------------------


def test_balanced_class_weights():
    w = balanced(np.array([100, 10, 0]))
    assert w[0] == pytest.approx(110 / (2 * 100)) and w[1] == pytest.approx(110 / (2 * 10))
    assert w[2] == 0.0
    assert w[0] * 100 == pytest.approx(w[1] * 10)  # each class weighs the same in all


def test_class_weight_file(tmp_path):
    f = tmp_path / "w.json"
    f.write_text('{"dog": 3, "0": 0.5}')
    assert resolve_class_weight(str(f), np.array([5, 5]), ["cat", "dog"]) == {0: 0.5, 1: 3.0}
    f.write_text('{"cow": 1}')
    with pytest.raises(ValueError, match="'cow' is not a class"):
        resolve_class_weight(str(f), np.array([5, 5]), ["cat", "dog"])


def test_durations():
    assert parse_duration("10m") == 600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("90s") == parse_duration("90") == 90
    assert format_duration(5400) == "1h30m" and format_duration(75) == "1m15s"
    for bad in ("10x", "m", "1h30", ""):
        with pytest.raises(ValueError, match="--time takes a duration"):
            parse_duration(bad)
    assert epochs_for(100, 9.0, 120) == 11
    with pytest.raises(ValueError, match="too short to finish one epoch"):
        epochs_for(5, 9.0, 10)


def test_fit_size_caps_the_short_side():
    assert fit_size(375, 500) == (128, 171)
    assert fit_size(64, 48) == (64, 48)  # never scaled up
    assert fit_size(100, 2000) == (26, 512)  # the long side is capped too


def test_input_size_for_folders(tmp_path):
    from tests.image_factory import make_image_folder

    root = make_image_folder(tmp_path / "photos", per_class=4, size=(300, 400), vary_sizes=False)
    resnet = _entry("resnet-mini")
    choice = choose_input(resnet, "folder", str(root), None)
    assert choice.shape == (128, 171, 3)
    assert "300x400" in choice.reason and "short side capped at 128" in choice.reason
    fixed = choose_input(_entry("mnist-2conv"), "folder", str(root), None)
    assert fixed.shape == _entry("mnist-2conv").input_shape and "fixed" in fixed.reason
    asked = choose_input(resnet, "folder", str(root), (64, 64, 3))
    assert asked.shape == (64, 64, 3) and asked.reason == "from --input-shape"
    arrays = choose_input(resnet, "sample", None, None)
    assert arrays.shape == resnet.input_shape


def test_a_folder_of_many_sizes_trains_at_the_median_size(tmp_path):
    """No size shared by half the photos: the median height and width, not a lone one."""
    from PIL import Image

    sizes = [(300, 400), (310, 420), (290, 380), (305, 500), (700, 200), (300, 410)]
    for k, (h, w) in enumerate(sizes):
        folder = tmp_path / "photos" / ("a" if k % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), (k * 40, 90, 160)).save(folder / f"{k}.jpg")
    choice = choose_input(_entry("resnet-mini"), "folder", str(tmp_path / "photos"), None)
    assert "median image size 302x405 (of 6 peeked)" in choice.reason, choice.reason
    assert choice.shape == fit_size(302, 405) + (3,)


@pytest.mark.parametrize("name", ["fast-resnet", "fast-mobilenet", "fast-cnn"])
def test_the_fast_entries_train_folders_at_the_photos_size(tmp_path, name):
    """Their builders take any size (a strided stem for large ones): not 28x28x1 digits."""
    from tests.image_factory import make_image_folder

    root = make_image_folder(tmp_path / "photos", per_class=3, size=(300, 400), vary_sizes=False)
    entry = _entry(name)
    choice = choose_input(entry, "folder", str(root), None)
    assert choice.shape == (128, 171, 3) and f"{name} takes any size" in choice.reason
    model = entry.build(choice.shape, 3)
    assert model.input_shape == (None, 128, 171, 3) and model.output_shape == (None, 3)


# -- command-line mistakes: exit 2, before any run directory --------------------------


def test_recipe_mistakes_are_one_line_errors_without_a_run(tmp_path):
    cases = [
        (["--schedule", "exp"], "--schedule must be one of"),
        (["--warmup", "5", "--epochs", "3"], "not shorter than the run"),
        (["--weight-decay", "-0.1"], "--weight-decay must be 0 or more"),
        (["--label-smoothing", "1.5"], "--label-smoothing must be in [0, 1)"),
        (["--mixup", "0.2", "--loss", "mse"], "regression loss"),
        (["--time", "1s"], "too short"),
        (["--time", "ten minutes"], "--time takes a duration"),
        (["--lr", "fast"], "--lr must be a number"),
        (["--recipe", "fancy"], "--recipe must be one of"),
        (["--randaugment", "2,20"], "--randaugment"),
        (["--class-weight", str(tmp_path / "none.json")], "--class-weight must be auto"),
        (["--schedule", "cosine", "--reduce-lr"], "--reduce-lr cannot change"),
        (["--schedule", "plateau", "--warmup", "1"], "takes no --warmup"),
        (["--width", "8"], "no builder parameter 'width'"),
    ]
    runner = CliRunner()
    for args, message in cases:
        result = runner.invoke(app, ["train", "mnist-mlp", *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(app, ["train", "celeba-gap", "--mixup", "0.2"])
    assert result.exit_code == 2 and "sigmoid head" in result.output, result.output
    result = runner.invoke(app, ["train", "catsdogs-mlp", "--cutmix", "1"])  # sigmoid + MSE
    assert result.exit_code == 2 and "regression loss" in result.output, result.output
    from cnntui.core.runs import list_runs

    assert list_runs() == []


def test_cosine_is_finite_everywhere():
    plan = SchedulePlan("cosine", 1.0, total_steps=3, warmup_steps=5)
    assert all(math.isfinite(plan.lr_at(s)) and plan.lr_at(s) > 0 for s in range(10))


def test_early_stopping_is_off_under_a_fitted_schedule_unless_asked():
    from cnntui.core.train.config import DEFAULT_PATIENCE, hyperparameters
    from cnntui.core.train.recipe import summary

    registry.load_zoo()

    def patience(model: str, **kw) -> tuple[int, str]:
        hp = hyperparameters(TrainConfig(model, **kw), registry.get_model(model))
        return hp["patience"], summary(hp)

    fitted, line = patience("fast-cnn")  # one-cycle, fitted to the epochs
    assert fitted == 0 and "no early stopping (the schedule is fitted to the run" in line
    assert patience("fast-cnn", patience=4)[0] == 4  # the user's word wins
    assert patience("mnist-2conv", time_budget="2m")[0] == 0  # --time fits the curve
    constant, line = patience("mnist-2conv")  # the article's constant LR
    assert constant == DEFAULT_PATIENCE and f"early stopping after {DEFAULT_PATIENCE}" in line
