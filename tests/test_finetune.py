"""Fine-tuning proved offline with weights cnntui makes itself: a backbone entry pretrained
on digits 0-4, then fine-tuned on a few dozen images of each of 5-9 with ``--weights RUN``
and ``--weights FILE``; phase 1 keeps the backbone exactly as it came, phase 2 trains it
with BatchNorm frozen, a stop in phase 2 resumes into phase 2, and every command after
training (evaluate, predict, explain) works on the fine-tuned checkpoint."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from run_factory import StopAfter
from transfer_factory import write_transfer_split
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.runs import BEST, LAST
from cnntui.core.train import TrainConfig, resume, train
from cnntui.core.train.events import read_events

ENTRY = "mobilenetv3-small"
SHAPE = (32, 32, 1)
runner = CliRunner()


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    return write_transfer_split(tmp_path_factory.mktemp("transfer"), per_class=30)


@pytest.fixture(scope="module")
def pretrained(split, tmp_path_factory):
    """A run of the entry trained from scratch on digits 0-4, and its backbone as a file."""
    import keras

    from cnntui.core.weights import find_backbone

    pre, _ = split
    cfg = TrainConfig(ENTRY, data=str(pre), epochs=2, limit=1200, input_shape=SHAPE,
                      weights="none", patience=0)  # fmt: skip
    result = train(cfg)
    assert result.status == "finished", result.reason
    backbone = find_backbone(keras.models.load_model(result.run.path(BEST), compile=False))
    file = tmp_path_factory.mktemp("weights") / "digits-0-4.weights.h5"
    backbone.save_weights(file)
    return result.run, file, backbone.get_weights(), [w.path for w in backbone.weights]


def backbone_of(run, which: str = BEST):
    import keras

    from cnntui.core.weights import find_backbone

    return find_backbone(keras.models.load_model(run.path(which), compile=False))


def events(run, kind: str) -> list[dict]:
    return [e for e in read_events(run.path("events.jsonl"), 0)[0] if e["event"] == kind]


def test_phase_1_keeps_the_run_backbone_exactly(split, pretrained):
    source, _, weights, _ = pretrained
    _, small = split
    cfg = TrainConfig(ENTRY, data=str(small), epochs=1, freeze_epochs=1, input_shape=SHAPE,
                      weights=str(source.dir), patience=0)  # fmt: skip
    result = train(cfg)
    assert result.status == "finished", result.reason
    hp = result.run.config["hyperparameters"]
    assert hp["recipe"] == "finetune" and hp["weights"] == {
        "kind": "run", "path": str(source.path(BEST)), "run": source.id
    }  # fmt: skip
    after = backbone_of(result.run).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(after, weights))  # frozen, BN included
    assert [(e["phase"], e["epoch"]) for e in events(result.run, "phase")] == [(1, 1)]
    assert "weights: the backbone of run" in events(result.run, "begin")[0]["recipe"]


def test_phase_2_trains_the_backbone_from_a_file_with_batchnorm_frozen(split, pretrained):
    _, file, weights, paths = pretrained
    _, small = split
    cfg = TrainConfig(ENTRY, data=str(small), epochs=2, input_shape=SHAPE, weights=str(file),
                      patience=0)  # fmt: skip
    result = train(cfg)
    assert result.status == "finished", result.reason
    assert result.run.config["hyperparameters"]["weights"]["kind"] == "file"
    after = dict(zip(paths, backbone_of(result.run, LAST).get_weights()))
    before = dict(zip(paths, weights))
    kernels = [p for p in paths if p.endswith("kernel") and "conv" in p]
    assert any(not np.array_equal(after[p], before[p]) for p in kernels)  # phase 2 trained
    stats = [p for p in paths if p.endswith(("moving_mean", "moving_variance", "gamma"))]
    assert stats and all(np.array_equal(after[p], before[p]) for p in stats)  # BN frozen
    phases = [(e["phase"], e["epoch"]) for e in events(result.run, "phase")]
    assert phases == [(1, 1), (2, 2)]


def test_a_stop_in_phase_2_resumes_into_phase_2(split, pretrained):
    _, file, weights, paths = pretrained
    _, small = split
    cfg = TrainConfig(ENTRY, data=str(small), epochs=3, input_shape=SHAPE, weights=str(file),
                      patience=0, lr_mult=0.5)  # fmt: skip
    stop = threading.Event()
    first = train(cfg, sinks=[StopAfter(2, stop)], stop=stop)
    assert first.status == "stopped"
    done = resume(first.run.id)
    assert done.status == "finished", done.reason
    phases = [(e["phase"], e["epoch"]) for e in events(done.run, "phase")]
    assert phases == [(1, 1), (2, 2), (2, 3)]  # the resumed session announces its phase
    epochs = {e["epoch"]: e for e in events(done.run, "epoch")}
    assert sorted(epochs) == [1, 2, 3]
    stats = [i for i, p in enumerate(paths) if p.endswith(("moving_mean", "moving_variance"))]
    after = backbone_of(done.run, LAST).get_weights()
    assert all(np.array_equal(after[i], weights[i]) for i in stats)  # still frozen after it
    assert done.run.config["hyperparameters"]["finetune"]["lr_mult"] == 0.5


def test_evaluate_predict_and_explain_use_the_fine_tuned_checkpoint(split, pretrained, tmp_path):
    from run_factory import write_digit_files

    source, _, _, _ = pretrained
    _, small = split
    result = train(TrainConfig(ENTRY, data=str(small), epochs=2, input_shape=SHAPE,
                               weights=str(source.dir), patience=0))  # fmt: skip
    run = result.run
    report = runner.invoke(app, ["evaluate", run.id, "--json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["examples"] > 1000  # the 5-9 test split
    with np.load(small) as d:
        (image,) = write_digit_files(d["x_test"][:1], d["y_test"][:1], tmp_path / "digits")
    predicted = runner.invoke(app, ["predict", str(image), "--run", run.id, "--json"])
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(predicted.stdout)[0]["top"][0]["label"] in [str(k) for k in range(5, 10)]
    explained = runner.invoke(app, ["explain", str(image), "--run", run.id, "--json"])
    assert explained.exit_code == 0, explained.output
    (shown,) = json.loads(explained.stdout)
    assert shown["layer"].startswith("backbone/")  # a map inside the nested backbone


def test_fine_tuned_beats_from_scratch_on_the_small_split(split, pretrained):
    from cnntui.core.judge.evaluate import evaluate_run

    source, _, _, _ = pretrained
    _, small = split
    accuracy = {}
    for weights in (str(source.dir), "none"):
        cfg = TrainConfig(ENTRY, data=str(small), epochs=3, input_shape=SHAPE, weights=weights,
                          patience=0)  # fmt: skip
        run = train(cfg).run
        _, report = evaluate_run(run.id, split="test", checkpoint="last", write=False)
        accuracy[weights] = report["accuracy"]
    assert accuracy[str(source.dir)] >= accuracy["none"] + 0.10, accuracy
