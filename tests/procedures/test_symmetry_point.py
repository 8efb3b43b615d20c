"""Symmetry point on the simulated chip: within the model's value +/- its device-to-device spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from device_models import physics
from labctl.backends import open_backend
from procedures.symmetry_point import SymmetryPointParams, run_symmetry_point


def model_point_and_spread(model, amplitude_v, width_s, n=4000, seed=0):
    """Symmetry point of the model at this pulse, and its spread under the model's d2d variation."""
    w, var = model.weight, model.weight.variation
    up = physics.switched_fraction(w.potentiation.kinetics, amplitude_v, width_s)
    down = physics.switched_fraction(w.depression.kinetics, amplitude_v, width_s)
    rng = np.random.default_rng(seed)
    scale = np.exp(var.d2d_step * rng.standard_normal((2, n)))
    exps = 1 + var.d2d_nonlinearity * rng.standard_normal((2, n))
    draws = physics.symmetry_state(up * scale[0], down * scale[1], w.potentiation.shape.exponent * exps[0],
                                   w.depression.shape.exponent * exps[1])
    point = physics.symmetry_state(up, down, w.potentiation.shape.exponent, w.depression.shape.exponent)
    return float(point), float(draws.std())


@pytest.mark.parametrize("preset", ["garg-hzo-20ns", "garg-hzo-2ms"])
def test_symmetry_point_matches_the_model(preset, collect):
    with open_backend("sim", model=preset, seed=5) as chip:
        op = chip.model.operating_point
        summary = run_symmetry_point(chip, SymmetryPointParams(n_devices=8), collect)
        expected, spread = model_point_and_spread(chip.model, op.write_amplitude_v, op.write_width_s)
    point = summary["widths"][f"{op.write_width_s:g}"]
    # the settled mean of 8 devices also carries c2c noise: over seeds it scatters by about the d2d
    # spread (main: 0.781 +/- 0.012, closed-form trains: 0.785 +/- 0.019 over 12 seeds, model 0.795)
    assert point["symmetry_point"] == pytest.approx(expected, abs=2 * spread)
    assert point["model_symmetry_point"] == pytest.approx(expected)
    assert len(point["per_device"]) == 8


def test_shorter_pulses_settle_higher_and_protocol_order(garg20, collect):
    """Seed 002: the symmetry point moves with width (about 0.8 at 20 ns, lower for long pulses)."""
    params = SymmetryPointParams(n_devices=4, widths_s="2e-8,2e-3", amplitudes_v="3.966,3.031", pulses=50, alternating=400)
    summary = run_symmetry_point(garg20, params, collect)
    short, long = summary["widths"]["2e-08"], summary["widths"]["0.002"]
    assert short["symmetry_point"] > long["symmetry_point"] + 0.1
    assert long["amplitude_v"] == 3.031
    df = pd.DataFrame(collect.records)
    one = df[(df["Width (s)"] == 2e-8) & (df["Device row"] == df["Device row"].iloc[0])
             & (df["Device col"] == df["Device col"].iloc[0])]
    assert list(one.Phase[:50]) == ["up"] * 50 and list(one.Phase[50:100]) == ["down"] * 50
    assert (np.sign(one["Amplitude (V)"].iloc[100:104]) == [1, -1, 1, -1]).all()
