"""Retention fits with a ten-year projection and interval, and normal fits of DC statistics over many devices."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_models import load_preset, physics
from device_models.errors import DataError
from device_models.fitting.retention import TEN_YEARS_S, fit_retention, measured_retention, predict
from device_models.fitting.stats import memory_window_v, normal_fit, on_off_ratio


def _noisy_decay(seed=1, noise=0.01):
    """11 readings over 100 minutes (t = 0 included) of the simulator's law, relaxing toward 4 uS."""
    t = np.linspace(0.0, 6000.0, 11)
    law = {"g0_s": 10e-6, "g_inf_s": 4e-6, "t0_s": 10.0, "nu": 0.15}
    g = predict("relaxation", law, t) * (1 + noise * np.random.default_rng(seed).standard_normal(t.size))
    return t, g, law


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_short_noisy_decay_projects_ten_years_with_an_honest_interval(seed):
    t, g, law = _noisy_decay(seed)
    fit = fit_retention(t, g)
    p = fit.projection
    assert p["time_s"] == TEN_YEARS_S and fit.n_points == 11  # t = 0 is fitted, not dropped
    assert p["g_high_s"] - p["g_low_s"] >= 0.2 * p["g_s"]  # 100 minutes cannot pin ten years down
    assert 0 <= p["g_low_s"] <= p["g_s"] <= p["g_high_s"] <= fit.parameters["g0_s"]["value"]
    assert p["g_low_s"] <= predict("relaxation", law, TEN_YEARS_S) <= p["g_high_s"]  # the truth is inside
    assert all(v["stderr"] > 0 for v in fit.parameters.values())
    assert fit.nrmse < 0.1 and fit.parameters["g0_s"]["value"] == pytest.approx(10e-6, rel=0.03)


def test_a_log_decay_never_projects_a_negative_conductance():
    """The old fit projected -8 nS at ten years: a log law that crosses zero is held at 0."""
    t = np.r_[0, np.geomspace(10, 6000, 10)]
    g = 1e-6 - 1.4e-7 * np.log10(1 + t / 1.0) + 2e-9 * np.random.default_rng(0).standard_normal(t.size)
    fit = fit_retention(t, g)
    assert fit.law == "log" and fit.laws["log"]["b_s_per_decade"] == pytest.approx(1.4e-7, rel=0.05)
    p = fit.projection
    assert p["g_s"] == 0.0 and 0.0 <= p["g_low_s"] <= p["g_high_s"] <= g[0] * 1.01
    assert np.all(fit.curves["g_low_s"] >= 0)


def test_a_growing_state_stays_above_its_start_and_near_its_asymptote():
    """A state below the relaxed one relaxes upward: the asymptote law finds it."""
    t = np.r_[0, np.geomspace(1, 1e5, 20)]
    g = predict("relaxation", {"g0_s": 2e-6, "g_inf_s": 5e-6, "t0_s": 30.0, "nu": 0.5}, t)
    fit = fit_retention(t, g * (1 + 0.002 * np.random.default_rng(0).standard_normal(t.size)))
    assert fit.law == "relaxation" and fit.laws["relaxation"]["g_inf_s"] == pytest.approx(5e-6, rel=0.05)
    p = fit.projection
    assert fit.parameters["g0_s"]["value"] <= p["g_low_s"] <= p["g_s"] <= p["g_high_s"]
    assert p["g_s"] == pytest.approx(5e-6, rel=0.05)


def test_retention_counts_what_it_cannot_fit_and_refuses_too_little():
    t, g, _ = _noisy_decay()
    fit = fit_retention(np.r_[t, -1.0, np.nan], np.r_[g, 1e-6, 1e-6], dropped={"non-physical R <= 0": 2})
    assert fit.n_points == 11 and fit.to_json()["dropped_rows"] == 4
    assert fit.dropped == {"non-physical R <= 0": 2, "no reading (empty or NaN)": 1, "negative time": 1}
    with pytest.raises(DataError, match="half a decade"):
        fit_retention([0, 1, 1.1, 1.2, 1.3], [1e-6] * 5)
    with pytest.raises(DataError, match="4 usable readings"):
        fit_retention([0, 1, 10, 100], [1e-6] * 4)


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


def test_the_simulator_takes_the_relaxation_law_and_holds_an_asymptote_outside_the_range():
    weight = load_preset("garg-hzo-2us").weight  # 2..12 uS
    t, g, _ = _noisy_decay()
    fit = fit_retention(t, g).to_json()
    retention, note = measured_retention(weight, fit)
    relaxation = fit["laws"]["relaxation"]
    assert (retention.nu_ref, retention.t0_s) == (relaxation["nu"], relaxation["t0_s"]) and "held" not in note
    assert retention.relaxed_state == pytest.approx((relaxation["g_inf_s"] - 2e-6) / 10e-6)
    log_weight = dataclasses.replace(weight, conductance_scale="log")  # the state of the asymptote on a log axis
    assert measured_retention(log_weight, fit)[0].relaxed_state == pytest.approx(
        np.log(relaxation["g_inf_s"] / 2e-6) / np.log(6.0))
    retention, note = measured_retention(weight, {"laws": {"power": {"g0_s": 1e-5, "t0_s": 3.0, "nu": 0.06}}})
    assert retention.relaxed_state == 0.0 and "outside the model's range" in note["held"]  # power: toward 0 S
    with pytest.raises(DataError, match="neither a 'relaxation' nor a 'power'"):
        measured_retention(weight, {"law": "log"})
