"""The compiled forms in device_models.kernels against the reference formulas of device_models.physics,
on the branches training never reaches (the sparse cell) and in the corners it rarely does (saturation)."""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest

from device_models import compiled, kernels, load_model, physics
from labctl import PulseSpec
from labctl.layout import CellLayout
from sim_backend import SimulatedArray, fast_paths


@pytest.mark.parametrize("mode, reference", [
    (0, lambda w, p: w),
    (1, physics.series_conductance),
    (2, physics.differential_conductance),
])
def test_compiled_cell_is_the_physics_cell_formula(mode, reference):
    rng = np.random.default_rng(3)
    cond = rng.uniform(1e-7, 1e-5, 64)
    cond[[5, 6]] = 0.0  # an open cell (both devices on a dead line) conducts nothing, not NaN
    weight, partner = np.arange(0, 64, 2), np.arange(1, 64, 2)
    g, var = kernels.cell_values(cond, weight, partner, mode, 0.04)
    expected = reference(cond[weight], cond[partner])
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-15)
    assert np.all(np.isfinite(g)) and var.shape == g.shape and np.all(var >= 0)


def test_series_cell_is_gated_by_the_smaller_conductance():
    g_w, g_s = np.array([1e-5, 1e-5, 1e-5]), np.array([1e-5, 1e-9, 0.0])
    g = physics.series_conductance(g_w, g_s)
    np.testing.assert_allclose(g, [5e-6, 1e-9 * 1e-5 / (1e-5 + 1e-9), 0.0])


def _noisy(c2c: float = 1.5):
    """garg-hzo-20ns with cycle-to-cycle write noise large enough to throw trains past the bounds."""
    model = load_model("garg-hzo-20ns")
    variation = dataclasses.replace(model.weight.variation, c2c_write=c2c)
    return dataclasses.replace(model, weight=dataclasses.replace(model.weight, variation=variation))


@pytest.mark.parametrize("path", ["numpy", "compiled"])
def test_noisy_trains_into_saturation_keep_the_state_within_its_bounds(path):
    if path == "compiled" and not compiled.enabled():
        pytest.skip("numba is not installed (LABCTL_NUMBA=0 or no 'fast' extra)")
    model = _noisy()
    with SimulatedArray(model, seed=11, layout=CellLayout.dense(30, 30), initial_state=0.5) as chip:
        context = compiled.disabled() if path == "numpy" else contextlib.nullcontext()
        op = model.operating_point
        every = np.ones(chip.shape, dtype=bool)
        with context:
            assert fast_paths.covers(chip) == (path == "compiled")
            for sign, count in ((+1, 15), (-1, 15), (+1, 1), (-1, 3), (+1, 40)):
                chip.apply_pulses(every, PulseSpec(sign * op.write_amplitude_v, 1e-3), count)  # 1 ms: big steps
                state = chip.state
                assert state.min() >= 0.0 and state.max() <= 1.0
                g = chip.true_conductance()
                assert g.min() >= model.weight.g_min_s * 0.5 and g.max() <= model.weight.g_max_s * 1.5
            assert np.mean(chip.state > 0.999) > 0.1  # the last trains did saturate many devices


def test_stepwise_noisy_trains_keep_the_state_within_its_bounds():
    side = _noisy().weight.potentiation
    rng = np.random.default_rng(0)
    g = rng.uniform(0, 1, 500)
    for potentiate in (True, False):
        out = physics.pulse_train_stepwise(side, potentiate, g, np.full(500, 30), 3.9, 1e-3, 3.9, 1e-3,
                                           np.full(500, 1.0), np.full(500, 0.25), 1.5, rng)
        assert out.min() >= 0.0 and out.max() <= 1.0
