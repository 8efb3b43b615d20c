"""SIGKILL in the middle of an array map: the next bench command makes the bench safe first,
and --resume completes the map from the journal with the data of an uninterrupted map."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from labctl.backends import SIM_BENCH_FILE
from labctl.cli import app
from labctl.journal import BenchSession, unclean_sessions
from labctl.visalog import read_log
from procedures import read_records

ROOT = Path(__file__).resolve().parents[2]
MAP = ["run", "array_map", "--backend", "sim-instruments", "--param", "write_verify=false",
       "--param", "reads_per_verify=1", "--param", "rows=12"]
TOTAL = 12 * 30


def _labctl(*args):
    """The commands after the kill run in this process (the killed run was the point of a process)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def _data_lines(csv: Path) -> int:
    """Records written so far (the header may still be in the making)."""
    if not csv.exists():
        return 0
    return max(0, sum(1 for line in csv.read_text().splitlines() if not line.startswith("#")) - 1)


def test_sigkill_then_safe_state_first_then_resume(tmp_path, monkeypatch):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LABCTL_STATE_DIR": str(tmp_path / "state")}
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "labctl", *MAP, "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    csv = out / "array_map.csv"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _data_lines(csv) < 60:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = read_records(csv)  # flushed point by point: valid after a kill
    assert 60 <= len(partial) < TOTAL
    monkeypatch.setenv("LABCTL_STATE_DIR", env["LABCTL_STATE_DIR"])
    assert len(unclean_sessions(SIM_BENCH_FILE)) == 1

    log = tmp_path / "check.log"
    check = _labctl("bench", "check", "--config", "sim-instruments", "--visa-log", log)
    assert check.exit_code == 0, check.output
    line = [x for x in check.stderr.splitlines() if "did not close cleanly" in x]
    assert len(line) == 1 and "--resume" in line[0] and str(csv.resolve()) in line[0]
    sent = [(i, m) for _, i, k, m in read_log(log) if k != "read"]
    assert sent[0] == ("b1500", "SPP;CL")  # the safe state first, before any query
    assert ("switch", ":ROUT:OPEN:CARD ALL") in sent[:6]
    assert unclean_sessions(SIM_BENCH_FILE) == []

    resumed = _labctl(*MAP, "--out", out, "--resume")
    assert resumed.exit_code == 0, resumed.output
    full = read_records(csv)
    assert len(full) == TOTAL and not full.duplicated(["Device row", "Device col"]).any()
    kept = full.iloc[:len(partial) - len(partial) % 30]
    assert kept.equals(partial.iloc[:len(kept)])  # completed rows are kept as written
    assert unclean_sessions(SIM_BENCH_FILE) == []
    whole = _labctl(*MAP, "--out", tmp_path / "whole")
    assert whole.exit_code == 0, whole.output
    assert full.equals(read_records(tmp_path / "whole" / "array_map.csv"))  # same seed, same data


def test_clean_close_leaves_no_marker_and_live_sessions_are_not_unclean(tmp_path, monkeypatch):
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path))
    from labctl.backends import open_backend

    with open_backend("sim-instruments") as chip:
        assert chip.session.path.exists()
        assert unclean_sessions(SIM_BENCH_FILE) == []  # this process is alive
    assert not chip.session.path.exists()
    dead = BenchSession.begin(SIM_BENCH_FILE)
    dead.note(pid=2**22 + 12345)  # a pid no process has
    assert [r["pid"] for _, r in unclean_sessions(SIM_BENCH_FILE)] == [2**22 + 12345]
    with open_backend("sim-instruments", visa_log=tmp_path / "v.log") as chip:
        assert chip.unclean and chip.unclean[0]["pid"] == 2**22 + 12345
    assert read_log(tmp_path / "v.log")[0][3] == "SPP;CL"
