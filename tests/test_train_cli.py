"""``cnntui train`` as a user runs it: pipe, terminal, Ctrl+C, detach + kill -9 + resume."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.runs import Run, resolve_run
from cnntui.core.train.follow import follow
from cnntui.core.train.lines import LineSink

TINY_ZOO = """
from cnntui.core.registry import Hyperparameters, register_model


@register_model("tiny-cli", title="Tiny dense (CLI tests)",
                hyperparameters=Hyperparameters(batch_size=8, epochs=2), tags=("test",))
def tiny_cli(input_shape, num_classes):
    import keras

    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
"""


@pytest.fixture(scope="session")
def cli_zoo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-zoo")
    (folder / "tiny_cli.py").write_text(TINY_ZOO, encoding="utf-8")
    return str(folder)


def cnntui(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnntui", *args]


def history_epochs(run: Run) -> list[int]:
    with open(run.path("history.csv"), newline="") as fh:
        return [int(r["epoch"]) for r in csv.DictReader(fh)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_pipe_prints_one_line_per_epoch_and_a_signal_stops_cleanly(cli_zoo, signum):
    proc = subprocess.Popen(
        cnntui(
            "train",
            "tiny-cli",
            "--zoo",
            cli_zoo,
            "--epochs",
            "300",
            "--limit",
            "300",
            "--patience",
            "0",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.split()[:2] == ["epoch", "2/300"]:
            proc.send_signal(signum)
            break
    out, err = proc.communicate(timeout=60)
    lines += out.splitlines(keepends=True)
    assert proc.returncode == 130, err
    assert lines[0].startswith("training tiny-cli (run ")
    epoch_lines = [ln for ln in lines if ln.startswith("epoch ")]
    assert len(epoch_lines) >= 2 and all("val_loss" in ln and "img/s" in ln for ln in epoch_lines)
    prefixes = ("training ", "input ", "recipe ", "epoch ", "stopped after", "run ", "resume with")
    assert all(ln.startswith(prefixes) for ln in lines), lines  # no progress-bar spam
    assert not any("\r" in ln or "\x1b" in ln for ln in lines)
    assert any(ln.startswith("stopped after epoch") for ln in lines)
    assert "Traceback" not in err
    run = resolve_run("latest")
    assert run.status == "stopped"
    reason = "interrupted by user" if signum == signal.SIGINT else "terminated (SIGTERM)"
    last = run.events()[-1]
    assert last["event"] == "stopped" and last["reason"] == reason
    assert run.path("last.keras").exists()
    assert history_epochs(run) == list(range(len(history_epochs(run))))


def test_terminal_gets_the_live_view_redrawn_in_place(cli_zoo):
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        cnntui("train", "tiny-cli", "--zoo", cli_zoo, "--epochs", "2", "--limit", "200"),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "COLUMNS": "100", "LINES": "30"},
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen[-2000:]
    assert "\x1b[" in screen and "F" in screen  # cursor moved up to redraw in place
    assert "┌" in screen and "loss" in screen and "accuracy" in screen  # plotext charts
    assert "img/s" in screen and "lr 1.0e-03" in screen
    assert "done: 2 epochs" in screen


def test_detach_kill_9_mid_training_then_resume(cli_zoo):
    out = subprocess.run(
        cnntui(
            "train",
            "tiny-cli",
            "--zoo",
            cli_zoo,
            "--epochs",
            "200",
            "--limit",
            "800",
            "--patience",
            "0",
            "--detach",
            "--json",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    info = json.loads(out.stdout)
    run = Run(Path(info["dir"]))
    assert run.id == info["run_id"] and Path(info["log"]).parent == run.dir
    from cnntui.core.train.checkpoint import read_state

    # wait until epoch 2 is committed: its event is written first, then history.csv and
    # state.json (what resume starts from); a kill between them loses that epoch, by design
    deadline = time.monotonic() + 90
    while read_state(run).get("epochs_completed", 0) < 2:
        assert time.monotonic() < deadline, "epoch 2 was not committed within 90 s"
        time.sleep(0.05)
    watched = io.StringIO()
    follower = threading.Thread(target=lambda: watched.write(follow(run, LineSink(watched), 0.05)))
    follower.start()  # what `cnntui runs watch` does, attached to the live run
    pid = run.status_info["pid"]
    assert pid == info["pid"]
    os.kill(pid, signal.SIGKILL)
    follower.join(timeout=30)
    assert not follower.is_alive() and watched.getvalue().endswith("interrupted")
    assert "epoch 2/200" in " ".join(watched.getvalue().split())
    assert run.status == "interrupted"

    from cnntui.core.train import resume

    done = read_state(run)["epochs_completed"]
    assert done >= 2
    result = resume(run.id, epochs=done + 1)
    assert result.status == "finished"
    assert history_epochs(run) == list(range(done + 1))  # every epoch exactly once
    begins = [e for e in run.events() if e["event"] == "begin"]
    assert begins[-1]["initial_epoch"] == done
    import keras

    last = keras.models.load_model(run.path("last.keras"))
    steps = begins[-1]["steps_per_epoch"]
    assert int(last.optimizer.iterations.numpy()) == (done + 1) * steps  # optimizer state kept


def test_mirrored_strategy_over_two_logical_cpus(cli_zoo):
    env = {**os.environ, "CNNTUI_CPU_DEVICES": "2"}
    out = subprocess.run(
        cnntui(
            "train",
            "tiny-cli",
            "--zoo",
            cli_zoo,
            "--epochs",
            "1",
            "--limit",
            "200",
            "--strategy",
            "mirrored",
            "--json",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    start, end = (json.loads(line) for line in out.stdout.splitlines())
    assert end["status"] == "finished" and end["run_id"] == start["run_id"]
    strategy = Run(Path(start["dir"])).config["strategy"]
    assert strategy == {"class": "MirroredStrategy", "replicas": 2}


def test_user_mistakes_are_one_line_errors_without_a_run():
    runner = CliRunner()
    cases = [
        (["train", "mnist-mpl"], "no zoo entry named 'mnist-mpl'"),
        (["train", "mnist-mlp", "--optimizer", "adagrad"], "--optimizer must be one of"),
        (["train", "mnist-mlp", "--data", "./missing"], "data path not found"),
        (["train", "mnist-mlp", "--strategy", "multiworker"], "TF_CONFIG"),
        (["train", "mnist-mlp", "--input-shape", "28,x"], "--input-shape must be three"),
        (["train", "--resume", "nope"], "no runs yet"),
        (["train"], "give a MODEL"),
    ]
    if importlib.util.find_spec("tensorboard") is None:
        cases.append((["train", "mnist-mlp", "--tensorboard"], "pip install tensorboard"))
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    from cnntui.core.runs import list_runs

    assert list_runs() == []


def test_reproduce_on_the_sample_is_labelled_as_not_the_articles_data():
    result = CliRunner().invoke(
        app,
        ["reproduce", "mnist-mlp", "--data", "sample", "--epochs", "1", "--limit", "200",
         "--view", "none", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["entry"] == "mnist-mlp" and row["status"] == "finished"
    assert row["data"].startswith("sample: bundled digits, not the article's data (train ")
    assert row["terms"] == "not the article's data; --epochs 1; --limit 200"
    figures = {f["metric"]: f for f in row["figures"]}  # the article's accuracy and loss
    assert set(figures) == {"val_accuracy", "val_loss"}, figures
    fig = figures["val_accuracy"]
    assert fig["article"] == pytest.approx(0.9233) and 0.0 <= fig["measured"] <= 1.0
    assert figures["val_loss"]["article"] == pytest.approx(0.3089)
    assert all(f["reproduced"] is None for f in figures.values())  # not the article's data
