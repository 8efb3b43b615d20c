"""``labctl fit --kind retention``: a short noisy log projects ten years with an honest interval, placeholder
rows never become conductances; ``labctl fit --retention r.json`` makes the simulator relax as measured."""

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


def _log_file(path, placeholders: int = 0, seed: int = 1):
    """11 readings over 100 minutes (t = 0 first) with 1 % noise: time in minutes, resistance and read current
    at 0.1 V; ``placeholders`` rows of a preallocated array (R = 2e-30 ohm, I = -5e28 A) after the data."""
    t_min = np.linspace(0, 100, 11)
    g = predict("relaxation", LAW, t_min * 60) * (1 + 0.01 * np.random.default_rng(seed).standard_normal(t_min.size))
    lines = ["Time (min),Resistance (Ohm),Current (A)"]
    lines += [f"{t:g},{1 / gi:.6g},{0.1 * gi:.6g}" for t, gi in zip(t_min, g)]
    lines += ["100,2e-30,-5e28"] * placeholders
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.plots
def test_a_noisy_100_minute_decay_gives_a_wide_ten_year_interval_within_0_and_g0(tmp_path, monkeypatch, capsys):
    log = _log_file(tmp_path / "log.csv")
    assert _run(monkeypatch, "fit", log, "--kind", "retention", "--time-col", "Time (min)",
                "--resistance-col", "Resistance (Ohm)", "--out", tmp_path / "r.json") == 0
    out = capsys.readouterr().out
    assert "time: column 'Time (min)' in min" in out and "projection at 3.156e+08 s" in out
    fit = json.loads((tmp_path / "r.json").read_text())["retention_fit"]
    p, g0 = fit["projection"], fit["parameters"]["g0_s"]["value"]
    assert p["time_s"] == TEN_YEARS_S and fit["n_points"] == 11 and fit["dropped_rows"] == 0
    assert p["g_high_s"] - p["g_low_s"] >= 0.2 * p["g_s"]
    assert 0 <= p["g_low_s"] <= p["g_s"] <= p["g_high_s"] <= g0
    assert p["g_low_s"] <= predict("relaxation", LAW, TEN_YEARS_S) <= p["g_high_s"]
    assert set(fit["parameters"][fit["law"] and "g0_s"]) == {"value", "stderr"} and 0 < fit["nrmse"] < 0.1
    assert (tmp_path / "r.png").stat().st_size > 10_000


@pytest.mark.parametrize("reading", [("--resistance-col", "1"), ("--current-col", "2", "--read-voltage", "0.1")])
def test_placeholder_rows_are_dropped_and_never_fitted(tmp_path, monkeypatch, capsys, reading):
    """The same log padded with placeholders gives the very same fit; the JSON counts the padding."""
    fits = {}
    for pad in (0, 5):
        out = tmp_path / f"r{pad}.json"
        assert _run(monkeypatch, "fit", _log_file(tmp_path / f"log{pad}.csv", pad), "--kind", "retention",
                    "--time-col", "0", *reading, "--project-s", "1e6", "--out", out) == 0
        fits[pad] = json.loads(out.read_text())["retention_fit"]
    assert fits[5]["dropped_rows"] == 5 and fits[0]["dropped_rows"] == 0
    assert fits[5]["projection"] == fits[0]["projection"] and fits[5]["laws"] == fits[0]["laws"]
    assert fits[5]["projection"]["time_s"] == 1e6 and fits[5]["parameters"]["g0_s"]["value"] < 11e-6
    capsys.readouterr()
    only = tmp_path / "only.csv"
    only.write_text("Time (min),Resistance (Ohm)\n" + "1,2e-30\n" * 8)
    assert _run(monkeypatch, "fit", only, "--kind", "retention", "--time-col", "0", "--resistance-col", "1",
                "--out", tmp_path / "bad.json") == 2
    message = capsys.readouterr().out.strip()
    assert message.startswith("error:") and len(message.splitlines()) == 1 and not (tmp_path / "bad.json").exists()


def test_our_retention_csv_fits_one_level_and_a_headerless_log_takes_columns(tmp_path, monkeypatch, capsys):
    from labctl.api import run_procedure

    _, runs = run_procedure("retention", "sim", tmp_path / "run", model="garg-hzo-2us", n_devices=4, levels=2,
                            points=8, duration_s=1e4)
    csv = runs / "retention.csv"
    assert _run(monkeypatch, "fit", csv, "--kind", "retention", "--out", tmp_path / "r.json") == 2
    assert "2 programmed levels" in capsys.readouterr().out and not (tmp_path / "r.json").exists()
    assert _run(monkeypatch, "fit", csv, "--kind", "retention", "--rows", "Level == 1",
                "--out", tmp_path / "r.json") == 0
    out = capsys.readouterr().out
    assert "time: column 'Elapsed (s)' in s" in out and "conductance: conductance 'Conductance (S)'" in out
    level = json.loads((tmp_path / "r.json").read_text())["retention_fit"]
    assert level["n_points"] == 16 and level["dropped_by_reason"] == {"rows not matching --rows": 16}
    t_h = np.linspace(0, 100 / 60, 11)  # the same log as _log_file, header-less, tab-separated, time in hours
    g = predict("relaxation", LAW, t_h * 3600) * (1 + 0.01 * np.random.default_rng(1).standard_normal(t_h.size))
    (tmp_path / "log.tsv").write_text("".join(f"{t:.6g}\t{1 / gi:.6g}\n" for t, gi in zip(t_h, g)))
    assert _run(monkeypatch, "fit", tmp_path / "log.tsv", "--kind", "retention", "--columns", "t_h,R",
                "--time-col", "t_h", "--resistance-col", "R", "--out", tmp_path / "h.json") == 0
    assert "time: column 't_h' in h" in capsys.readouterr().out
    hours = json.loads((tmp_path / "h.json").read_text())["retention_fit"]
    assert hours["parameters"]["g0_s"]["value"] == pytest.approx(10e-6, rel=0.03) and hours["n_points"] == 11


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
