"""Retention on the simulated chip: monotonic decay, temperature tag, power-law fit and projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labctl.backends import open_backend
from procedures import run_procedure
from procedures.retention import RetentionParams, power_law_fit, run_retention


def test_power_law_fit_recovers_exponent():
    t = np.geomspace(1, 1000, 10)
    assert power_law_fit(t, 3e-6 * t ** -0.02) == pytest.approx((3e-6, 0.02))


def test_hot_chip_decays_monotonically_and_faster(collect):
    """The high state relaxes toward mid-range; at 125 C far faster than at 27 C (Arrhenius)."""
    nus = {}
    for temperature_k in (300.0, 398.0):
        with open_backend("sim", model="ning-mos2-fefet", seed=8) as chip:
            chip.set_temperature(temperature_k)  # the chuck (simulator ground truth); the procedure only tags it
            collect.records.clear()
            summary = run_retention(chip, RetentionParams(n_devices=24, levels=1, state_max=0.9, points=6,
                                                          reads_per_point=8, duration_s=1000), collect)
        df = pd.DataFrame(collect.records)
        assert set(df["Temperature (K)"]) == {temperature_k}
        assert df["Elapsed (s)"].max() == pytest.approx(1000, rel=1e-3)
        mean = df.groupby("Elapsed (s)")["Conductance (S)"].mean()
        if temperature_k == 398.0:
            assert mean.is_monotonic_decreasing
        nus[temperature_k] = summary["levels"]["0"]["nu"]
        assert summary["levels"]["0"]["retained_10y"] < 1
    assert 0 < nus[300.0] < nus[398.0]


@pytest.mark.plots
def test_levels_stay_ordered_over_ten_years(ning, tmp_path):
    df, csv = run_procedure("retention", ning, tmp_path, n_devices=16, levels=4, duration_s=100, points=5)
    s = df.attrs["summary"]
    assert s["temperature_k"] == 300.0 and s["levels_ordered_at_10y"]
    assert len(s["levels"]) == 4
    assert (tmp_path / "retention_retention.png").exists()
    assert "#\tDuration: 100" in csv.read_text()
