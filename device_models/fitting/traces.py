"""From the canonical pulse table to aligned trains, their mean trace, and the spreads around it.

Ramped amplitudes: each pulse's step is normalised by the kinetics ratio
``switched_fraction(kin, V_n, t_n) / switched_fraction(kin, V_ref, t_ref)`` of the *base model's*
kinetics (Merz's law, nucleation-limited switching), so a ramp and a fixed-amplitude train give the
same step curve at the reference pulse. One ramp cannot determine the kinetics themselves; the
fitted model keeps the base model's kinetics for that reason. A fixed-amplitude train has ratio 1.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..params import Kinetics
from ..physics import switched_fraction
from .steps import StepFit, trajectory

PLATEAU_FRACTION = 0.2
"""Last fraction of each train averaged as a device's plateau (its bound) for the d2d spread."""
C2C_MAX = 1.0
"""Largest relative write noise a step model can carry (beyond it a pulse's step has either sign)."""
SCALE_GRID = np.exp(np.linspace(np.log(1 / 3), np.log(3), 61))
"""Step scales a train is fitted over (relative to the mean curve's)."""
GRID_VALUES_PER_CALL = 2_000_000
"""Predicted readings :func:`train_scales` computes at once (16 MB): grid scales are batched up to this."""
EDGE_FRACTION = 0.1
"""Share of trains whose scale sits at an end of ``SCALE_GRID`` above which the step spread is not resolved
(such a train does not fix its scale: steps under the read noise)."""


@dataclass
class PhaseTrains:
    """Every train of one phase, aligned by pulse index (NaN-padded)."""

    phase: str
    """"LTP" or "LTD"."""
    conductance_s: np.ndarray
    """Readings in S, shape (trains, pulses)."""
    ratios: np.ndarray
    """Kinetics ratio of the pulse before each reading (column 0 unused), same shape."""
    device: np.ndarray
    """Device label of each train."""
    amplitude_v: np.ndarray | None = None
    """Amplitude magnitude in V of the pulse before each reading (NaN: unknown), same shape."""
    width_s: np.ndarray | None = None
    """Width in s of the pulse before each reading (NaN: unknown), same shape."""

    def normalised(self, g_min_s, g_max_s) -> np.ndarray:
        """Readings in units of the bounds (floats, or (trains, 1) columns of per-train bounds)."""
        return (self.conductance_s - g_min_s) / (g_max_s - g_min_s)

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean reading and mean ratio per pulse index of each device's first train of this phase, over
        the pulse indices at least half of them reach.

        First trains only: a later cycle's train starts where the previous phase left the device, so
        averaging trains of different cycles would mix start states into a trace no device follows.
        """
        first = ~pd.Series(self.device).duplicated().to_numpy()
        g, ratios = self.conductance_s[first], self.ratios[first]
        present = np.isfinite(g).sum(axis=0)
        length = int(np.max(np.flatnonzero(present >= max(1, present[0] / 2)))) + 1
        with np.errstate(invalid="ignore"):
            return np.nanmean(g[:, :length], axis=0), np.nanmean(ratios[:, :length], axis=0)

    def protocol(self, ref_amplitude_v: float, ref_width_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Amplitude magnitude and width per pulse of the mean trace (the reference where unknown)."""
        first = ~pd.Series(self.device).duplicated().to_numpy()
        length = len(self.mean()[0])
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            amp = np.nanmean(self.amplitude_v[first, :length], axis=0)
            width = np.nanmean(self.width_s[first, :length], axis=0)
        return np.where(np.isfinite(amp), amp, ref_amplitude_v), np.where(np.isfinite(width), width, ref_width_s)


def kinetics_ratio(kin: Kinetics, amplitude_v, width_s, ref_amplitude_v: float, ref_width_s: float) -> np.ndarray:
    """Step of each pulse relative to the reference pulse's (1 where the amplitude is unknown)."""
    amp = np.abs(np.asarray(amplitude_v, dtype=float))
    width = np.where(np.isfinite(width_s), width_s, ref_width_s)
    known = np.isfinite(amp) & (amp > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = switched_fraction(kin, np.where(known, amp, ref_amplitude_v), width) / switched_fraction(
            kin, ref_amplitude_v, ref_width_s)
    return np.where(known, ratio, 1.0)


def phase_trains(table: pd.DataFrame, phase: str, kin: Kinetics, ref_amplitude_v: float, ref_width_s: float) -> PhaseTrains:
    """The trains of ``phase`` in ``table`` (canonical columns), aligned and padded."""
    rows = table[table.phase == phase]
    segments = list(rows.groupby("segment", sort=True))
    length = max(len(s) for _, s in segments)
    g = np.full((len(segments), length), np.nan)
    r, amp, width = np.full_like(g, np.nan), np.full_like(g, np.nan), np.full_like(g, np.nan)
    device = []
    for i, (_, seg) in enumerate(segments):
        g[i, : len(seg)] = seg.conductance_s.to_numpy()
        amp[i, : len(seg)] = np.abs(seg.amplitude_v.to_numpy())
        width[i, : len(seg)] = seg.width_s.to_numpy()
        r[i, : len(seg)] = kinetics_ratio(kin, seg.amplitude_v.to_numpy(), seg.width_s.to_numpy(),
                                          ref_amplitude_v, ref_width_s)
        device.append(seg.device.iloc[0])
    return PhaseTrains(phase, g, r, np.array(device), amp, width)


def train_scales(fit: StepFit, trains: PhaseTrains, g_min_s, g_max_s) -> np.ndarray:
    """Best step scale per train (grid search, 0.33x to 3x the mean step), starting at its first reading."""
    g = trains.normalised(g_min_s, g_max_s)
    sse = np.empty((SCALE_GRID.size, g.shape[0]))
    per_call = max(1, GRID_VALUES_PER_CALL // g.size)
    for k in range(0, SCALE_GRID.size, per_call):  # the trains of several grid scales in one trajectory
        scales = fit.scale * SCALE_GRID[k:k + per_call]
        pred = trajectory(fit.shape, np.repeat(scales, g.shape[0]), np.tile(np.clip(g[:, 0], 0, 1), scales.size),
                          np.tile(trains.ratios, (scales.size, 1)), fit.phase == "LTP")
        sse[k:k + scales.size] = np.nansum((pred.reshape(scales.size, *g.shape) - g) ** 2, axis=2)
    return SCALE_GRID[np.argmin(sse, axis=0)]


def scales_resolved(scales: np.ndarray) -> bool:
    """Whether train scales fix a device-to-device spread: few of them at an end of ``SCALE_GRID``."""
    at_edge = (scales <= SCALE_GRID[0]) | (scales >= SCALE_GRID[-1])
    return bool(at_edge.mean() <= EDGE_FRACTION)


def device_spread(values: np.ndarray, devices: np.ndarray, log: bool = False) -> float:
    """Relative standard deviation of per-device means (0 with fewer than 3 devices).

    ``log``: the std of per-device mean logarithms (a lognormal's relative spread).
    """
    per_device = pd.Series(np.log(values) if log else values).groupby(devices).mean()
    if len(per_device) < 3:
        return 0.0
    return float(per_device.std(ddof=1) if log else per_device.std(ddof=1) / per_device.mean())


def plateaus(trains: PhaseTrains) -> np.ndarray:
    """Mean of the last ``PLATEAU_FRACTION`` of each train's readings (its bound when saturated)."""
    out = np.empty(trains.conductance_s.shape[0])
    for i, row in enumerate(trains.conductance_s):
        row = row[np.isfinite(row)]
        out[i] = row[-max(2, int(len(row) * PLATEAU_FRACTION)):].mean()
    return out


def noise_from_residuals(fits: list[StepFit], trains: list[PhaseTrains], scales: list[np.ndarray],
                         g_min_s: list, g_max_s: list, resamples: int = 200, log: bool = False) -> tuple[float, float | None]:
    """(relative read noise, relative c2c write noise or None) from step residuals, by the method of moments.

    A step residual ``e_n = dG_n - model step at the measured G`` holds the write noise of pulse n
    (variance ``c2c^2 * step^2``) and the read noise of readings n-1 and n; neighbouring residuals
    share one reading, so their covariance is minus its variance. A step model that misses a train's
    trend (a short train, a device off the mean curve) adds a smooth part to every residual; it is
    the covariance of residuals two pulses apart (no shared reading, independent write noise) and
    is taken out of both moments. Pulses that would carry a device within two steps of its bound
    are left out (the bound cuts their step, which is not noise). The read noise comes from the
    lag-1 covariance, the write noise from what remains of the variance. The write noise is only
    resolved when it is not much smaller than the read noise of a single step: a bootstrap over
    trains gives its spread, and when the estimate is below twice that spread it is reported as
    None (not resolved) rather than as a number; so is an estimate above ``C2C_MAX`` (write noise
    larger than the step itself: what is left is model misfit, not write noise). ``g_min_s`` and
    ``g_max_s`` hold each phase's bounds (per-train columns). ``log``: the readings are ln G, whose
    read noise is the relative noise itself (not proportional to the reading).
    """
    rows = []  # per train: sums of lag, level, e2, pair, s2 and their counts
    for fit, tr, lam, lo, hi in zip(fits, trains, scales, g_min_s, g_max_s):
        g = tr.normalised(lo, hi)
        sign = 1.0 if fit.phase == "LTP" else -1.0
        model = lam[:, None] * tr.ratios[:, 1:] * fit.step(np.clip(g[:, :-1], 0, 1))
        e = np.diff(g, axis=1) - sign * model
        # a pulse that would carry the device within two steps of its bound is cut by the bound, not by noise
        room = 1 - g[:, :-1] if sign > 0 else g[:, :-1]
        e[room < 2 * model] = np.nan
        absolute = (np.ones_like(tr.conductance_s) if log else tr.conductance_s) / (hi - lo)
        lag, level = e[:, :-1] * e[:, 1:], absolute[:, 1:-1] ** 2
        e2, pair, s2 = e**2, absolute[:, :-1] ** 2 + absolute[:, 1:] ** 2, model**2
        lag2 = e[:, :-2] * e[:, 2:]
        ok1 = np.isfinite(lag) & np.isfinite(level)
        ok2 = np.isfinite(e2) & np.isfinite(pair) & np.isfinite(s2)
        ok3 = np.isfinite(lag2)
        rows.append(np.column_stack([np.where(ok1, lag, 0).sum(1), np.where(ok1, level, 0).sum(1),
                                     np.where(ok2, e2, 0).sum(1), np.where(ok2, pair, 0).sum(1),
                                     np.where(ok2, s2, 0).sum(1), np.where(ok3, lag2, 0).sum(1),
                                     ok1.sum(1), ok2.sum(1), ok3.sum(1)]))
    sums = np.concatenate(rows)

    def estimate(t: np.ndarray) -> tuple[float, float]:
        lag, level, e2, pair, s2, lag2, n1, n2, n3 = t.sum(axis=0)
        trend = lag2 / n3 if n3 else 0.0  # the model misfit's mean square per residual
        read2 = max(0.0, -(lag - trend * n1) / level) if n1 and level > 0 else 0.0
        c2c2 = (e2 - trend * n2 - read2 * pair) / s2 if n2 and s2 > 0 else 0.0
        return read2, c2c2

    read2, c2c2 = estimate(sums)
    rng = np.random.default_rng(0)
    boot = [estimate(sums[rng.integers(0, len(sums), len(sums))])[1] for _ in range(resamples)]
    resolved = 0 < c2c2 <= C2C_MAX**2 and c2c2 > 2 * np.std(boot)
    return float(np.sqrt(read2)), float(np.sqrt(c2c2)) if resolved else None
