"""``labctl fit``: a model and plots on good data; one line and exit 2, and no file, on bad data."""

from __future__ import annotations

import sys

import pytest

from labctl import cli
from tests.device_models.simdata import noisy_model, simulate_trains, write_procedure_csv


def _run(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["labctl", *map(str, args)])
    try:
        cli.main()
    except SystemExit as exc:
        return exc.code
    return 0


@pytest.mark.plots
def test_fit_writes_model_and_plots(tmp_path, monkeypatch, capsys):
    data = write_procedure_csv(simulate_trains(noisy_model(), n_pulses=120, size=2, seed=3), tmp_path / "d.csv")
    assert _run(monkeypatch, "fit", data, "--out", tmp_path / "m.json") == 0
    out = capsys.readouterr().out
    assert "nRMSE" in out and "LTP" in out and "symmetry point" in out
    assert {p.name for p in tmp_path.iterdir()} >= {"m.json", "m_trains.png", "m_steps.png"}


@pytest.mark.parametrize("body", ["Pulse,G_S\n", "Pulse,G_S\n1,2e-6\n2,2e-6\n3,2e-6\n", "Pulse,G_S\n1,x\n"])
def test_bad_file_exits_2_with_one_line_and_no_model(tmp_path, monkeypatch, capsys, body):
    bad = tmp_path / "bad.csv"
    bad.write_text(body)
    assert _run(monkeypatch, "fit", bad, "--out", tmp_path / "m.json") == 2
    out = capsys.readouterr().out.strip()
    assert out.startswith("error:") and "bad.csv" in out and len(out.splitlines()) == 1
    assert not (tmp_path / "m.json").exists()
