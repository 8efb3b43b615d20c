"""Compiled (numba) kernels of the update rules' selection: which cells to pulse and how often.

Each rule passes once over a layer's weight changes and returns (flat indices, signed counts) of the
cells to pulse, instead of the numpy path's ~8 passes (abs, scale, add, compare, nonzero, gathers,
floor, where) over the whole grid. Same float32 arithmetic in the same order and the same uniform
draws (taken by the caller from the optimiser's Generator), so the counts are identical to
:class:`labctl.training.optimizers.Optimizer`'s numpy rules; see :mod:`labctl.compiled`.
"""

from __future__ import annotations

import numpy as np

from labctl import compiled


@compiled.kernel
def _plain(change, uniform, inv_step, max_pulses):
    flat = np.empty(change.size, dtype=np.int64)
    counts = np.empty(change.size, dtype=np.int64)
    k = 0
    for i in range(change.size):
        ratio = abs(change[i]) * inv_step + uniform[i]
        if ratio >= 1:
            n = np.int64(min(np.floor(ratio), max_pulses))
            flat[k], counts[k] = i, -n if change[i] < 0 else n
            k += 1
    return flat[:k], counts[:k]


@compiled.kernel
def _mixed_precision(acc, change, up, down, max_pulses):
    flat = np.empty(change.size, dtype=np.int64)
    counts = np.empty(change.size, dtype=np.int64)
    k = 0
    for i in range(change.size):
        value = acc[i] + change[i]
        if value >= up or value <= -down:
            step = up if value > 0 else down
            n = min(max(np.trunc(value / step), -max_pulses), max_pulses)
            value = value - np.float32(n) * step
            flat[k], counts[k] = i, np.int64(n)
            k += 1
        acc[i] = value
    return flat[:k], counts[:k]


def plain_at(change: np.ndarray, uniform: np.ndarray, device_step: np.float32, max_pulses: int):
    """Plain SGD's stochastic rounding (``Optimizer._plain_at``): ``uniform`` holds one float32 in [0, 1) per cell."""
    return _plain(change.reshape(-1), uniform.reshape(-1), np.float32(1 / device_step), np.float32(max_pulses))


def mixed_precision_at(acc: np.ndarray, change: np.ndarray, steps: tuple[np.float32, np.float32], max_pulses: int):
    """Mixed-precision SGD (``Optimizer._mixed_precision_at``): accumulate ``change`` into ``acc`` (in place),
    pulse whole steps of each polarity out of it."""
    return _mixed_precision(acc.reshape(-1), change.reshape(-1), steps[0], steps[1], np.float32(max_pulses))
