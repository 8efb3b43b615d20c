"""Run catalog across processes: concurrent writers lose nothing; a SIGKILLed run becomes interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from labctl.backends import open_backend
from labctl.catalog import Catalog, finish_run, query, start_run
from labctl.catalog.record import sidecar_path
from labctl.cli import app
from procedures import run_procedure

ROOT = Path(__file__).resolve().parents[2]


def _labctl(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "labctl", *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_headless_process_and_in_process_runs_lose_nothing(tmp_path):
    Catalog()  # created before the writers race
    headless = [_labctl("run", "ltp_ltd", "--out", str(tmp_path / f"cli{k}"), "--chip-id", "CLI",
                        "--param", "n_devices=4", "--param", "pulses=100") for k in range(2)]
    errors = []

    def writer(k):  # sweep-kind records hammer the write lock from threads meanwhile
        try:
            for j in range(10):
                finish_run(start_run("sweep", f"t{k}-{j}", tmp_path / f"thread{k}" / f"s{j}.json"), "complete")
        except Exception as exc:  # noqa: BLE001 - any writer failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for seed in range(4):
        with open_backend("sim", model="ning-mos2-fefet", seed=seed) as chip:
            run_procedure("ltp_ltd", chip, tmp_path / "inproc", chip_id="INPROC", n_devices=1, pulses=20)
    for t in threads:
        t.join()
    for p in headless:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert not errors
    df = query()
    assert len(df) == 2 + 4 + 30 and set(df.status) == {"complete"}
    assert sorted(df[df.kind == "procedure"].chip_id) == ["CLI"] * 2 + ["INPROC"] * 4
    catalog = Catalog()
    assert all(any(f["path"].endswith(".csv") for f in catalog.files(i)) for i in df[df.kind == "procedure"].id)


def test_sigkilled_run_is_marked_interrupted_by_the_next_command(tmp_path):
    Catalog()
    proc = _labctl("run", "ltp_ltd", "--out", str(tmp_path / "k"), "--param", "n_devices=400",
                   "--param", "pulses=20000")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and query(status="running").empty:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        (row,) = query(status="running").to_dict(orient="records")
        assert row["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert query(status="running").id.tolist() == [row["id"]]  # nothing noticed yet

    listed = CliRunner().invoke(app, ["runs", "list", "--status", "interrupted"], terminal_width=200)
    assert listed.exit_code == 0 and row["id"] in listed.output, listed.output
    (after,) = query().to_dict(orient="records")
    assert after["status"] == "interrupted" and after["ended"] is not None
    sidecar = json.loads(sidecar_path(Path(row["folder"]) / row["primary_file"]).read_text())
    assert sidecar["status"] == "interrupted"  # the folder agrees, so a reindex keeps it
