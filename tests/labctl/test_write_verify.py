"""Write-verify through the seam: converges; the procedures re-read every device each iteration, the cheap
variant (``reread_all=False``) only the devices it corrected."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.layout import CellLayout
from labctl.specs import PulseSpec, ReadSpec
from labctl.write_verify import nominal_step_s, write_verify
from sim_backend.array import SimulatedArray


def _verify(reread_all: bool):
    """(result, masks read, mask, target, span, chip) of a two-level write-verify of a 6x8 block."""
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
                          nominal_step_s(device, op.write_amplitude_v, op.write_width_s), reads_per_verify=2,
                          reread_all=reread_all)
    return result, reads, mask, target, span, chip


@pytest.mark.parametrize("reread_all", [True, False])
def test_every_device_reaches_its_target(reread_all):
    result, _, mask, target, span, chip = _verify(reread_all)
    assert result.converged[mask].all() and not result.converged[~mask].any()
    assert np.abs(chip.true_conductance()[mask] - target[mask]).max() < 0.1 * span


def test_the_procedures_reread_every_device_and_the_cheap_way_only_the_corrected():
    _, full, mask, *_ = _verify(reread_all=True)
    assert all(np.array_equal(m, mask) for m in full)
    _, cheap, *_ = _verify(reread_all=False)
    assert np.array_equal(cheap[0], mask) and np.array_equal(cheap[1], mask)  # the first verify: every device
    later = cheap[2:]
    assert later and all((m & ~mask).sum() == 0 for m in later)
    assert later[-1].sum() < mask.sum() / 4  # the last iterations touch only the stragglers
    assert sum(m.sum() for m in cheap) < 0.5 * sum(m.sum() for m in full)
