"""The symmetry-point protocol of seed 002 (Fig. 8a), run on the devices of a backend.

50 pulses of one polarity, 50 of the other, then alternating single pulses: each device settles
where one LTP and one LTD pulse cancel, its own symmetry point (device-to-device variation
included, because the devices themselves do the finding).
"""

from __future__ import annotations

import numpy as np

from labctl.backend import ArrayBackend
from labctl.specs import PulseSpec


def program_symmetry_point(backend: ArrayBackend, devices: np.ndarray, pulse: PulseSpec, first: int = 50,
                           second: int = 50, alternating: int = 300) -> tuple[int, int]:
    """Drive ``devices`` to their symmetry point with ``pulse`` (LTP) and its negative (LTD).

    ``first`` LTD pulses, ``second`` LTP pulses, then ``alternating`` (LTD, LTP) pairs. Returns
    (pulses delivered, bench transactions).
    """
    ltp = pulse if pulse.amplitude_v > 0 else pulse.scaled(-pulse.amplitude_v)
    ltd = ltp.scaled(-ltp.amplitude_v)
    reports = [backend.apply_pulses(devices, ltd, first), backend.apply_pulses(devices, ltp, second)]
    for _ in range(alternating):
        reports.append(backend.apply_pulses(devices, ltd, 1))
        reports.append(backend.apply_pulses(devices, ltp, 1))
    return sum(r.pulses for r in reports), sum(r.transactions for r in reports)


def shift_references(layers: list, alternating: int = 300) -> tuple[int, int]:
    """Symmetry-point shifting: put every weight and reference device of analog ``layers`` at its own
    symmetry point (``alternating`` pulse pairs), then re-read the weights.

    The reference then stays fixed; the weight device starts there too, so every weight starts at
    ~0 (its device-to-device offset) and plain SGD drift pulls it toward 0 rather than to +0.59.
    Returns (pulses delivered, bench transactions).
    """
    pulses = transactions = 0
    for layer in layers:
        devices = layer.weight_devices | layer.reference_devices
        p, t = program_symmetry_point(layer.backend, devices, layer.pulses[+1], alternating=alternating)
        pulses, transactions = pulses + p, transactions + t
        layer.refresh()
    return pulses, transactions
