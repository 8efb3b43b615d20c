"""Amplitude ramps: the device's own amplitude dependence, per branch, from trains of increasing amplitude.

A ramp (fixed width, amplitude rising pulse by pulse: seed 002's bench protocol, ISPP logs) shows
how the step grows with the amplitude. Rescaling it with another device's kinetics (the HZO
presets' 100 V activation voltage on a 0.05-1 V ramp) gives step ratios from 0 to 1e11 and a
nonsense model. Here the activation voltage of Merz's law is fitted per branch instead: in the
small-fraction regime the step ratio of two pulses is ``exp(-beta Va (1/V - 1/V_ref))``, so the
ramp fixes ``beta * Va``; beta is kept from the base model and the attempt time puts the reference
pulse in that regime (the fitted step scale then sets ``w_max``). When the ramp does not resolve an
activation voltage (the best one sits at an end of the search range, or barely beats both ends) the
fit keeps the base model's kinetics and says so; either way the measured ramp is the model's
protocol, which the operating point records (and the gate's replay checks).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import minimize_scalar

from ..params import Kinetics
from .steps import fit_power
from .traces import kinetics_ratio

RAMP_SPREAD = 1.1
"""Largest / smallest amplitude within a mean trace above which a train is a ramp (the model's protocol)."""
FIT_SPREAD = 2.0
"""Largest / smallest amplitude a ramp needs for its activation voltage to be fitted: a narrower ramp
barely tells Va from the bounds of trains that do not saturate (a judgement from one measured case: a
ning-mos2 device, Va 100 V, on a 3.3 to 3.9 V ramp fitted Va 66 V and a Gmax 20 % low; docs/own-data.md)."""
ACTIVATION_GRID = np.geomspace(0.05, 300.0, 25)
"""Activation voltages searched, in units of the reference amplitude (up to 300: tau0 stays a float)."""
SMALL_FRACTION = 0.05
"""Argument ``(t / tau) ** beta`` of the reference pulse under the fitted kinetics (small-fraction regime)."""
RESOLVED_GAIN = 0.8
"""A fitted activation voltage must bring the trajectory residual below this fraction of the best
residual at either end of the search range."""


def is_ramp(amplitudes_v: np.ndarray, spread: float = RAMP_SPREAD) -> bool:
    """Whether the amplitudes of a mean trace vary by more than ``spread`` (largest / smallest)."""
    a = np.abs(amplitudes_v[np.isfinite(amplitudes_v) & (amplitudes_v != 0)])
    return a.size > 2 and a.max() > spread * a.min()


def ramp_kinetics(base: Kinetics, activation_v: float, ref_v: float, ref_t: float) -> Kinetics:
    """Kinetics with ``activation_v`` whose reference pulse switches a small fraction (base beta and w_max)."""
    tau = ref_t / SMALL_FRACTION ** (1 / base.beta)
    return dataclasses.replace(base, activation_v=float(activation_v), tau0_s=float(tau / np.exp(activation_v / ref_v)))


def fit_activation(phase: str, trace: np.ndarray, amplitude_v: np.ndarray, width_s: np.ndarray, base: Kinetics,
                   ref_v: float, ref_t: float) -> tuple[Kinetics | None, str]:
    """(kinetics with the fitted activation voltage, or None if the ramp does not resolve it; what was decided).

    ``trace`` is the phase's mean trace, ``amplitude_v`` and ``width_s`` its pulses (magnitudes).
    """
    span = f"{np.nanmin(amplitude_v):g}..{np.nanmax(amplitude_v):g} V"
    if not is_ramp(amplitude_v, FIT_SPREAD):
        return None, (f"{phase} ramp {span} is narrower than {FIT_SPREAD:g}x: the base model's kinetics kept; the "
                      "measured ramp is the model's protocol")
    lo, hi = np.nanmin(trace), np.nanmax(trace)
    norm = (trace - lo) / (hi - lo)

    def rss(log_va: float) -> float:
        kin = ramp_kinetics(base, float(np.exp(log_va)), ref_v, ref_t)
        ratios = kinetics_ratio(kin, amplitude_v, width_s, ref_v, ref_t)
        return fit_power(phase, norm, ratios).rss

    volts = ACTIVATION_GRID * ref_v
    grid = np.array([rss(np.log(v)) for v in volts])
    k = int(np.argmin(grid))
    edges = min(grid[0], grid[-1])
    if k in (0, len(grid) - 1) or not grid[k] < RESOLVED_GAIN * edges:
        return None, (f"{phase} ramp {span} does not resolve an activation voltage: the base model's kinetics kept; "
                      "the measured ramp is the model's protocol")
    sol = minimize_scalar(rss, bounds=(np.log(volts[k - 1]), np.log(volts[k + 1])),
                          method="bounded", options={"xatol": 1e-3})
    va = float(np.exp(sol.x))
    return ramp_kinetics(base, va, ref_v, ref_t), (
        f"{phase} kinetics from the ramp {span}: activation voltage {va:.3g} V (beta {base.beta:g} of the base model)")
