"""``labctl fit`` on other labs' files (issue 21): decisions before the report, one line per bad case and no
model file, the gate with its replay, and ``--force`` marking a failed model that ``labctl train`` warns about."""

from __future__ import annotations

import json

import pytest

from tests.device_models.shapes import SHAPES, one_device, savetxt
from tests.device_models.simdata import low_voltage_ramp_model, noisy_model, simulate_trains, write_procedure_csv

from .test_fit_command import _run


@pytest.fixture(scope="module")
def device():
    return one_device(simulate_trains(noisy_model("garg-hzo-2us"), n_pulses=120, size=1, seed=5))


def test_decisions_come_before_the_report(tmp_path, monkeypatch, capsys, device):
    path, _ = SHAPES["truncated"](device, tmp_path / "cut.csv")  # issue 24: a truncated CSV made Gmax 1.48 S
    assert _run(monkeypatch, "fit", path, "--width-s", "2e-6", "--out", tmp_path / "m.json") == 0
    out = capsys.readouterr().out
    order = [out.index(s) for s in ("columns: header, line 1", "conductance: conductance 'G_S'",
                                    "width: 2e-06 s from --width-s", "polarity: positive (detected",
                                    "rows dropped: 1 truncated last line", "scale: linear", "nRMSE, replay")]
    assert order == sorted(order)
    assert ("device-to-device spread over 1 devices in 1 file(s): bounds 0.0500, step 0.0500 (relative; bounds from "
            "base model 'garg-hzo-2us': fewer than 3 devices; step from base model") in " ".join(out.split())
    model = json.loads((tmp_path / "m.json").read_text())
    assert model["weight"]["g_max_s"] < 2e-5 and model["provenance"]["gate"] == "passed"
    assert model["provenance"]["replay"]["nrmse"] <= 0.1
    assert set(model["provenance"]["fit_quality"]) == {"LTP", "LTD"}


def _bad_cases(tmp_path, device):
    saved, _ = savetxt(device, tmp_path / "s.csv")
    bare = tmp_path / "bare.tsv"
    bare.write_text(saved.read_text().split("\n", 1)[1].replace(",", "\t"))
    pads = tmp_path / "pads.csv"
    pads.write_text("pulse,R_ohm\n" + "".join(f"{k},2e-30\n" for k in range(10)))
    ltp = write_procedure_csv(simulate_trains(noisy_model("garg-hzo-2us"), 60, size=1)[lambda d: d.Phase == "LTP"],
                              tmp_path / "ltp.csv")
    return [
        ([bare], "no conductance or resistance column found among '0', '1', '2'"),
        ([bare, "--conductance-col", "7"], "no column '7' (the conductance column); columns are 0='0'"),
        ([saved, "--rows", "`nope` > 1"], "--rows '`nope` > 1'"),
        ([saved, "--rows", "pulse > 1e9"], "no data rows match --rows"),
        ([saved, "--current-col", "conductance_s"], "--current-col needs the read voltage"),
        ([saved, "--width-s", "10"], "pulse width 10 s: no instrument applies it"),
        ([pads], "no row has a physical reading (non-physical G > 1 S (R < 1 ohm): 10)"),
        ([ltp], "only LTP trains found: fit one branch with --branch ltp"),
        ([ltp, "--branch", "ltd"], "--branch ltd: no LTD train found"),
        ([bare, "--columns", "a,b"], "--columns names 2 columns; the data rows have 3"),
    ]


def test_each_bad_case_is_one_line_and_no_model(tmp_path, monkeypatch, capsys, device):
    for args, needle in _bad_cases(tmp_path, device):
        out_json = tmp_path / "m.json"
        assert _run(monkeypatch, "fit", *args, "--out", out_json) == 2, args
        out = capsys.readouterr().out.strip()
        assert len(out.splitlines()) == 1 and out.startswith("error:"), out
        assert needle in out, (needle, out)
        assert not out_json.exists()


def test_gate_refuses_a_ramp_fitted_with_the_wrong_kinetics_unless_forced(tmp_path, monkeypatch, capsys):
    # a ramp narrower than 2x (0.6-1 V) does not fix its own kinetics: the fit keeps the base model's, and
    # the HZO preset's 100 V activation rescales this low-voltage device's steps into nonsense
    narrow = {"ramp_v": (0.6, 1.0), "ltd_ramp_v": (1.2, 2.0)}
    data = simulate_trains(low_voltage_ramp_model(), n_pulses=100, size=1, seed=2, **narrow)
    path, options = savetxt(one_device(data), tmp_path / "ramp.csv")
    out_json = tmp_path / "m.json"
    args = ["fit", path, "--width-s", "2e-6", "--base-model", "garg-hzo-2us", "--out", out_json]
    assert _run(monkeypatch, *args) == 2
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("error:") and "fails the gate, nothing written" in last and "replay" in last
    assert not out_json.exists() and not list(tmp_path.glob("*.png"))
    assert _run(monkeypatch, *args, "--force") == 0
    assert "written because of --force" in capsys.readouterr().out
    model = json.loads(out_json.read_text())
    assert model["provenance"]["gate"] == "failed" and model["provenance"]["gate_reasons"]
    assert _run(monkeypatch, "train", "--model", out_json, "--layers", "784,10", "--train-samples", "200",
                "--test-samples", "100", "--out", tmp_path / "train", "--no-progress") == 0
    assert "failed the fit gate" in capsys.readouterr().err
