"""The step fit is the papers' 5th-degree polynomial: a true degree-5 step shape is recovered exactly
(a lower degree cannot follow its wiggles; the other fitting tests' truths are of degree 2)."""

from __future__ import annotations

import numpy as np

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
