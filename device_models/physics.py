"""Device physics of the FeFET model: the one place the simulator and the fitter take it from.

All functions are vectorised over devices: parameters that vary device to device are passed as
arrays broadcast against the state. States are normalised polarisation ``g`` in [0, 1].
"""

from __future__ import annotations

import numpy as np

from .params import Kinetics, PolarityParams, Retention, StepShape, Transfer

K_B_EV = 8.617333262e-5
"""Boltzmann constant in eV/K."""


def switched_fraction(kin: Kinetics, amplitude_v, width_s):
    """Fraction of the switchable polarisation one pulse of ``|amplitude_v|``, ``width_s`` switches."""
    v = np.abs(np.asarray(amplitude_v, dtype=float))
    with np.errstate(divide="ignore", over="ignore"):
        tau = kin.tau0_s * np.exp(kin.activation_v / v)
        return kin.w_max * -np.expm1(-((width_s / tau) ** kin.beta))


def amplitude_for_fraction(kin: Kinetics, fraction: float, width_s: float) -> float:
    """The amplitude magnitude in V whose pulse of ``width_s`` switches ``fraction`` (inverse of above)."""
    x = -np.log1p(-fraction / kin.w_max)
    tau = width_s / x ** (1 / kin.beta)
    return float(kin.activation_v / np.log(tau / kin.tau0_s))


def step_shape(shape: StepShape, g, potentiate: bool, exponent=None):
    """Normalised step at the reference pulse as a function of state (>= 0, zero at the bound).

    ``exponent`` overrides ``shape.exponent`` per device (d2d variation of the nonlinearity).
    """
    g = np.asarray(g, dtype=float)
    if shape.kind == "power":
        k = shape.exponent if exponent is None else exponent
        room = 1.0 - g if potentiate else g
        return np.clip(room, 0.0, 1.0) ** k
    step = np.polynomial.polynomial.polyval(g, shape.coefficients)
    room = (g < 1.0) if potentiate else (g > 0.0)
    return np.where(room, np.maximum(step, 0.0), 0.0)


def retention_exponent(ret: Retention, temperature_k: float) -> float:
    """Decay exponent nu at ``temperature_k`` (Arrhenius in the rate)."""
    return ret.nu_ref * np.exp(ret.activation_ev / K_B_EV * (1.0 / ret.t_ref_k - 1.0 / temperature_k))


def relax(ret: Retention, g, age_s, duration_s: float, temperature_k: float):
    """State after ``duration_s`` more seconds of relaxation, given each device's age since writing.

    Incremental form of the power law, so the temperature may change between calls.
    """
    nu = retention_exponent(ret, temperature_k)
    factor = ((1.0 + (age_s + duration_s) / ret.t0_s) / (1.0 + age_s / ret.t0_s)) ** -nu
    return ret.relaxed_state + (np.asarray(g) - ret.relaxed_state) * factor


def project_retention(ret: Retention, g0, t_s, temperature_k: float):
    """State ``t_s`` seconds after programming to ``g0`` at constant temperature."""
    return relax(ret, g0, 0.0, t_s, temperature_k)


def threshold_v(tr: Transfer, g):
    """Threshold voltage in V of a device in state ``g``."""
    return tr.vth_erased_v - np.asarray(g) * tr.memory_window_v


def drain_current(tr: Transfer, g, gate_v, drain_v: float):
    """Drain current in A at gate voltage ``gate_v`` (broadcast against ``g``)."""
    s = tr.subthreshold_swing_v / np.log(10.0)
    overdrive = (np.asarray(gate_v) - threshold_v(tr, g)) / s
    return drain_v * (tr.g_floor_s + tr.g_on_s_per_v * s * np.logaddexp(0.0, overdrive))


def conductance(g, g_min_s, g_max_s, log_scale=False):
    """Read conductance in S of state ``g`` between a device's bounds.

    ``log_scale`` (bool, or a bool array per device) selects ``g_min (g_max/g_min)^g`` for digital
    devices read in subthreshold (``DeviceParams.conductance_scale == "log"``).
    """
    g = np.asarray(g)
    linear = g_min_s + g * (g_max_s - g_min_s)
    if not np.any(log_scale):
        return linear
    return np.where(log_scale, g_min_s * (g_max_s / g_min_s) ** g, linear)


def symmetry_state(up_scale, down_scale, up_exponent=1.0, down_exponent=1.0, iterations: int = 60):
    """State at which one potentiating and one depressing pulse cancel, for power-law shapes.

    Solves ``up * (1-g)^ku = down * g^kd`` by bisection (vectorised); with ku = kd = 1 this is
    ``up / (up + down)``.
    """
    lo = np.zeros(np.broadcast(up_scale, down_scale, up_exponent, down_exponent).shape)
    hi = np.ones_like(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        net = up_scale * (1 - mid) ** up_exponent - down_scale * mid ** down_exponent
        lo = np.where(net > 0, mid, lo)
        hi = np.where(net > 0, hi, mid)
    return 0.5 * (lo + hi)



def pulse_step(side: PolarityParams, potentiate: bool, g, amplitude_v, width_s,
               reference_amplitude_v: float, reference_width_s: float, exponent=None):
    """Mean magnitude (>= 0) of the state change one pulse causes, before cycle-to-cycle noise.

    ``side`` is the response of the pulse's polarity; ``exponent`` overrides the power-shape
    nonlinearity per device.
    """
    fraction = switched_fraction(side.kinetics, amplitude_v, width_s)
    if side.shape.kind == "polynomial":
        fraction = fraction / switched_fraction(side.kinetics, reference_amplitude_v, reference_width_s)
    return fraction * step_shape(side.shape, g, potentiate, exponent)


def pulse_train(side: PolarityParams, potentiate: bool, g, counts, amplitude_v, width_s,
                reference_amplitude_v: float, reference_width_s: float, scale, exponent, c2c_write: float,
                rng: np.random.Generator):
    """States after ``counts[i]`` identical pulses on device ``i``, each with cycle-to-cycle noise.

    Pulse ``k`` acts on every device whose train is longer than ``k`` at once, each drawing one normal
    for its relative step noise ``c2c_write``, in device order. ``scale`` (and, for power shapes,
    ``exponent``) are per-device arrays like ``g``; cost scales with the pulses, not the devices.
    """
    out = np.array(g, dtype=float)
    fraction = switched_fraction(side.kinetics, amplitude_v, width_s)
    if side.shape.kind == "polynomial":
        fraction = fraction / switched_fraction(side.kinetics, reference_amplitude_v, reference_width_s)
        exponent = None
    signed_scale = (1 if potentiate else -1) * np.asarray(scale)
    pos, left, g_on = np.arange(out.size), np.asarray(counts), out
    while pos.size:
        step = signed_scale * (fraction * step_shape(side.shape, g_on, potentiate, exponent))
        step *= 1 + c2c_write * rng.standard_normal(step.size)
        g_on = np.clip(g_on + step, 0.0, 1.0)
        left = left - 1
        done = left <= 0
        if done.any():
            out[pos[done]] = g_on[done]
            more = ~done
            pos, left, g_on, signed_scale = pos[more], left[more], g_on[more], signed_scale[more]
            exponent = None if exponent is None else exponent[more]
    return out

