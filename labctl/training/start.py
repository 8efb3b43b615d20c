"""Where a layer's devices start: at mid range, so every weight starts near 0 and can move both ways.

``w = (G_weight - G_reference) / (range / 2)`` is signed only if the reference sits inside the range:
a chip left fully erased (weight and reference devices at the floor) gives weights that can only
grow. ``labctl train`` on ``sim`` builds each layer's simulated chip with every device at mid range
(:func:`labctl.training.loop.simulated_layer_backend`); a bench chip is in whatever state its last
use left, so a fresh run on any other backend first brings the layer's weight and reference devices
to mid range through the seam (:func:`program_mid_range`), which ``sim-instruments`` prices like any
other bench work. A sparse layer (:mod:`labctl.sparse`, no reference: non-negative weights) starts
erased, as its simulated chips are built (:func:`erase`).
"""

from __future__ import annotations

import numpy as np

from device_models import physics
from labctl.write_verify import nominal_step_s, write_verify

ERASED_STATE = 0.02
"""State the erase train drives the mean trajectory to from the top of the range (any start ends at the floor)."""
TOLERANCE = 0.05
"""Write-verify tolerance as a fraction of the conductance range: weights start within +-0.1 of 0
(a simulated layer's start spreads ~0.12 from device-to-device variation)."""
READS_PER_VERIFY = 2
"""Readings averaged per verify (the garg-hzo read noise at mid range is ~3 % of the range per reading)."""
MAX_PULSES = 100
"""Write-verify pulse budget per device after the preset (the preset leaves device-to-device spread only)."""


def erase(layer, devices: np.ndarray) -> int:
    """One depressing train every device of ``devices`` shares (one vector operation on the bench), long
    enough for the model's mean trajectory to reach the floor from the top of the range; returns pulses."""
    device, op = layer.model.weight, layer.model.operating_point
    count = physics.pulses_to_state(device.depression, False, 1.0, ERASED_STATE, -op.amplitude_v(False),
                                    op.write_width_s, device.reference_amplitude_v, device.reference_width_s)
    return layer.backend.apply_pulses(devices, layer.pulses[-1], count).pulses


def program_mid_range(layers) -> tuple[int, int]:
    """Bring the weight and reference devices of analog ``layers`` to mid range, then re-read the weights;
    returns (pulses, devices left outside tolerance).

    Open loop first, as two trains every device shares (two vector operations on the bench, whatever
    state the chip was left in): :func:`erase`, then the model's pulse count from the floor to mid
    range. A write-verify then corrects each device's device-to-device error.
    """
    pulses = missed = 0
    for layer in layers:
        device, op = layer.model.weight, layer.model.operating_point
        devices = layer.weight_devices | layer.reference_devices
        preset = physics.pulses_to_state(device.potentiation, True, 0.0, physics.mid_range_state(device),
                                         op.write_amplitude_v, op.write_width_s,
                                         device.reference_amplitude_v, device.reference_width_s)
        pulses += erase(layer, devices) + layer.backend.apply_pulses(devices, layer.pulses[+1], preset).pulses
        span = device.g_max_s - device.g_min_s
        target = np.full(layer.backend.shape, device.g_min_s + span / 2)
        result = write_verify(layer.backend, devices, target, layer.pulses[+1], layer.pulses[-1], layer.read_spec,
                              TOLERANCE * span, MAX_PULSES,
                              nominal_step_s(device, op.write_amplitude_v, op.write_width_s), READS_PER_VERIFY,
                              reread_all=False)
        pulses += int(result.pulses.sum())
        missed += int((devices & ~result.converged).sum())
        layer.refresh()
    return pulses, missed
