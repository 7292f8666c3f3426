"""`--strategy multiworker` for real: two `cnntui train` processes on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def test_two_workers_train_one_run_written_by_the_chief(tmp_path):
    runs = Path(os.environ["CNNTUI_RUNS_DIR"])
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    procs = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(scratch)}
        cmd = [sys.executable, "-m", "cnntui", "train", "mnist-conv-pool", "--limit", "1000"]
        cmd += ["--epochs", "2", "--strategy", "multiworker", "--json"]
        procs.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, out + err[-3000:]
    ends = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert [e["status"] for e in ends] == ["finished", "finished"]
    # only the chief (worker 0) wrote a run directory; worker 1's scratch run is gone
    run_dirs = [d for d in runs.iterdir() if d.is_dir()]
    assert [d.name for d in run_dirs] == [ends[0]["run_id"]]
    assert not Path(ends[1]["dir"]).exists()
    assert not list(scratch.glob("cnntui-worker-*"))
    run = run_dirs[0]
    with open(run / "history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert all(0.0 <= float(r["val_accuracy"]) <= 1.0 for r in rows)
    config = json.loads((run / "config.json").read_text())
    # MultiWorkerMirroredStrategy is CollectiveAllReduceStrategy underneath
    assert config["strategy"] == {"class": "CollectiveAllReduceStrategy", "replicas": 2}
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    kinds = [e["event"] for e in events if e["event"] != "batch"]
    assert kinds == ["begin", "epoch", "epoch", "done"]
    # both workers logged the same (all-reduced) numbers
    assert ends[0]["metrics"]["final"] == ends[1]["metrics"]["final"]
