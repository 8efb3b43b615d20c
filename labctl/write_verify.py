"""Write-verify: program devices to target conductances by pulse, read, correct, within a pulse budget.

Model-free at run time, as on the bench: each iteration reads the devices (averaging
``reads_per_verify`` bipolar reads against read noise), then gives every device outside tolerance a
train sized from its error and the step size it showed on its last train of that polarity
(``initial_step_s`` before any is seen), capped by the remaining budget. All devices of the mask
are corrected in parallel (one potentiating and one depressing ``apply_pulses`` per iteration).

``reread_all=False`` re-reads only the devices just corrected: a device once within tolerance is not
looked at again. On the bench a read costs far more than a pulse train (a 16 x 20 block: ~200
messages and 4.5 s against 13 and 0.3 s), so that is ~10x cheaper, and with few reads per verify a whole-mask
re-read lets read noise push a few converged devices out every time (the loop then runs to the pulse
budget). The procedures keep every device under watch (a device a lucky reading passed gets another
look: the 30-row array map's largest weight error is 0.07 of the range this way, 0.14 without);
training's mid-range start, with a loose tolerance, takes the cheap way.
Used by the procedures (multistate, retention, array map) and by training to start a bench chip at
mid range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import ArrayBackend
from .specs import PulseSpec, ReadSpec


GAIN = 0.7
"""Fraction of the estimated pulses needed that one iteration applies (undershoot beats overshoot)."""


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of a write-verify over a mask (``shape`` arrays; NaN / 0 off the mask)."""

    conductance_s: np.ndarray
    """Last verify reading in S (mean of ``reads_per_verify`` reads)."""
    pulses: np.ndarray
    """Pulses each device received."""
    converged: np.ndarray
    """Devices within tolerance at the last reading."""
    iterations: int
    """Read-correct iterations made."""


def averaged_read(backend: ArrayBackend, mask: np.ndarray, read: ReadSpec, n: int) -> np.ndarray:
    """Mean of ``n`` reads of the mask (NaN off the mask)."""
    return np.mean([backend.read(mask, read) for _ in range(n)], axis=0)


def write_verify(backend: ArrayBackend, mask: np.ndarray, target_s: np.ndarray, up: PulseSpec, down: PulseSpec,
                 read: ReadSpec, tolerance_s: float, max_pulses: int, initial_step_s: float,
                 reads_per_verify: int = 1, max_train: int = 50, should_stop=None,
                 reread_all: bool = True) -> VerifyResult:
    """Program every device of ``mask`` to ``target_s`` within ``tolerance_s`` or ``max_pulses`` pulses."""
    used = np.zeros(backend.shape, dtype=np.int64)
    step = {+1: np.full(backend.shape, initial_step_s), -1: np.full(backend.shape, initial_step_s)}
    g = averaged_read(backend, mask, read, reads_per_verify)
    iterations = 0
    while should_stop is None or not should_stop():
        err = np.where(mask, g - target_s, 0.0)
        todo = mask & (np.abs(err) > tolerance_s) & (used < max_pulses)
        if not todo.any():
            break
        iterations += 1
        direction = np.where(err < 0, 1, -1)
        est = np.where(direction > 0, step[1], step[-1])
        n = np.clip(np.floor(GAIN * np.abs(err) / est), 1, max_train)
        n = np.where(todo, np.minimum(n, max_pulses - used), 0).astype(np.int64)
        for sign, pulse in ((1, up), (-1, down)):
            counts = np.where(direction == sign, n, 0)
            if counts.any():
                backend.apply_pulses(counts > 0, pulse, counts)
        used += n
        g_new = averaged_read(backend, mask, read, reads_per_verify) if reread_all else \
            np.where(todo, averaged_read(backend, todo, read, reads_per_verify), g)
        moved = direction * (g_new - g)
        observed = np.maximum(moved / np.maximum(n, 1), 0.2 * initial_step_s)
        for sign in (1, -1):
            upd = todo & (direction == sign) & (moved > 0)
            step[sign] = np.where(upd, 0.5 * step[sign] + 0.5 * observed, step[sign])
        g = g_new
    err = np.where(mask, g - target_s, np.nan)
    return VerifyResult(np.where(mask, g, np.nan), used, mask & (np.abs(err) <= tolerance_s), iterations)


def nominal_step_s(device, amplitude_v: float, width_s: float) -> float:
    """Mid-range step in S of one pulse by the model (the write-verify's first guess)."""
    from device_models import physics

    return float(physics.conductance_step(device, amplitude_v > 0, physics.mid_range_state(device), amplitude_v, width_s))
