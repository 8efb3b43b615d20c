"""The step fit is the papers' 5th-degree polynomial: a true degree-5 step shape is recovered exactly
(a lower degree cannot follow its wiggles; the other fitting tests' truths are of degree 2)."""

from __future__ import annotations

import numpy as np
import pytest

from device_models.fitting import steps
from device_models.params import StepShape
from device_models.physics import step_shape


def test_a_degree_five_step_shape_is_recovered_from_its_trajectory():
    wiggles = -0.6 * np.polynomial.polynomial.polyfromroots([0.15, 0.35, 0.6, 0.85, 1.3])
    wiggles[0] += 0.012  # a step of 1-3 % of the range that dips and rises twice across it
    truth = StepShape("polynomial", coefficients=tuple(wiggles))
    ratios = np.ones(76)  # a fixed-amplitude train from the bottom to ~0.9 of the range
    trace = steps.trajectory(truth, 1.0, 0.0, ratios[None, :], True)[0]
    fit = steps.fit_poly5("LTP", trace, ratios)
    g = np.linspace(0.05, 0.9, 50)
    assert len(fit.shape.coefficients) == 6
    assert fit.nrmse < 1e-6  # (degree 3: 7e-3 of the range)
    np.testing.assert_allclose(fit.step(g), step_shape(truth, g, True), atol=1e-6)


def test_the_compiled_trajectory_equals_the_python_one_bit_for_bit():
    """The fitter's 1-D trajectory with numba and without: the same floats, for both shape kinds, both
    directions, ramps with missing ratios (NaN), states at and beyond the bounds (and the 2-D numpy path's
    to rounding)."""
    from device_models import compiled

    if not compiled.enabled():
        pytest.skip("numba is not installed: one path only")
    rng = np.random.default_rng(7)
    for case in range(200):
        ratios = rng.uniform(0.2, 3.0, rng.integers(1, 300))
        ratios[rng.random(ratios.size) < 0.05] = np.nan
        if rng.random() < 0.5:
            shape, scale = StepShape("power", exponent=float(rng.uniform(0.05, 20.0))), rng.uniform(1e-6, 0.99)
        else:  # some polynomials go negative mid-range (clipped at 0) or overshoot the bounds
            shape, scale = StepShape("polynomial", coefficients=tuple(rng.normal(0, 0.05, 6))), 1.0
        g0 = float(rng.choice([0.0, 1.0, rng.uniform(0, 1)]))
        up = bool(case % 2)
        fast = steps.trajectory(shape, scale, g0, ratios[None, :], up)
        with compiled.disabled():
            slow = steps.trajectory(shape, scale, g0, ratios[None, :], up)
        both = steps.trajectory(shape, np.full(2, scale), g0, np.vstack([ratios, ratios]), up)
        np.testing.assert_array_equal(fast, slow)
        np.testing.assert_allclose(fast[0], both[1], rtol=1e-12, atol=1e-15)  # numpy's own order: an ulp apart
