"""Where a layer's devices start on a bench: mid range, whatever state the chip was left in."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.layout import CellLayout
from labctl.training import train
from labctl.training.analog import AnalogLayer
from labctl.training.start import TOLERANCE, program_mid_range
from sim_backend.array import SimulatedArray


@pytest.mark.parametrize("left_at", [0.0, 1.0])  # fully erased, fully written
def test_devices_reach_mid_range_from_either_end(left_at):
    chip = SimulatedArray("garg-hzo-2us", seed=2, layout=CellLayout.with_reference(8, 12), initial_state=left_at)
    layer = AnalogLayer(chip, chip.model, 8, 6)
    pulses, missed = program_mid_range([layer])
    device = chip.model.weight
    span = device.g_max_s - device.g_min_s
    g = chip.true_conductance()[layer.weight_devices | layer.reference_devices]
    assert missed == 0 and pulses > 0
    # verified within tolerance by averaged noisy reads: the true value is within it plus a little read noise
    assert np.abs(g - (device.g_min_s + span / 2)).max() < 1.5 * TOLERANCE * span
    assert abs(float(layer.w.mean())) < 0.05 and float(np.abs(layer.w).max()) < 0.3  # weights as read again


def test_a_bench_run_programs_its_start_once_and_as_is_skips_it():
    small = dict(backend="sim-instruments", model="garg-hzo-2us", algo="sgd", layers=(8, 10), train_samples=100,
                 test_samples=50, progress=False)
    df = train(**small)
    assert df.attrs["setup"] == "mid range" and df.attrs["setup_unconverged"] == 0
    assert df.attrs["setup_pulses"] > 0 and df.attrs["setup_transactions"] > 0 and df.attrs["setup_chip_time_s"] > 0
    kept = train(**small, start="as-is")
    assert kept.attrs["setup"] is None and kept.attrs["setup_pulses"] == 0
    on_sim = train(**{**small, "backend": "sim"})  # simulated layers are built at mid range
    assert on_sim.attrs["setup"] is None
