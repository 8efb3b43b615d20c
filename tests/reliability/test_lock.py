"""One process per real bench: a second one fails fast naming the PID; a dead holder's lock is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.errors import InstrumentError
from labctl.journal import BenchBusyError, hold_bench, lock_path, release_bench
from tests.test_docs import labctl

ROOT = Path(__file__).resolve().parents[2]
HOLD = ("import sys, time; from labctl.journal import hold_bench; hold_bench(sys.argv[1]); "
        "print('held', flush=True); time.sleep(60)")


def _real_bench(tmp_path) -> Path:
    """The simulated bench's file with real (absent) GPIB resources: opening it needs the lock first."""
    bench = tmp_path / "bench.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::1").replace(
        "sim-instruments-probecard.yaml", str(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml")))
    return bench


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path / "state"))
    return {**os.environ, "PYTHONPATH": str(ROOT), "LABCTL_STATE_DIR": str(tmp_path / "state")}


def test_second_process_fails_fast_naming_the_pid_then_a_dead_holder_is_taken_over(tmp_path, state):
    bench = _real_bench(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(bench)], cwd=ROOT, env=state, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BenchBusyError, match=f"in use by pid {holder.pid} "):
            open_backend(str(bench))
        # the command line as the console script runs it, in this process (the holder is the other process)
        code, output = labctl(["bench", "check", "--config", str(bench)])
        lines = output.strip().splitlines()
        assert code == 2 and len(lines) == 1 and f"pid {holder.pid}" in lines[0]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    said = []
    assert lock_path(bench).exists()  # left behind by the killed holder
    hold_bench(bench, say=said.append)
    assert said and f"pid {holder.pid}" in said[0] and str(os.getpid()) in lock_path(bench).read_text()
    release_bench(bench)
    assert not lock_path(bench).exists()


def test_lock_is_released_when_opening_fails_and_simulated_benches_take_none(tmp_path, state):
    bench = _real_bench(tmp_path)
    with pytest.raises(InstrumentError, match="GPIB0::1"):  # no such instrument here: the lock is given back
        open_backend(str(bench))
    assert not lock_path(bench).exists()
    with open_backend("sim-instruments"), open_backend("sim-instruments"):  # each process has its own simulator
        assert not lock_path(SIM_BENCH_FILE).exists()
