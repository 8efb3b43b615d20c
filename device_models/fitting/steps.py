"""Step-size fits: how far one pulse moves the normalised state, as a function of the state.

Two models per phase, as in seed 002: the papers' 5th-degree polynomial of dG vs G (normalised
units, aihwkit ``PiecewiseStepDevice`` semantics) and a soft-bounds power law
``a * (1 - g) ** k`` (LTP) / ``a * g ** k`` (LTD). Both are fitted to the conductance *trajectory*
(G vs pulse number) rather than to raw differences dG: a read-noise sigma of a few percent of G is
larger than one step, and regressing noisy dG on noisy G biases the slope (errors in variables).
The polynomial starts from a least-squares fit of dG vs G and is then refined on the trajectory.
Model choice is by AIC on the same residuals. Every trajectory uses :func:`physics.step_shape`, so the
simulator runs exactly the curve that was fitted.

Amplitude ramps: pulse ``n`` moves the state by ``ratio[n] * step(g)``, where ``ratio`` is the
kinetics ratio ``fraction(V_n, t_n) / fraction(V_ref, t_ref)`` of a base model (see ``traces``);
a fixed-amplitude train has ratio 1 everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .. import compiled
from ..errors import DataError
from ..params import StepShape
from ..physics import step_shape

POLY_DEGREE = 5
"""Degree of the papers' polynomial step model."""
BOUND_PRIOR = 0.03
"""Weight of the pull of a fitted bound back to the extreme reading, per fraction of the measured span it
extrapolates beyond it (against one residual per mean-trace reading, each in fractions of the span)."""


def trajectory(shape: StepShape, scale, g0, ratios: np.ndarray, potentiate: bool) -> np.ndarray:
    """States at each reading of trains starting at ``g0`` (one per row of ``ratios``), clipped to [0, 1].

    ``ratios[:, n]`` scales the step of the pulse before reading ``n`` (column 0 is the start); ``scale``
    is one number or one per row.
    """
    ratios = np.atleast_2d(ratios)
    if ratios.shape[0] == 1 and np.ndim(g0) == 0:
        return _trajectory_1d(shape, scale, float(g0), ratios[0], potentiate)[None, :]
    g = np.empty(ratios.shape)
    g[:, 0] = g0
    sign = 1.0 if potentiate else -1.0
    ratios = np.nan_to_num(ratios)  # once, not per column: the optimisers call this thousands of times
    for n in range(1, ratios.shape[1]):
        step = scale * ratios[:, n] * step_shape(shape, g[:, n - 1], potentiate)
        g[:, n] = np.minimum(np.maximum(g[:, n - 1] + sign * step, 0.0), 1.0)
    return g


def _trajectory_1d(shape: StepShape, scale: float, g0: float, ratios: np.ndarray, potentiate: bool) -> np.ndarray:
    """One train in plain floats: the optimiser calls this thousands of times (same as the 2-D path).

    Mirrors :func:`physics.step_shape` exactly (a test compares the two). A loop per shape kind, the
    signed step per pulse computed once, and min/max only where a value leaves [0, 1]: the same floats.
    With numba (:mod:`device_models.compiled`) the same loop runs compiled: the same operations in the
    same order on IEEE doubles (no fused multiply-add; ``**`` is the C library's ``pow`` in both), so
    the same floats again, ~50x faster (a test compares the two paths bit for bit).
    """
    if compiled.enabled():
        moves = (1.0 if potentiate else -1.0) * float(scale) * np.nan_to_num(np.asarray(ratios, dtype=float))
        polynomial = shape.kind != "power"
        coeffs = np.array(shape.coefficients[::-1] if polynomial else (), dtype=float)
        return _trajectory_kernel(moves, float(g0), polynomial, float(shape.exponent), coeffs, bool(potentiate))
    moves = [(1.0 if potentiate else -1.0) * scale * r for r in np.nan_to_num(ratios).tolist()]
    out = [g0] * len(moves)
    g = g0
    if shape.kind == "power":
        k = shape.exponent
        for n in range(1, len(moves)):
            room = 1.0 - g if potentiate else g
            room = room if 0.0 <= room <= 1.0 else min(max(room, 0.0), 1.0)
            g = _clip01(g + moves[n] * room**k)
            out[n] = g
        return np.array(out)
    coeffs = shape.coefficients[::-1]
    for n in range(1, len(moves)):
        unit = 0.0
        if (g < 1.0) if potentiate else (g > 0.0):
            for c in coeffs:
                unit = unit * g + c
            unit = max(unit, 0.0)
        g = _clip01(g + moves[n] * unit)
        out[n] = g
    return np.array(out)


def _clip01(x: float) -> float:
    """``min(max(x, 0.0), 1.0)``, NaN kept, without the two calls where x lies in [0, 1]."""
    return x if 0.0 <= x <= 1.0 else min(max(x, 0.0), 1.0)


@compiled.kernel
def _clip01_compiled(x):  # pragma: no cover (compiled)
    """:func:`_clip01` compiled: NaN and -0.0 kept, as min/max keep them."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@compiled.kernel
def _trajectory_kernel(moves, g0, polynomial, exponent, coeffs, potentiate):  # pragma: no cover (compiled)
    """:func:`_trajectory_1d`'s loop compiled: the power shape with ``exponent``, or the polynomial with
    ``coeffs`` (highest degree first, Horner's rule)."""
    out = np.empty(moves.size)
    g = g0
    if moves.size:
        out[0] = g0
    for n in range(1, moves.size):
        if not polynomial:
            step = _clip01_compiled(1.0 - g if potentiate else g) ** exponent
        else:
            step = 0.0
            if (g < 1.0) if potentiate else (g > 0.0):
                for c in coeffs:
                    step = step * g + c
                if 0.0 > step:
                    step = 0.0
        g = _clip01_compiled(g + moves[n] * step)
        out[n] = g
    return out


@dataclass(frozen=True)
class StepFit:
    """One step model fitted to one phase's mean trace (normalised units)."""

    phase: str
    """"LTP" or "LTD"."""
    kind: str
    """"polynomial" or "power"."""
    shape: StepShape
    """State dependence; for "power" the step at the reference pulse is ``scale * shape``."""
    scale: float
    """Step at the reference pulse where the shape is 1 (power); 1 for the polynomial."""
    g0: float
    """Fitted state at the first reading of the mean trace."""
    rss: float
    """Residual sum of squares of the normalised trajectory."""
    n: int
    """Number of readings fitted."""

    @property
    def name(self) -> str:
        """The name reports and plots give this fit: "poly5" or "soft-bounds"."""
        return "poly5" if self.kind == "polynomial" else "soft-bounds"

    @property
    def n_params(self) -> int:
        return (len(self.shape.coefficients) if self.kind == "polynomial" else 2) + 1

    @property
    def aic(self) -> float:
        """Akaike information criterion for Gaussian residuals: ``n ln(RSS / n) + 2 p``."""
        return self.n * np.log(max(self.rss, 1e-300) / self.n) + 2 * self.n_params

    @property
    def nrmse(self) -> float:
        """Root-mean-square trajectory residual, as a fraction of the conductance range."""
        return float(np.sqrt(self.rss / self.n))

    def step(self, g) -> np.ndarray:
        """Normalised step magnitude at the reference pulse as a function of state."""
        return self.scale * step_shape(self.shape, g, self.phase == "LTP")

    def predict(self, ratios: np.ndarray, g0=None) -> np.ndarray:
        return trajectory(self.shape, self.scale, self.g0 if g0 is None else g0, ratios, self.phase == "LTP")


def _residuals(build, trace: np.ndarray, ratios: np.ndarray, potentiate: bool):
    ok = np.isfinite(trace)

    def fun(x):
        shape, scale, g0 = build(x)
        return (trajectory(shape, scale, g0, ratios[None, :], potentiate)[0] - trace)[ok]
    return fun


def fit_power(phase: str, trace: np.ndarray, ratios: np.ndarray) -> StepFit:
    """Soft-bounds fit ``a * room ** k`` of a normalised mean trace."""
    up = phase == "LTP"
    g = trace[np.isfinite(trace)]
    rise = np.abs(np.diff(g[: max(3, len(g) // 5)])).mean()
    room = max(1 - g[0] if up else g[0], 0.05)
    a0 = float(np.clip(rise / room / max(np.nanmean(ratios[1:]), 1e-9), 1e-4, 0.9))

    def build(x):
        return StepShape("power", exponent=x[1]), x[0], x[2]
    fun = _residuals(build, trace, ratios, up)
    sol = least_squares(fun, [a0, 1.0, float(np.clip(g[0], 1e-6, 1 - 1e-6))],
                        bounds=([1e-6, 0.05, 0.0], [0.99, 20.0, 1.0]), x_scale="jac")
    shape, scale, g0 = build(sol.x)
    return StepFit(phase, "power", shape, float(scale), float(g0), float(np.sum(sol.fun**2)), int(sol.fun.size))


def fit_poly5(phase: str, trace: np.ndarray, ratios: np.ndarray) -> StepFit:
    """The papers' 5th-degree polynomial of |dG| vs G, refined on the trajectory."""
    up = phase == "LTP"
    ok = np.isfinite(trace)
    x = 0.5 * (trace[1:] + trace[:-1])
    y = np.abs(np.diff(trace)) / np.where(ratios[1:] > 0, ratios[1:], np.nan)
    use = np.isfinite(x) & np.isfinite(y)
    if use.sum() <= POLY_DEGREE:
        raise DataError(f"{phase}: {int(use.sum())} steps are too few for a degree-{POLY_DEGREE} polynomial")
    c_init = np.polynomial.polynomial.polyfit(x[use], y[use], POLY_DEGREE)

    def build(p):
        return StepShape("polynomial", coefficients=tuple(p[:-1])), 1.0, p[-1]
    fun = _residuals(build, trace, ratios, up)
    start = np.r_[c_init, np.clip(trace[ok][0], 1e-6, 1 - 1e-6)]
    lo = np.r_[np.full(POLY_DEGREE + 1, -np.inf), 0.0]
    hi = np.r_[np.full(POLY_DEGREE + 1, np.inf), 1.0]
    sol = least_squares(fun, start, bounds=(lo, hi), x_scale="jac", max_nfev=400)
    if np.sum(sol.fun**2) > np.sum(fun(start) ** 2):
        sol.x, sol.fun = start, fun(start)
    shape, scale, g0 = build(sol.x)
    return StepFit(phase, "polynomial", shape, scale, float(g0), float(np.sum(sol.fun**2)), int(sol.fun.size))


def fit_phase(phase: str, trace: np.ndarray, ratios: np.ndarray) -> tuple[StepFit, dict[str, StepFit]]:
    """Both models for one phase; the one with the lower AIC first, among those whose step moves G the
    right way at every state in (0, 1) (a polynomial that crosses zero mid-range would stop a device
    short of its bound: the soft-bounds model, positive everywhere, is kept instead)."""
    fits = {"power": fit_power(phase, trace, ratios), "polynomial": fit_poly5(phase, trace, ratios)}
    states = np.linspace(0.01, 0.99, 99)
    valid = [f for f in fits.values() if np.all(f.step(states) > 0)] or [fits["power"]]
    best = min(valid, key=lambda f: f.aic)
    return best, fits


def fit_bounds(ltp: np.ndarray | None, ltp_ratios: np.ndarray | None, ltd: np.ndarray | None,
               ltd_ratios: np.ndarray | None, reached: tuple[float, float] | None = None) -> tuple[float, float]:
    """Gmin and Gmax in S: the asymptotes of a joint soft-bounds fit of the mean LTP and LTD traces.

    An asymptote, not the extreme reading: it is not biased up by read noise, and it still finds the
    bound when a train bends toward it without reaching it. A train far from saturation does not
    fix its asymptote (unpulled, one ran to 0 S), so a bound beyond the extremes ``reached`` (of every
    reading; default the traces') is pulled back toward them with weight ``BOUND_PRIOR``. With one
    phase only (the other None), its train is taken to start at the bound it runs away from (an LTP
    train at the bottom of the range, an LTD train at the top): start and asymptote fix both bounds.
    """
    traces = [(t, r, up) for t, r, up in ((ltp, ltp_ratios, True), (ltd, ltd_ratios, False)) if t is not None]
    values = np.concatenate([t for t, _, _ in traces])
    lo_g, hi_g = np.nanmin(values), np.nanmax(values)
    lo_reached, hi_reached = reached if reached is not None else (lo_g, hi_g)
    span = hi_g - lo_g
    one_sided = len(traces) == 1

    def fun(x):
        g_min, g_max = x[0], x[1]
        rng = max(g_max - g_min, 1e-30)
        out = []
        for k, (trace, ratios, up) in enumerate(traces):
            a, expo, s = x[2 + 3 * k: 5 + 3 * k] if not one_sided else (*x[2:4], 0.0 if up else 1.0)
            g = trajectory(StepShape("power", exponent=expo), a, s, ratios[None, :], up)[0]
            pred = g_min + g * rng
            out.append(((pred - trace) / span)[np.isfinite(trace)])
        # a bound beyond the readings is an extrapolation: free where the traces bend toward it,
        # held near the extreme reading where they do not (trains that stop short of saturation)
        out.append(BOUND_PRIOR * np.minimum(0.0, np.array([g_min - lo_reached, hi_reached - g_max])) / span)
        return np.concatenate(out)
    start, lower = [lo_g, hi_g], [max(lo_g - 2 * span, 0.0), lo_g + 0.5 * span]
    upper = [lo_g + 0.5 * span, hi_g + 2 * span]
    start[0] = max(start[0], lower[0] + 1e-30)
    for _, _, up in traces:
        start += [0.05, 1.0] + ([] if one_sided else [0.02 if up else 0.98])
        lower += [1e-6, 0.05] + ([] if one_sided else [0.0])
        upper += [0.99, 20] + ([] if one_sided else [1])
    sol = least_squares(fun, start, bounds=(lower, upper), x_scale="jac")
    return float(sol.x[0]), float(sol.x[1])
