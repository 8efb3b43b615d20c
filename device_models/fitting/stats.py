"""DC statistics over many devices: memory window and Ion/Ioff from transfer curves, with normal fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import DataError


@dataclass(frozen=True)
class NormalFit:
    """A normal distribution fitted to per-device values (maximum likelihood)."""

    mean: float
    """Sample mean (the unit of the values)."""
    std: float
    """Standard deviation (ddof=1)."""
    n: int
    """Number of finite values."""
    shapiro_p: float
    """Shapiro-Wilk p-value (small: the values are not normal)."""


def normal_fit(values) -> NormalFit:
    """Fit a normal distribution to the finite ``values`` (at least 3)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size < 3:
        raise DataError(f"normal fit: {v.size} finite values; need at least 3 devices")
    p = float(stats.shapiro(v).pvalue) if np.ptp(v) > 0 else 0.0
    return NormalFit(float(v.mean()), float(v.std(ddof=1)), int(v.size), p)


def threshold_at_current(gate_v, drain_current_a, current_a: float) -> np.ndarray:
    """Gate voltage in V where each curve (rows of ``drain_current_a``) first crosses ``current_a``.

    Interpolated in log current along the sweep's direction; NaN where a curve never crosses.
    """
    vg = np.asarray(gate_v, dtype=float)
    ids = np.atleast_2d(np.abs(np.asarray(drain_current_a, dtype=float)))
    logi, target = np.log10(np.maximum(ids, 1e-30)), np.log10(current_a)
    out = np.full(ids.shape[0], np.nan)
    for i, row in enumerate(logi):
        cross = np.flatnonzero(np.diff(np.sign(row - target)) != 0)
        if cross.size:
            k = cross[0]
            out[i] = vg[k] + (vg[k + 1] - vg[k]) * (target - row[k]) / (row[k + 1] - row[k])
    return out


def memory_window_v(gate_up_v, id_up_a, gate_down_v, id_down_a, current_a: float) -> np.ndarray:
    """Memory window in V per device at constant current: threshold of the up sweep minus the down sweep.

    The up sweep starts erased (high threshold), the down sweep programmed (low threshold).
    """
    return threshold_at_current(gate_up_v, id_up_a, current_a) - threshold_at_current(gate_down_v, id_down_a, current_a)


def on_off_ratio(drain_current_a) -> np.ndarray:
    """Ion/Ioff per device: largest over smallest current magnitude of each curve."""
    ids = np.atleast_2d(np.abs(np.asarray(drain_current_a, dtype=float)))
    return ids.max(axis=1) / np.maximum(ids.min(axis=1), 1e-30)
