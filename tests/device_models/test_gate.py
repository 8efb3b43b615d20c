"""The gate's bounds: within the readings' range widened by the read noise (or by what an asymptote the
trains approach may add), so a moderate extrapolation of trains that stop short is refused, not written."""

from __future__ import annotations

import pytest

from device_models.fitting import fit_files
from device_models.fitting.gate import bound_limits

from .shapes import one_device, savetxt
from .simdata import noisy_model, simulate_trains


def _fit_20ns(tmp_path, seed):
    """One garg-hzo-20ns device, 150-pulse trains (the LTD trains stop short of Gmin at 20 ns)."""
    data = simulate_trains(noisy_model("garg-hzo-20ns"), n_pulses=150, size=2, seed=seed)
    path, options = savetxt(one_device(data), tmp_path / f"s{seed}.csv")
    return fit_files([path], base_model="garg-hzo-2us", **options)


def test_gmin_half_the_lowest_reading_is_refused(tmp_path):
    """Gmin 0.45x the lowest reading (the truth is ~0.9x): 14 % of the range under it, which the former
    25 %-of-the-range slack let through."""
    result = _fit_20ns(tmp_path, seed=3)
    lowest = min(tr.conductance_s.min() for tr in result.trains.values())
    assert result.model.weight.g_min_s < 0.6 * lowest
    assert any(r.startswith("Gmin") and "below the lowest reading" in r for r in result.gate), result.gate
    assert not any(r.startswith("Gmax") for r in result.gate)


def test_a_fit_that_reaches_its_bounds_passes(tmp_path):
    result = _fit_20ns(tmp_path, seed=0)
    assert result.gate == []
    assert result.model.weight.g_min_s == pytest.approx(2e-6, rel=0.15)


@pytest.mark.parametrize("read_noise, lowest", [(0.0425, 0.8), (0.1, 0.6), (0.3, 0.1)])
def test_gmin_may_lie_four_read_noise_sigmas_or_a_quarter_under_the_lowest_reading(read_noise, lowest):
    """Linear axis, readings 1..2 uS: the widest of 4 sigmas, 1/1.25 of the reading and 5 % of the range,
    never under a tenth of the lowest reading."""
    assert bound_limits((1e-6, 2e-6), read_noise)[0] == pytest.approx(lowest * 1e-6)
