"""``labctl fit --retention r.json``: the fitted model's devices relax as the retention fit measured."""

from __future__ import annotations

import json

import numpy as np
import pytest

from device_models import load_model
from device_models.fitting.retention import TEN_YEARS_S, fit_retention, predict
from labctl import Role
from sim_backend import SimulatedArray
from tests.device_models.simdata import noisy_model, simulate_trains, write_procedure_csv
from tests.labctl.test_fit_command import _run

LAW = {"g0_s": 10e-6, "g_inf_s": 4e-6, "t0_s": 10.0, "nu": 0.15}
"""The device behind the test logs: relaxes from 10 uS toward 4 uS."""


def test_pulse_fit_with_retention_makes_the_simulator_relax_as_measured(tmp_path, monkeypatch, capsys):
    t = np.linspace(0, 6000, 11)
    g = predict("relaxation", LAW, t) * (1 + 0.01 * np.random.default_rng(1).standard_normal(t.size))
    (tmp_path / "r.json").write_text(json.dumps({"retention_fit": fit_retention(t, g).to_json()}))
    trains = write_procedure_csv(simulate_trains(noisy_model(), n_pulses=120, size=2, seed=3), tmp_path / "d.csv")
    assert _run(monkeypatch, "fit", trains, "--retention", tmp_path / "r.json", "--out", tmp_path / "m.json") == 0
    assert "retention from" in capsys.readouterr().out
    model = load_model(tmp_path / "m.json")
    measured = json.loads((tmp_path / "r.json").read_text())["retention_fit"]["laws"]["relaxation"]
    w = model.weight
    assert w.retention.nu_ref == pytest.approx(measured["nu"]) and w.retention.t0_s == pytest.approx(measured["t0_s"])
    assert w.g_min_s + w.retention.relaxed_state * (w.g_max_s - w.g_min_s) == pytest.approx(measured["g_inf_s"])
    assert model.provenance["retention"]["file"] == str(tmp_path / "r.json")
    chip = SimulatedArray(model, seed=2, initial_state=1.0, temperature_k=w.retention.t_ref_k)
    mask = chip.layout.role_mask(Role.WEIGHT)
    relaxed, span = w.retention.relaxed_state, w.g_max_s - w.g_min_s
    for t in (6000.0, TEN_YEARS_S):  # the mean device follows the measured law, on the model's range
        chip.wait(t - chip.time_s)
        state = relaxed + (1 - relaxed) * (1 + t / measured["t0_s"]) ** -measured["nu"]
        assert chip.true_conductance()[mask].mean() == pytest.approx(w.g_min_s + state * span, rel=0.02)


def test_a_file_that_is_no_retention_fit_is_refused_in_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "r.json").write_text(json.dumps({"weight": {}}))
    trains = write_procedure_csv(simulate_trains(noisy_model(), n_pulses=60, size=2, seed=3), tmp_path / "d.csv")
    assert _run(monkeypatch, "fit", trains, "--retention", tmp_path / "r.json", "--out", tmp_path / "m.json") == 2
    message = capsys.readouterr().out.strip()
    assert message.startswith("error:") and "not a retention JSON" in message and len(message.splitlines()) == 1
    assert not (tmp_path / "m.json").exists()
