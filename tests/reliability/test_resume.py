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


@pytest.fixture(scope="module")
def clean_maps(tmp_path_factory):
    """The uninterrupted three-row map per backend, run once for both faults (they only read its records and
    message count); run inside the first test that asks, with that test's state dir and catalog."""
    runs = {}

    def clean(backend: str):
        if backend not in runs:
            runs[backend] = clean_run("array_map", tmp_path_factory.mktemp("clean"), backend, params=("rows=3",))
        return runs[backend]
    return clean


@pytest.mark.parametrize("backend", ["sim", "sim-instruments"])
@pytest.mark.parametrize("fault", ["dead-line@1", "stuck-off@45"])
def test_device_fault_then_resume_equals_the_uninterrupted_run_on_the_healthy_devices(tmp_path, monkeypatch,
                                                                                       backend, fault, clean_maps):
    """array_map, row 1 broken (its line, or device 1:15), three rows: row 0 is replayed, rows 1 (mended) and 2 are
    written live after the resume; row 2 received the half-selected pulses of rows 0 and 1 on sim-instruments."""
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path / "state"))
    kind, _, at = fault.partition("@")
    clean, messages = clean_maps(backend)
    case = fault_case("array_map", kind, tmp_path, clean, messages, backend, at=int(at), params=("rows=3",))
    assert case.exit_code != 0 and case.kept == 30 and case.lost == 0 and case.resume_exit == 0, case
    assert case.resumed_equal_elsewhere, case


def test_resume_continues_on_the_chip_the_run_started_on(tmp_path, monkeypatch):
    """--resume opens the interrupted run's model and seed; another one given is refused, naming it."""
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path / "state"))
    from typer.testing import CliRunner

    from labctl.cli import app

    def run(*extra):
        return CliRunner().invoke(app, ["run", "ltp_ltd", "--backend", "sim", "--out", str(tmp_path / "r"), *extra])

    first = run("--model", "garg-hzo-2us", "--seed", "3", "--param", "pulses=20", "--param", "n_devices=2",
                "--fault", "dead-line@0")
    assert first.exit_code != 0
    refused = run("--resume", "--model", "ning-mos2-fefet")
    assert refused.exit_code != 0 and "--model garg-hzo-2us" in str(refused.exception)
    refused = run("--resume", "--seed", "4")
    assert refused.exit_code != 0 and "--seed 3" in str(refused.exception)
    assert run("--resume").exit_code == 0
    meta = (tmp_path / "r" / "ltp_ltd.json").read_text()
    assert '"model": "garg-hzo-2us"' in meta and '"seed": 3' in meta
