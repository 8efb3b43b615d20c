"""aihwkit export: the PiecewiseStepDevice-style dict follows the model's step curves."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from device_models import load_preset, physics
from device_models.errors import ModelError
from device_models.export import piecewise_step_config, to_aihwkit


def test_piecewise_config_of_a_soft_bounds_preset():
    model = load_preset("garg-hzo-2us")
    cfg = piecewise_step_config(model, n_points=11)
    up, down = np.array(cfg["piecewise_up"]), np.array(cfg["piecewise_down"])
    assert cfg["type"] == "PiecewiseStepDevice" and len(up) == len(down) == 11
    assert np.all(np.diff(up) < 0) and np.all(np.diff(down) > 0)  # soft bounds: steps shrink toward each bound
    assert np.mean(np.r_[up, down]) == pytest.approx(1.0)  # dw_min is the mean step
    assert cfg["dw_min_std"] == model.weight.variation.c2c_write
    # a weight step is twice the normalised step (weights span [-1, 1])
    frac = 0.018  # the preset's LTP step from the bottom at 2 us (provenance)
    assert up[0] * cfg["dw_min"] == pytest.approx(2 * frac, rel=0.02)
    room = (0.5 / 11) ** model.weight.potentiation.shape.exponent  # last LTP point: mid of the last bin
    assert up[-1] * cfg["dw_min"] == pytest.approx(2 * frac * room, rel=0.02)


def test_aihwkit_object_or_a_clear_error():
    model = load_preset("garg-hzo-2us")
    try:
        import aihwkit  # noqa: F401
    except ImportError:
        with pytest.raises(ModelError, match="aihwkit is not installed"):
            to_aihwkit(model)
        return
    device = to_aihwkit(model)
    assert list(device.piecewise_up) == pytest.approx(piecewise_step_config(model)["piecewise_up"])


def _simulated_devices(model, n=40000, seed=0):
    """Weight-unit bounds and per-polarity step factors of ``n`` devices as the simulator draws them."""
    from sim_backend.population import Population

    w = model.weight
    pop = Population.draw(w, np.arange(n), np.random.default_rng(seed))
    span = w.g_max_s - w.g_min_s
    to_weight = lambda g: -1 + 2 * (g - w.g_min_s) / span  # noqa: E731 (the export's weight axis)
    range_factor = (pop.g_max - pop.g_min) / span  # a device's conductance step scales with its range
    return to_weight(pop.g_max), to_weight(pop.g_min), pop.up_scale * range_factor, pop.down_scale * range_factor


@pytest.mark.parametrize("name", ["garg-hzo-2us", "garg-hzo-20ns"])
def test_exported_spreads_are_the_simulated_devices_spreads(name):
    """aihwkit draws w_max (1 + w_max_dtod n), w_min (1 + w_min_dtod n) and step scales
    (1 + dw_min_dtod n +- up_down_dtod n'): each must have the spread the simulator's devices have."""
    model = load_preset(name)
    cfg = piecewise_step_config(model)
    top, bottom, up, down = _simulated_devices(model)
    assert cfg["w_max_dtod"] * abs(cfg["w_max"]) == pytest.approx(np.std(top), rel=0.03)
    assert cfg["w_min_dtod"] * abs(cfg["w_min"]) == pytest.approx(np.std(bottom), rel=0.03)
    assert cfg["w_max_dtod"] == pytest.approx(0.12, abs=0.005) and cfg["w_min_dtod"] == pytest.approx(0.02, abs=0.002)
    assert cfg["dw_min_dtod"] == pytest.approx(np.std((up + down) / 2), rel=0.03)
    assert cfg["up_down_dtod"] == pytest.approx(np.std((up - down) / 2), rel=0.03)
    assert cfg["up_down_dtod"] > 0.03  # the per-polarity spread is not dropped


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_piecewise_steps_take_the_models_pulses_to_mid_range(scale):
    """Stepping aihwkit's rule (w +-= dw_min * interpolated factor) from either bound reaches the mid
    conductance in as many pulses as the model takes there, on a linear and a log-scale (two-decade) device."""
    model = load_preset("garg-hzo-2us")
    if scale == "log":
        weight = replace(model.weight, conductance_scale="log", g_min_s=1e-7, g_max_s=1e-5)
        model = replace(model, weight=weight)
    w, op = model.weight, model.operating_point
    cfg = piecewise_step_config(model, n_points=21)
    g_mid = 0.5 if scale == "linear" else np.log((w.g_min_s + w.g_max_s) / 2 / w.g_min_s) / np.log(100)
    for side, up, start in ((w.potentiation, True, -1.0), (w.depression, False, 1.0)):
        factors = np.array(cfg["piecewise_up" if up else "piecewise_down"])
        x, n = start, 0
        while (x < 0.0) if up else (x > 0.0):  # mid conductance is weight 0
            x += (1 if up else -1) * cfg["dw_min"] * np.interp((x + 1) / 2, np.linspace(0, 1, factors.size), factors)
            n += 1
        expected = physics.pulses_to_state(side, up, 0.0 if up else 1.0, g_mid, op.write_amplitude_v,
                                           op.write_width_s, w.reference_amplitude_v, w.reference_width_s)
        assert n == pytest.approx(expected, rel=0.05, abs=1)


def test_aihwkit_round_trip_draws_the_simulated_spreads():
    """Where aihwkit is installed: its populated devices have the simulator's bound and step spreads."""
    pytest.importorskip("aihwkit")
    from aihwkit.nn import AnalogLinear
    from aihwkit.simulator.configs import SingleRPUConfig

    model = load_preset("garg-hzo-2us")
    layer = AnalogLinear(200, 200, bias=False, rpu_config=SingleRPUConfig(device=to_aihwkit(model)))
    hidden = next(iter(layer.analog_tiles())).get_hidden_parameters()
    top, bottom, up, down = _simulated_devices(model)
    dw_min = piecewise_step_config(model)["dw_min"]
    got_up, got_down = (np.asarray(hidden[k]).ravel() / dw_min for k in ("dwmin_up", "dwmin_down"))
    assert np.std(np.asarray(hidden["max_bound"])) == pytest.approx(np.std(top), rel=0.05)
    assert np.std(np.asarray(hidden["min_bound"])) == pytest.approx(np.std(bottom), rel=0.05)
    assert np.std(got_up) == pytest.approx(np.std(up), rel=0.05)
    assert np.std(got_up - got_down) == pytest.approx(np.std(up - down), rel=0.05)
