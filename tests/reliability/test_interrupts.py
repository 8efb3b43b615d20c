"""Ctrl-C at any moment of any procedure: it stops within one operation (one pulse train or read on the
bench), even in a phase that records nothing (retention's programming, a write-verify), leaves the
bench safe, and ``--resume`` ends with the uninterrupted data."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from labctl.backends import open_backend
from labctl.cli import app
from labctl.visalog import audit, read_log
from procedures import NAMES, run_procedure

from .test_resume import _params

MODEL = "garg-hzo-2us"


def assert_safe(log) -> None:
    """By the VISA log: no relay switched with a source on, every output off and every relay open at the end."""
    entries = read_log(log)
    hot, on = audit(entries)
    routes = [m for _, instrument, kind, m in entries if instrument == "switch" and kind == "write" and ":ROUT:" in m
              and ":ROUT:CONN" not in m]
    assert not hot and not on and routes and routes[-1] == ":ROUT:OPEN:CARD ALL", (hot, on, routes[-3:])


def _largest_operation(name: str, params: dict, tmp_path) -> tuple[pd.DataFrame, int, int]:
    """(clean data, bus messages of the whole run, most messages any one backend operation sent)."""
    with open_backend("sim-instruments", model=MODEL, seed=3) as chip:
        sizes = []
        for op in ("apply_pulses", "apply_vector_update", "read", "read_mvm", "sweep_transfer", "wait"):
            inner = getattr(chip, op)

            def timed(*a, _inner=inner, **k):
                before = chip.stats.messages
                try:
                    return _inner(*a, **k)
                finally:
                    sizes.append(chip.stats.messages - before)
            setattr(chip, op, timed)
        df, _ = run_procedure(name, chip, tmp_path / "clean", **params)
        return df, chip.stats.messages, max(sizes)


@pytest.mark.parametrize("name", NAMES)
def test_stop_at_a_random_message_ends_within_one_operation_safe_and_resumes_exactly(tmp_path, name):
    params = _params(name)
    clean, total, largest = _largest_operation(name, params, tmp_path)
    rng = np.random.default_rng(sum(map(ord, name)))
    for k, at in enumerate(sorted(rng.integers(1, total, size=2))):
        out = tmp_path / f"stop{k}"
        log = tmp_path / f"stop{k}.log"
        asked = {}

        def stop():
            if "at" not in asked and backend.stats.messages >= at:
                asked["at"] = backend.stats.messages
            return "at" in asked

        with open_backend("sim-instruments", model=MODEL, seed=3, visa_log=log) as backend:
            part, csv = run_procedure(name, backend, out, should_stop=stop, **params)
            after = backend.stats.messages - at  # sent after the request: the rest of the operation in flight
        assert part.attrs["status"] == "aborted" and len(part) < len(clean)
        assert after <= largest, f"{name}: {after} messages after the stop request (one operation: {largest})"
        assert_safe(log)
        with open_backend("sim-instruments", model=MODEL, seed=3) as backend:
            resumed, csv2 = run_procedure(name, backend, out, resume=True)
        assert csv2 == csv and resumed.attrs["status"] == "completed"
        pd.testing.assert_frame_equal(resumed, clean)


def test_sigint_during_retention_programming_exits_130_safe_and_resumes(tmp_path):
    """The acceptance case, as a terminal sends it: SIGINT to the process group of a run in the write-verify."""
    args = [sys.executable, "-m", "labctl", "run", "retention", "--backend", "sim-instruments", "--model", MODEL,
            "--out", str(tmp_path / "r"), "--param", "n_devices=8", "--param", "points=2", "--param", "duration_s=10"]
    log = tmp_path / "v.log"
    proc = subprocess.Popen([*args, "--visa-log", str(log)], start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if log.exists() and log.read_text().count("SRP") >= 5:  # inside the programming: pulse trains going out
            break
        time.sleep(0.02)
    at = len(log.read_text().splitlines())
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    lines = log.read_text().splitlines()
    assert proc.returncode == 130, output
    assert len(lines) - at < 600, f"{len(lines) - at} log lines after SIGINT"
    assert "Traceback" not in output and "--resume" in output.splitlines()[-1]
    assert_safe(log)
    # the resume and the clean run need no process of their own (the SIGINT above was the point of one)
    done = CliRunner().invoke(app, ["run", "retention", "--backend", "sim-instruments", "--model", MODEL, "--out",
                                    str(tmp_path / "r"), "--resume"])
    assert done.exit_code == 0, done.output
    clean = CliRunner().invoke(app, [*args[3:10], str(tmp_path / "c"), *args[11:]])
    assert clean.exit_code == 0, clean.output
    from procedures import read_records

    pd.testing.assert_frame_equal(read_records(tmp_path / "r" / "retention.csv"),
                                  read_records(tmp_path / "c" / "retention.csv"))
