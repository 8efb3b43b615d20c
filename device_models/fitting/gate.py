"""The gate a fitted model passes before it is written: physical bounds, sane step curves, and a replay.

A fit can converge on nonsense (a ramp normalised with the wrong kinetics gave Gmin = 8e-42 S and
polynomial coefficients of 1e64; a truncated line gave Gmax = 1.48 S) and still report a small fit
error on its own normalised axis. The gate checks the model as the simulator will run it:

- bounds: inside the readings' range widened by the read noise (``BOUND_MARGIN`` read-noise sigmas),
  or by what an asymptote the trains approach may add: ``BOUND_RATIO`` of the extreme reading (trains
  that stop short of saturation, the report then says "extrapolated") or ``BOUND_SLACK`` of the range
  (a soft-bounded train near a low Gmin: the ning-mos2 demo's 150-pulse trains end at twice the true
  Gmin, 2.4 % of the range above it), whichever is widest, and never below ``FLOOR_FRACTION`` of the
  lowest reading. A 150-pulse garg-hzo-20ns train fitted to Gmin 0.45x its lowest reading (55 % under
  the truth, 14 % of the range) passed the former 25 %-of-the-range slack; it is refused;
- step curves at the operating point: finite, raising G under LTP and lowering it under LTD at every
  state in (0, 1);
- replay: the measured protocol (each pulse's amplitude and width) simulated on the model, without
  noise, from the mean trace's first reading, against the measured mean trace; its RMS error as a
  fraction of the range is ``provenance.replay.nrmse`` and must be at most ``REPLAY_NRMSE_MAX``.
"""

from __future__ import annotations

import numpy as np

from ..params import DeviceParams, OperatingPoint
from ..physics import pulse_step
from .traces import PhaseTrains

REPLAY_NRMSE_MAX = 0.1
"""Largest replay error (fraction of the conductance range) a model may have and be written."""
BOUND_MARGIN = 4.0
"""Read-noise sigmas a bound may lie beyond the extreme reading."""
BOUND_RATIO = 0.25
"""Fraction of the extreme reading an asymptote may lie beyond it (Gmin >= lowest / 1.25, Gmax <= highest
x 1.25; a log axis: ln 1.25): an honest extrapolation of a 40-pulse ramp put Gmax 21 % above its highest
reading, within 10 % of the truth."""
BOUND_SLACK = 0.05
"""Fraction of the measured range an asymptote may lie beyond the extreme reading."""
FLOOR_FRACTION = 0.1
"""On a linear axis Gmin may not fall below this fraction of the lowest reading (8e-42 S is no bound)."""
STATES = np.linspace(0.01, 0.99, 99)
"""States where the step curves must move G the right way."""


def replay(weight: DeviceParams, trains: dict[str, PhaseTrains], to_state, ref_v: float, ref_t: float) -> dict:
    """Per phase: (measured mean trace, replayed trace) in normalised state, and the replay nRMSE.

    ``to_state`` maps readings (on the fit's axis) to the model's normalised state.
    """
    out = {}
    for phase, tr in trains.items():
        measured = to_state(tr.mean()[0])
        amp, width = tr.protocol(ref_v, ref_t)
        side = weight.potentiation if phase == "LTP" else weight.depression
        up = phase == "LTP"
        g = np.empty_like(measured)
        first = np.flatnonzero(np.isfinite(measured))[0]
        g[: first + 1] = np.clip(measured[first], 0.0, 1.0)
        for n in range(first + 1, len(g)):
            step = float(pulse_step(side, up, g[n - 1], amp[n], width[n], weight.reference_amplitude_v,
                                    weight.reference_width_s))
            g[n] = np.clip(g[n - 1] + (step if up else -step), 0.0, 1.0) if np.isfinite(step) else np.nan
        err = (g - measured)[np.isfinite(measured)]
        nrmse = float(np.sqrt(np.mean(err**2))) if np.isfinite(err).all() else float("inf")
        out[phase] = {"measured": measured, "replayed": g, "nrmse": nrmse}
    return out


def bound_limits(reached: tuple[float, float], read_noise: float, log: bool = False) -> tuple[float, float]:
    """(lowest Gmin, highest Gmax) the gate allows, on the fit's axis (G in S, or ln G when ``log``)."""
    lo, hi = reached
    span = hi - lo
    if log:  # the relative read noise is an absolute one on ln G
        widen = max(BOUND_MARGIN * read_noise, np.log1p(BOUND_RATIO), BOUND_SLACK * span)
        return lo - widen, hi + widen
    low = min(lo * (1 - BOUND_MARGIN * read_noise), lo / (1 + BOUND_RATIO), lo - BOUND_SLACK * span)
    high = max(hi * (1 + BOUND_MARGIN * read_noise), hi * (1 + BOUND_RATIO), hi + BOUND_SLACK * span)
    return max(low, FLOOR_FRACTION * lo), high


def gate_reasons(weight: DeviceParams, op: OperatingPoint, phases, bounds: tuple[float, float],
                 reached: tuple[float, float], read_noise: float, replayed: dict, log: bool = False) -> list[str]:
    """Why a model must not be written (empty: it passes).

    ``bounds`` and ``reached`` (the readings' lowest and highest) are on the fit's axis: G in S, or
    ln G when ``log`` (where the relative read noise is an absolute one).
    """
    reasons = []
    lo, hi = reached
    g_min, g_max = bounds
    allowed = bound_limits(reached, read_noise, log)
    beyond = (f"beyond {BOUND_MARGIN:g} read-noise sigmas, {BOUND_RATIO:.0%} of the reading and {BOUND_SLACK:.0%} "
              "of the range: an extrapolation the trains do not support")
    for name, value, limit, edge, low in (("Gmin", g_min, allowed[0], lo, True), ("Gmax", g_max, allowed[1], hi, False)):
        if np.isfinite(value) and (value >= limit if low else value <= limit):
            continue
        ratio = np.exp(value - edge) if log else value / edge  # the bound over the extreme reading, in S
        where = (f"{abs(ratio - 1):.0%} " if np.isfinite(ratio) else "") + \
            f"{'below the lowest' if low else 'above the highest'} reading"
        bound_s = weight.g_min_s if low else weight.g_max_s
        reasons.append(f"{name} {bound_s:.4g} S lies {where}, {beyond} (longer {'LTD' if low else 'LTP'} trains "
                       "that level off fix it)")
    for phase in phases:
        side, up = (weight.potentiation, True) if phase == "LTP" else (weight.depression, False)
        steps = pulse_step(side, up, STATES, op.amplitude_v(up), op.write_width_s, weight.reference_amplitude_v,
                           weight.reference_width_s)
        if not np.all(np.isfinite(steps)):
            reasons.append(f"{phase} step curve is not finite")
        elif not np.all(steps > 0):
            where = STATES[np.argmax(~(steps > 0))]
            reasons.append(f"{phase} step curve does not {'raise' if up else 'lower'} G at state {where:.2f} "
                           "(zero or wrong-signed step mid-range)")
    for phase, rep in replayed.items():
        if not rep["nrmse"] <= REPLAY_NRMSE_MAX:
            reasons.append(f"{phase} replay of the measured protocol misses the mean trace by nRMSE "
                           f"{rep['nrmse']:.3g} > {REPLAY_NRMSE_MAX}")
    return reasons
