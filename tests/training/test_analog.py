"""The analog layer on the simulated chip: converters, forward by read_mvm, pulses, chip fit."""

from __future__ import annotations

import numpy as np
import pytest

from device_models import load_preset
from device_models.energy import pulse_energy_j
from labctl.errors import ConfigError
from labctl.layout import CellLayout, Role
from labctl.training import AnalogLayer, Converters, program_symmetry_point, quantize
from procedures.symmetry_point import model_symmetry_point
from sim_backend import SimulatedArray

MODEL = load_preset("garg-hzo-20ns")


def _layer(rows=30, cols=10, layout=None, seed=0):
    chip = SimulatedArray(MODEL, seed=seed, layout=layout or CellLayout.with_reference(rows, 2 * cols), initial_state=0.5)
    return AnalogLayer(chip, MODEL, rows, cols)


def test_quantize_is_8_bit_and_clips():
    values = np.linspace(-2, 2, 1001, dtype=np.float32)
    q = quantize(values, 1.0, 8)
    assert len(np.unique(q)) == 255 and q.max() == 1.0 and q.min() == -1.0
    assert np.abs(q - np.clip(values, -1, 1)).max() <= 0.5 / 127 + 1e-6


def test_forward_is_the_array_product_within_read_noise_and_converters():
    layer = _layer()
    chip = layer.backend
    g = chip.true_conductance()
    w_true = (chip.layout.to_cells(g) - chip.layout.to_cells(g, Role.REFERENCE)) / layer.half_range_s
    x = np.random.default_rng(0).random((4, 30), dtype=np.float32)
    expected = layer.alpha * x @ w_true
    # Read noise (4.25 % of each device's whole conductance) averages out over repeated reads.
    mean = np.mean([layer.forward(x) for _ in range(400)], axis=0)
    adc_step = float(layer.alpha * 12 / 127 * np.abs(x).max())
    assert np.abs(mean - expected).max() < adc_step
    # One read is noisy: per-output sigma ~ 0.06 * |x| in weight units per device pair.
    single = layer.forward(x)
    assert 0 < np.abs(single - expected).mean() < 3 * layer.alpha * 0.1 * np.linalg.norm(x, axis=1).mean()


def test_initial_weights_are_device_mismatch_around_zero():
    w = _layer().w
    assert abs(w.mean()) < 0.05 and 0.02 < w.std() < 0.3


def test_counts_move_weights_in_their_sign_and_are_counted():
    layer = _layer()
    before = layer.w.copy()
    counts = np.zeros((30, 10), dtype=np.int64)
    counts[:, :5], counts[:, 5:] = 10, -10
    pulses, transactions = layer.apply_counts(counts)
    assert pulses == 300 * 10 and transactions == 0
    assert (layer.w[:, :5] - before[:, :5]).mean() > 0.05
    assert (layer.w[:, 5:] - before[:, 5:]).mean() < -0.01
    assert layer.energy_per_pulse_j == pytest.approx(float(pulse_energy_j(MODEL.operating_point.write_amplitude_v,
                                                                         MODEL.operating_point.write_width_s)))


def test_small_layer_uses_a_corner_of_the_30x30_chip():
    chip = SimulatedArray(MODEL, seed=1, layout=CellLayout.with_reference(30, 30), initial_state=0.5)
    layer = AnalogLayer(chip, MODEL, 20, 10)
    state = chip.state.copy()
    layer.apply_counts(np.full((20, 10), 3))
    changed = chip.state != state
    assert changed[:20, 0:20:2].all() and not changed[20:].any() and not changed[:, 20:].any()
    assert not changed[:, 1::2].any()  # reference devices are never written
    assert layer.forward(np.ones((2, 20), dtype=np.float32)).shape == (2, 10)


def test_layer_larger_than_the_backend_is_refused():
    chip = SimulatedArray(MODEL, seed=1, layout=CellLayout.with_reference(30, 30))
    with pytest.raises(ConfigError, match="does not fit"):
        AnalogLayer(chip, MODEL, 784, 10)
    with pytest.raises(ConfigError, match="with_reference"):
        AnalogLayer(SimulatedArray(MODEL, seed=1), MODEL, 10, 10)
    with pytest.raises(ConfigError):
        Converters(adc_bits=1)


def test_symmetry_protocol_lands_on_each_devices_symmetry_point():
    chip = SimulatedArray(MODEL, seed=3, layout=CellLayout.with_reference(10, 20), initial_state=0.5)
    layer = AnalogLayer(chip, MODEL, 10, 10)
    devices = layer.weight_devices | layer.reference_devices
    pulses, _ = program_symmetry_point(chip, devices, layer.pulses[+1], alternating=300)
    assert pulses == devices.sum() * (100 + 600)
    op = MODEL.operating_point
    g_star = model_symmetry_point(MODEL, op.write_amplitude_v, op.write_width_s)
    assert g_star == pytest.approx(0.795, abs=0.01)  # the preset's 20 ns symmetry point
    state = chip.state[devices]
    assert abs(np.median(state) - g_star) < 0.03 and state.std() < 0.05
