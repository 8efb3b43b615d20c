"""A device whose conductance is log-scaled in its state (``conductance_scale: log``) trains like any other.

The array sums currents, so a weight is linear in conductance whatever the device's scale. A layer
that starts its devices at state 0.5 (the geometric middle of a two-decade device, a tenth of its
range) can only reach weights in [-0.18, +1.8], and pulse counts sized by the state step (not by the
conductance step at the device's state) are off by up to 2x at mid range: such a device trained at
chance (23 %, issue 21). Both are checked here against the simulated chip.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_models import load_model, physics
from labctl.training import AnalogLayer, device_steps
from labctl.training.loop import simulated_layer_backend
from labctl.api import train


def _log_device(**variation):
    base = load_model("garg-hzo-2us")
    weight = dataclasses.replace(base.weight, conductance_scale="log", g_min_s=1e-8, g_max_s=1e-6,
                                 variation=dataclasses.replace(base.weight.variation, **variation))
    return dataclasses.replace(base, name="log-device", weight=weight)


QUIET = dict(d2d_bounds=0.0, d2d_step=0.0, d2d_nonlinearity=0.0, c2c_write=0.0, read_noise=0.0)


def test_mid_range_state_is_the_middle_of_the_conductance_range():
    model = _log_device()
    state = physics.mid_range_state(model.weight)
    assert physics.conductance(state, 1e-8, 1e-6, True) == pytest.approx((1e-8 + 1e-6) / 2)
    assert physics.mid_range_state(load_model("garg-hzo-2us").weight) == 0.5


def test_a_log_device_layer_spans_plus_minus_one_and_steps_by_the_optimizers_step():
    model = _log_device(**QUIET)
    up, down = device_steps(model)
    ones = np.ones((8, 4), dtype=np.int64)
    for sign, step in ((1, up), (-1, down)):
        layer = AnalogLayer(simulated_layer_backend(model, 8, 4, seed=0), model, 8, 4)
        assert np.abs(layer.w).max() < 1e-3  # weight and reference devices start together at mid range
        layer.apply_counts(sign * ones)
        assert sign * layer.w.mean() == pytest.approx(step, rel=0.02)
        layer.apply_counts(sign * 3000 * ones)
        assert layer.w.mean() == pytest.approx(sign, abs=0.05)


def test_a_log_device_trains_on_5000_mnist_samples(tmp_path):
    metrics = train(backend="sim", model=_log_device(), algo="mpsgd", epochs=1, layers=(784, 64, 10), seed=0,
                    train_samples=5000, test_samples=1000, progress=False)
    assert metrics["pulses"].sum() > 0 and metrics["test_accuracy"].iloc[-1] > 0.5


def test_between_read_backs_a_log_devices_weights_follow_its_own_steps():
    """``read_every=2``: the weights predicted from the pulses sent (no read) are the chip's, on a log scale
    and with an LTD amplitude of its own (the prediction mapped G linearly and used the LTP amplitude)."""
    model = _log_device(**QUIET)
    model = dataclasses.replace(model, operating_point=dataclasses.replace(model.operating_point, ltd_amplitude_v=3.3))
    chip = simulated_layer_backend(model, 4, 3, seed=0)
    layer = AnalogLayer(chip, model, 4, 3, read_every=2)
    layer.apply_counts_at(np.arange(6), np.array([6, 6, 6, -6, -6, -6]))  # pulses only: the weights predicted
    g = chip.read(np.ones(chip.shape, dtype=bool), layer.read_spec)
    lay = chip.layout
    truth = ((lay.to_cells(g) - lay.to_cells(g, lay.partner)) / layer.half_range_s)[:4, :3].ravel()
    assert np.abs(truth[:6]).min() > 0.1
    np.testing.assert_allclose(layer.w.ravel()[:6], truth[:6], rtol=0.03)  # (the chip: a 6-pulse closed form)
