"""`cnntui tune`: real Optuna studies in a real SQLite file and a real PostgreSQL server.

Workers are real `cnntui tune` processes; one is killed with SIGKILL mid-trial and the
study still ends with exactly the trials asked for.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.tune.errors import TuneError
from cnntui.core.tune.space import Param, parse_space

pytest.importorskip("optuna")

TINY = ["--epochs", "2", "--limit", "400", "--view", "none"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cnntui", *args]


# --- the search space -----------------------------------------------------------------


def test_space_syntax_ranges_choices_and_fixed_values():
    space = parse_space("lr=1e-4..1e-2:log,batch_size=32|64|128,width=8..64:int,optimizer=sgd")
    assert space.params == (
        Param("learning_rate", low=1e-4, high=1e-2, log=True),
        Param("batch_size", choices=(32, 64, 128)),
        Param("width", low=8, high=64, integer=True),
        Param("optimizer", choices=("sgd",)),
    )
    assert parse_space(space.spec()) == space  # the canonical form reads back the same


def test_space_files_toml_and_yaml(tmp_path):
    toml = tmp_path / "s.toml"
    toml.write_text('lr = "1e-4..1e-2:log"\nbatch_size = [32, 64]\n', encoding="utf-8")
    yaml = tmp_path / "s.yaml"
    yaml.write_text(
        "lr: {low: 0.0001, high: 0.01, log: true}\nbatch_size: [32, 64]\n", encoding="utf-8"
    )
    assert (
        parse_space(str(toml))
        == parse_space(str(yaml))
        == parse_space("lr=1e-4..1e-2:log,batch_size=32|64")
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("lr=abc..1", "must be numbers"),
        ("lr=1e-2..1e-4", "below HIGH"),
        ("lr=0..1:log", "above 0"),
        ("lr=1..2:cubic", "unknown flag"),
        ("lr", "no '='"),
        ("lr=1..2,lr=3..4", "more than once"),
    ],
)
def test_malformed_spaces_say_what_is_wrong(text, words):
    with pytest.raises(TuneError, match=words):
        parse_space(text)


# --- bad input: exit 2 before any training --------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--trials", "0"], "--trials must be at least 1"),
        (["--space", "lr=1..0"], "LOW must be below HIGH"),
        (["--space", "colour=1..2"], "not a training option"),
        (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open the study storage"),
    ],
)
def test_bad_tune_input_is_a_usage_error(args, words):
    result = CliRunner().invoke(app, ["tune", "mnist-mlp", *args])
    assert result.exit_code == 2, result.output
    assert words in result.output
    runs = Path(os.environ["CNNTUI_RUNS_DIR"])
    assert not [p for p in runs.glob("*") if p.is_dir()]  # no run was started


def test_a_study_keeps_its_model_and_space():
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import TuneRequest, open_study

    open_study(TuneRequest(TrainConfig("mnist-mlp"), trials=2, study="s1", space="lr=1e-3..1e-2"))
    other_model = CliRunner().invoke(
        app, ["tune", "mnist-conv", "--study", "s1", "--space", "lr=1e-3..1e-2"]
    )
    assert other_model.exit_code == 2 and "created with model 'mnist-mlp'" in other_model.output
    other_space = CliRunner().invoke(
        app, ["tune", "mnist-mlp", "--study", "s1", "--space", "lr=1e-4..1e-2"]
    )
    assert other_space.exit_code == 2 and "search space" in other_space.output


# --- pruning and retraining a trial ------------------------------------------------------


def test_pruning_stops_a_hopeless_trial_and_from_trial_reproduces_it():
    from cnntui.core.runs import REQUEST, resolve_run
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import (
        TuneRequest,
        leaderboard,
        open_study,
        run_worker,
        trial_request,
    )

    base = TrainConfig("mnist-mlp", epochs=4, limit=400, patience=0, seed=3)
    req = TuneRequest(base, trials=3, study="prune", space="lr=1e-3..10:log,batch_size=64")
    study, *_ = open_study(req)
    for lr in (2e-3, 3e-3, 10.0):  # two sensible trials, then a learning rate of 10
        study.enqueue_trial({"learning_rate": lr, "batch_size": 64})
    report = run_worker(req)
    assert [o.state for o in report.outcomes] == ["complete", "complete", "pruned"]
    hopeless = report.outcomes[2]
    run = resolve_run(hopeless.run_id)
    assert run.metrics["epochs_completed"] < 4  # stopped early, not trained to the end
    assert run.status == "stopped" and "pruned" in run.status_info["reason"]
    assert run.config["tune"] == {
        "study": "prune",
        "trial": 2,
        "storage": run.config["tune"]["storage"],
        "params": {"learning_rate": 10.0, "batch_size": 64},
    }
    board = leaderboard(study)
    assert board[-1]["state"] == "pruned" and board[0]["value"] >= board[1]["value"]

    cfg, number, name = trial_request("prune")  # the best trial
    best = next(o for o in report.outcomes if o.number == number)
    assert name == "prune" and best.value == max(o.value for o in report.outcomes[:2])
    recorded = TrainConfig.from_dict(resolve_run(best.run_id).read_json(REQUEST))
    assert cfg == recorded
    assert cfg.learning_rate == best.params["learning_rate"] and cfg.epochs == 4


# --- several workers on one study --------------------------------------------------------


def _check_study(name: str, storage: str | None, trials: int) -> list[dict]:
    from cnntui.core.runs import list_runs
    from cnntui.core.tune.study import counted, leaderboard, load_study

    study = load_study(name, storage)
    assert counted(study) == trials
    rows = leaderboard(study)
    finished = [r for r in rows if r["state"] in ("complete", "pruned", "failed")]
    assert len(finished) == trials, rows
    numbers = [r["trial"] for r in rows]
    assert len(numbers) == len(set(numbers))
    recorded = {}
    for run in list_runs():
        tune = run.config.get("tune")
        if tune and tune["study"] == name:
            assert tune["trial"] not in recorded  # no trial number run twice
            recorded[tune["trial"]] = run
    for r in finished:
        assert recorded[r["trial"]].id == r["run_id"]
    return rows


def _workers(args: list[str], env: dict, n: int = 2) -> list[subprocess.Popen]:
    procs = []
    for _ in range(n):
        procs.append(
            subprocess.Popen(
                _cli("tune", *args),
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    return procs


def test_two_sqlite_workers_share_a_study_and_survive_kill_9():
    env = {**os.environ, "CNNTUI_TUNE_HEARTBEAT": "1"}
    args = [
        "mnist-mlp",
        "--study",
        "shared",
        "--trials",
        "5",
        *TINY,
        "--space",
        "lr=1e-3..1e-2:log",
    ]
    a, b = _workers(args, env)
    runs = Path(env["CNNTUI_RUNS_DIR"])
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:  # A's first trial is under way
        for status in runs.glob("*/status.json"):
            info = json.loads(status.read_text() or "{}")
            if info.get("pid") == a.pid and info.get("status") == "running":
                victim = status.parent
        time.sleep(0.2)
    if victim is None:
        a.kill()
        b.kill()
        pytest.fail("worker A never started a trial:\n" + a.communicate()[0])
    a.send_signal(signal.SIGKILL)
    a.wait(10)
    out_b, _ = b.communicate(timeout=240)
    assert b.returncode == 0, out_b
    # a third worker continues the same study: nothing left to do, nothing lost
    c = subprocess.run(_cli("tune", *args), env=env, capture_output=True, text=True, timeout=120)
    assert c.returncode == 0, c.stdout + c.stderr
    rows = _check_study("shared", None, 5)
    lost = [r for r in rows if r["state"] == "lost"]
    assert [r["run_id"] for r in lost] == [victim.name]  # the killed trial, retried


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    return found


@pytest.fixture
def postgres_url():
    """A real PostgreSQL server on a 127.0.0.1 port, in a temporary cluster."""
    pytest.importorskip("psycopg")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run installs Debian's postgresql")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    root = Path(tempfile.mkdtemp(prefix="cnntui-pg-", dir="/tmp"))
    root.chmod(0o755)
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = root / "data"
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "cnntui"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://cnntui@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


def test_two_workers_share_a_study_through_postgresql(postgres_url):
    args = [
        "mnist-mlp",
        "--study",
        "pg",
        "--trials",
        "4",
        *TINY,
        "--storage",
        postgres_url,
        "--space",
        "lr=1e-3..1e-2:log",
    ]
    procs = _workers(args, dict(os.environ))
    for p in procs:
        out, _ = p.communicate(timeout=240)
        assert p.returncode == 0, out
    rows = _check_study("pg", postgres_url, 4)
    workers = {r["run_id"] for r in rows}
    assert len(workers) == 4
    shown = CliRunner().invoke(app, ["tune", "show", "pg", "--storage", postgres_url, "--json"])
    assert shown.exit_code == 0, shown.output
    assert [r["trial"] for r in json.loads(shown.output)["leaderboard"]] == [
        r["trial"] for r in rows
    ]


def test_train_from_trial_retrains_the_trial_exactly_with_overrides():
    from cnntui.core.runs import REQUEST, resolve_run
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import TuneRequest, run_worker

    base = TrainConfig("mnist-mlp", epochs=1, limit=300, patience=0, seed=5, val_split=0.2)
    report = run_worker(TuneRequest(base, trials=2, study="ft", space="lr=1e-3..1e-2:log"))
    trial = report.outcomes[1]
    result = CliRunner().invoke(
        app, ["train", "--from-trial", "ft:1", "--epochs", "2", "--view", "none", "--json"]
    )
    assert result.exit_code == 0, result.output
    end = json.loads(result.output.strip().splitlines()[-1])
    retrained = TrainConfig.from_dict(resolve_run(end["run_id"]).read_json(REQUEST))
    original = TrainConfig.from_dict(resolve_run(trial.run_id).read_json(REQUEST))
    assert retrained.epochs == 2 and original.epochs == 1
    assert retrained.learning_rate == trial.params["learning_rate"]
    same = {k: v for k, v in original.to_dict().items() if k not in ("epochs", "name", "argv")}
    assert {k: retrained.to_dict()[k] for k in same} == same
    wrong = CliRunner().invoke(app, ["train", "mnist-conv", "--from-trial", "ft"])
    assert wrong.exit_code == 2 and "trained mnist-mlp" in wrong.output


def test_the_runs_screen_groups_a_studys_trials():
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import TuneRequest, run_worker
    from cnntui.tui.screens.runs import model_label, run_rows

    CliRunner().invoke(app, ["train", "mnist-mlp", "--epochs", "1", "--limit", "200", "-q"])
    base = TrainConfig("mnist-mlp", epochs=1, limit=200, patience=0)
    run_worker(TuneRequest(base, trials=2, study="grp", space="lr=1e-3..1e-2:log"))
    CliRunner().invoke(app, ["train", "mnist-mlp", "--epochs", "1", "--limit", "200", "-q"])
    rows = run_rows(None)
    assert [r["trial"] for r in rows] == [None, 0, 1, None]  # newest first, trials together
    assert model_label(rows[1]) == "mnist-mlp · grp #0" and model_label(rows[0]) == "mnist-mlp"


def test_tune_show_prints_the_leaderboard_importances_and_the_best_curve():
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import TuneRequest, run_worker

    base = TrainConfig("mnist-mlp", epochs=2, limit=200, patience=0)
    run_worker(TuneRequest(base, trials=2, study="show", space="lr=1e-3..1e-2:log"))
    shown = CliRunner().invoke(app, ["tune", "show", "show"])
    assert shown.exit_code == 0, shown.output
    assert "trial  value" in shown.output and "best trial: val_accuracy per epoch" in shown.output


def test_tune_study_without_model_joins_with_the_options_the_study_records():
    from cnntui.core.runs import REQUEST, list_runs
    from cnntui.core.train.config import TrainConfig
    from cnntui.core.tune.study import TuneRequest, load_study, run_worker

    base = TrainConfig("mnist-mlp", epochs=1, limit=200, patience=0)
    run_worker(TuneRequest(base, trials=1, study="join", space="lr=1e-3..1e-2:log"))
    joined = CliRunner().invoke(app, ["tune", "--study", "join", "--trials", "2", "--json"])
    assert joined.exit_code == 0, joined.output
    study = load_study("join")
    assert len(study.trials) == 2
    configs = [r.read_json(REQUEST) for r in list_runs()]
    assert sorted(c["model"] for c in configs) == ["mnist-mlp", "mnist-mlp"]
    assert all(c["limit"] == 200 and c["epochs"] == 1 for c in configs)
    unknown = CliRunner().invoke(app, ["tune", "--study", "nosuch"])
    assert unknown.exit_code == 2 and "no study named 'nosuch'" in unknown.output
    neither = CliRunner().invoke(app, ["tune", "--trials", "3"])
    assert neither.exit_code == 2 and "--study NAME" in neither.output
