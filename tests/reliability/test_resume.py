"""--resume for every procedure: continues after the last complete point and ends with the same data
as an uninterrupted run (same seed), on the simulator and on simulated instruments after a fault."""

from __future__ import annotations

import pandas as pd
import pytest

from procedures import NAMES, run_procedure
from procedures.params import build, describe
from procedures.registry import get_spec
from sim_backend import SimulatedArray

from .faultmatrix import QUICK, clean_run, fault_case


def _params(name: str) -> dict:
    spec = get_spec(name)
    kinds = {i.name: i for i in describe(spec.params_cls)}
    values = dict(p.split("=") for p in QUICK[name])
    return {k: getattr(build(spec.params_cls, values), k) for k in values if k in kinds}


@pytest.mark.parametrize("name", NAMES)
def test_stopped_run_resumes_to_the_uninterrupted_data(tmp_path, name):
    params = _params(name)
    with SimulatedArray("ning-mos2-fefet", seed=5) as chip:
        whole, _ = run_procedure(name, chip, tmp_path / "whole", **params)
    seen = {"n": 0}

    def count(topic, value):
        seen["n"] += topic == "results"

    half = len(whole) // 2
    with SimulatedArray("ning-mos2-fefet", seed=5) as chip:
        part, csv = run_procedure(name, chip, tmp_path / "split", count, should_stop=lambda: seen["n"] >= half,
                                  **params)
    assert part.attrs["status"] == "aborted" and 0 < len(part) < len(whole)
    assert csv.with_suffix(".ops").exists() and csv.with_suffix(".chip.npz").exists()
    with SimulatedArray("ning-mos2-fefet", seed=5) as chip:  # a fresh chip object, as in a new process
        resumed, csv2 = run_procedure(name, chip, tmp_path / "split", resume=True)
    assert csv2 == csv and resumed.attrs["status"] == "completed"
    pd.testing.assert_frame_equal(resumed, whole)
    assert not csv.with_suffix(".ops").exists() and not csv.with_suffix(".chip.npz").exists()


@pytest.mark.parametrize("name, kind", [("ltp_ltd", "timeout"), ("retention", "disconnect"), ("array_map", "error"),
                                        ("multistate", "stuck-off")])
def test_fault_then_resume_on_simulated_instruments(tmp_path, monkeypatch, name, kind):
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path / "state"))
    clean, messages = clean_run(name, tmp_path)
    case = fault_case(name, kind, tmp_path, clean, messages)
    assert case.exit_code != 0 and case.safe and "\n" not in case.error, case
    assert case.kept < case.clean and case.survived, case
    assert case.resumed_equal and case.resumed_equal_elsewhere, case
