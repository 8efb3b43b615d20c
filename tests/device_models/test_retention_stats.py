"""Retention fits with ten-year projection, and normal fits of DC statistics over many devices."""

from __future__ import annotations

import numpy as np
import pytest

from device_models import load_preset, physics
from device_models.errors import DataError
from device_models.fitting.retention import TEN_YEARS_S, fit_retention
from device_models.fitting.stats import memory_window_v, normal_fit, on_off_ratio


def test_power_law_retention_is_chosen_and_projected():
    rng = np.random.default_rng(0)
    t = np.logspace(0, 3, 40)
    g = 5e-6 * t**-0.02 * (1 + 0.002 * rng.standard_normal(t.size))
    fit = fit_retention(t, g)
    assert fit.law == "power" and fit.coefficients[1] == pytest.approx(0.02, abs=0.002)
    assert fit.ten_year_s == pytest.approx(5e-6 * TEN_YEARS_S**-0.02, rel=0.02)


def test_log_retention_is_chosen_for_a_log_decay():
    t = np.logspace(0, 3, 40)
    fit = fit_retention(t, 5e-6 - 2e-7 * np.log10(t))
    assert fit.law == "log" and fit.ten_year_s == pytest.approx(5e-6 - 2e-7 * np.log10(TEN_YEARS_S))


def test_retention_needs_a_time_span():
    with pytest.raises(DataError, match="half a decade"):
        fit_retention([1, 1.1, 1.2], [1e-6, 1e-6, 1e-6])


def test_memory_window_and_on_off_from_model_transfer_curves():
    tr = load_preset("ning-mos2-fefet").weight.transfer
    vg = np.linspace(-4, 4, 161)
    g_states = np.array([[0.0], [0.02], [-0.01]])  # a little spread in the erased state
    up = physics.drain_current(tr, g_states, vg, 0.1)
    down = physics.drain_current(tr, 1.0 + 0 * g_states, vg[::-1], 0.1)
    mw = memory_window_v(vg, up, vg[::-1], down, current_a=1e-9)
    assert mw[0] == pytest.approx(tr.memory_window_v, abs=0.02)
    fit = normal_fit(mw)
    assert fit.n == 3 and fit.mean == pytest.approx(np.mean(mw)) and fit.std > 0
    assert np.all(on_off_ratio(up) > 1e3)


def test_normal_fit_recovers_a_gaussian_and_refuses_too_few():
    values = np.random.default_rng(1).normal(2.0, 0.1, 450)
    fit = normal_fit(values)
    assert fit.mean == pytest.approx(2.0, abs=0.02) and fit.std == pytest.approx(0.1, rel=0.1)
    assert fit.shapiro_p > 0.01
    with pytest.raises(DataError):
        normal_fit([1.0, np.nan])
