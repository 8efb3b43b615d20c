"""Write-verify through the seam: converges, and re-reads only the devices it corrects."""

from __future__ import annotations

import numpy as np

from labctl.layout import CellLayout
from labctl.specs import PulseSpec, ReadSpec
from labctl.write_verify import nominal_step_s, write_verify
from sim_backend.array import SimulatedArray


def test_only_the_devices_still_outside_tolerance_are_read_again():
    chip = SimulatedArray("garg-hzo-2us", seed=4, layout=CellLayout.dense(10, 10), initial_state=0.2)
    device, op = chip.model.weight, chip.model.operating_point
    mask = np.zeros(chip.shape, dtype=bool)
    mask[:6, :8] = True
    span = device.g_max_s - device.g_min_s
    target = np.where(np.arange(10)[None, :] % 2, 0.3, 0.7) * span + device.g_min_s + np.zeros(chip.shape)
    reads = []
    read = chip.read
    chip.read = lambda m, spec=ReadSpec(): reads.append(m.copy()) or read(m, spec)  # a spy: the physics still runs
    result = write_verify(chip, mask, target, PulseSpec(op.write_amplitude_v, op.write_width_s),
                          PulseSpec(-op.write_amplitude_v, op.write_width_s), ReadSpec(), 0.05 * span, 200,
                          nominal_step_s(device, op.write_amplitude_v, op.write_width_s), reads_per_verify=2)
    assert result.converged[mask].all() and not result.converged[~mask].any()
    assert np.array_equal(reads[0], mask) and np.array_equal(reads[1], mask)  # the first verify: every device
    later = reads[2:]
    assert later and all((m & ~mask).sum() == 0 for m in later)
    assert sum(m.sum() for m in later) < 2 * mask.sum() * (len(later) // 2)  # fewer than whole-mask re-reads
    assert later[-1].sum() < mask.sum() / 4  # the last iterations touch only the stragglers
    true = chip.true_conductance()
    assert np.abs(true[mask] - target[mask]).max() < 0.1 * span
