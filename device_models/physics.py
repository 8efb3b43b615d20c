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
    # (1 + (age+dt)/t0) / (1 + age/t0) = 1 + dt/(t0+age), built in one buffer (the simulator relaxes
    # ~10^5 devices at a time: each temporary array costs as much as the arithmetic)
    shape = np.broadcast_shapes(np.shape(g), np.shape(age_s), np.shape(duration_s))
    factor = np.add(age_s, ret.t0_s, out=np.empty(shape))
    np.divide(duration_s, factor, out=factor)
    factor += 1.0
    np.power(factor, -nu, out=factor)
    factor *= np.asarray(g) - ret.relaxed_state
    factor += ret.relaxed_state
    return factor if shape else factor[()]


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


def state_of_conductance(g_s, g_min_s, g_max_s, log_scale=False):
    """State whose read conductance is ``g_s`` (the inverse of :func:`conductance`), clipped to [0, 1]."""
    g_s = np.asarray(g_s, dtype=float)
    if log_scale:
        state = np.log(np.maximum(g_s, 1e-300) / g_min_s) / np.log(g_max_s / g_min_s)
    else:
        state = (g_s - g_min_s) / (g_max_s - g_min_s)
    return np.clip(state, 0.0, 1.0)


def mid_range_state(device) -> float:
    """State of a ``DeviceParams`` at the middle of its conductance range, ``(g_min + g_max) / 2``: 0.5 on a
    linear scale, ~0.85 on a log scale over two decades (its geometric middle, state 0.5, sits at a
    tenth of the range). A reference device there makes differential weights span [-1, 1]."""
    if device.conductance_scale == "linear":
        return 0.5
    return float(state_of_conductance((device.g_min_s + device.g_max_s) / 2, device.g_min_s, device.g_max_s, True))


def conductance_step(device, potentiate: bool, g, amplitude_v, width_s):
    """Mean change in S (>= 0) of the read conductance one pulse causes at state ``g``: the state step of
    :func:`pulse_step` through the device's conductance scale (on a log scale a step near the top
    moves G ``g_max / g_min`` times as much as one near the bottom)."""
    side = device.potentiation if potentiate else device.depression
    step = pulse_step(side, potentiate, g, amplitude_v, width_s, device.reference_amplitude_v,
                      device.reference_width_s)
    if device.conductance_scale == "linear":
        return step * (device.g_max_s - device.g_min_s)
    log = True
    after = np.clip(np.asarray(g) + (step if potentiate else -step), 0.0, 1.0)
    return np.abs(conductance(after, device.g_min_s, device.g_max_s, log)
                  - conductance(g, device.g_min_s, device.g_max_s, log))


def series_conductance(g_weight_s, g_sparsity_s):
    """Conductance in S of a sparse cell: its weight device in series with its sparsity device, so the
    sparsity device gates the weight (the Hadamard product ``S * W`` in hardware). 0 where both are 0
    (an open line), not NaN. The bench composes it from two measured conductances, the simulator from
    its devices', the sparse layer from its readings; :func:`device_models.kernels.cell_values` is its
    compiled form."""
    total = np.maximum(np.add(g_weight_s, g_sparsity_s), OPEN_CELL_S)
    return np.multiply(g_weight_s, g_sparsity_s) / total


def differential_conductance(g_weight_s, g_reference_s):
    """Conductance in S a reference-paired cell contributes to its column: the weight device's minus its
    reference device's (differential sensing, so a weight is signed around the reference)."""
    return np.subtract(g_weight_s, g_reference_s)


OPEN_CELL_S = 1e-300
"""Floor of a sparse cell's summed conductance in S: only an open cell (both devices at 0) reaches it."""


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


def pulses_to_state(side: PolarityParams, potentiate: bool, g_from: float, g_to: float, amplitude_v: float,
                    width_s: float, reference_amplitude_v: float, reference_width_s: float, limit: int = 10_000) -> int:
    """Pulses the mean trajectory (no noise, no variation) takes from state ``g_from`` to reach ``g_to``
    (``limit`` if it does not within that many): the open-loop train of a preset."""
    g, sign = float(g_from), 1.0 if potentiate else -1.0
    for n in range(limit):
        if sign * (g - g_to) >= 0:
            return n
        g += sign * float(pulse_step(side, potentiate, g, amplitude_v, width_s, reference_amplitude_v,
                                     reference_width_s))
    return limit


def pulse_train(side: PolarityParams, potentiate: bool, g, counts, amplitude_v, width_s,
                reference_amplitude_v: float, reference_width_s: float, scale, exponent, c2c_write: float,
                rng: np.random.Generator):
    """States after ``counts[i]`` identical pulses on device ``i``, each with cycle-to-cycle noise.

    ``scale`` (and, for power shapes, ``exponent``) are per-device arrays like ``g``. ``rng`` needs
    only ``standard_normal(n)`` (a Generator, or the simulator's noise table). Power shapes take the
    closed form of :func:`power_train` (one normal per train); polynomial shapes step pulse by pulse
    (:func:`pulse_train_stepwise`, the reference the closed form is tested against).

    Speed: plain SGD sends ~25 M pulses per MNIST epoch at 20 ns, ~5 per written device; one draw
    and a dozen vectorised passes per *train* instead of per *pulse* is what keeps it near the float
    epoch.
    """
    if side.shape.kind != "power":
        return pulse_train_stepwise(side, potentiate, g, counts, amplitude_v, width_s, reference_amplitude_v,
                                    reference_width_s, scale, exponent, c2c_write, rng)
    per_pulse = np.asarray(scale) * switched_fraction(side.kinetics, amplitude_v, width_s)
    g = np.asarray(g, dtype=float)
    room = np.clip(1.0 - g if potentiate else g, 0.0, 1.0)
    k = side.shape.exponent if exponent is None else exponent
    room = power_train(room, np.asarray(counts), per_pulse, k, c2c_write, rng)
    return 1.0 - room if potentiate else room


def power_train(room, counts, per_pulse, exponent, c2c_write: float, rng):
    """Room to the bound after ``counts`` pulses of a power-law step ``per_pulse * room**exponent``.

    Each pulse multiplies the room by ``1 - a (1 + c2c_write * xi)`` with ``a = per_pulse *
    room**(exponent-1)``. For ``exponent == 1`` the n-pulse product has mean ``(1-a)^n`` and second
    moment ``((1-a)^2 + a^2 c2c^2)^n`` exactly; one normal per train reproduces both (and the whole
    distribution for n = 1). Otherwise ``a`` is taken at the room before the train's middle pulse
    (geometric interpolation; exact for n = 1, error second order in the train's relative change of ``a``: < 1e-3 of the step for the
    presets' exponents 1 +/- 15 % and trains of <= 15 pulses of <= 5 % of the room). Tested against
    :func:`pulse_train_stepwise` in ``tests/device_models/test_pulse_train.py``.
    """
    n = np.asarray(counts)
    a = np.minimum(per_pulse, 1 - 1e-9)
    k = np.asarray(exponent, dtype=float)
    if np.any(k != 1.0):
        k_1 = k - 1
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # room ~0: a is irrelevant, fmin caps it
            log_room = np.log(room)
            a_start = np.fmin(a * np.exp(k_1 * log_room), 1 - 1e-9)
            log_room += (0.5 * (n - 1)) * np.log1p(-a_start)
            a = np.fmin(a * np.exp(k_1 * log_room), 1 - 1e-9)
    keep = 1 - a  # mean factor of one pulse
    mean = np.exp(n * np.log(keep))
    if not c2c_write:
        return np.clip(room * mean, 0.0, 1.0)
    # relative variance of the n-pulse product: (1 + rel)^n - 1 with rel = (c2c a / (1 - a))^2 per
    # pulse, capped where mean underflows anyway (saturating trains, a -> 1)
    rel = np.divide(c2c_write * a, keep, out=keep)
    rel *= rel
    rel = np.log1p(rel, out=rel)
    rel *= n
    np.minimum(rel, 700.0, out=rel)
    factor = np.sqrt(np.expm1(rel, out=rel), out=rel)
    factor *= mean
    factor *= rng.standard_normal(room.size)
    factor += mean
    return np.clip(room * factor, 0.0, 1.0)


def pulse_train_stepwise(side: PolarityParams, potentiate: bool, g, counts, amplitude_v, width_s,
                         reference_amplitude_v: float, reference_width_s: float, scale, exponent,
                         c2c_write: float, rng):
    """:func:`pulse_train` pulse by pulse: one normal per pulse (any step shape; cost scales with pulses).

    Pulse ``k`` acts on every device whose train is longer than ``k`` at once, in device order.
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

