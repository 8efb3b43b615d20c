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
