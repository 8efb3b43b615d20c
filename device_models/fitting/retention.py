"""Retention fits: conductance vs time after programming, projected (ten years by default) with an interval.

Three candidate laws, each defined from t = 0 (``G(0) = g0``), chosen by AICc (a few readings are
common: 11 over 100 minutes):

- "relaxation": ``G = g_inf + (g0 - g_inf) (1 + t/t0)^-nu``, the simulator's own law
  (:class:`device_models.params.Retention`): the state relaxes toward an asymptote ``g_inf``;
- "power": the same toward ``g_inf = 0``;
- "log": ``G = g0 - b log10(1 + t/t0)``.

Extrapolating minutes of data to years is uncertain, and the fit says how much: the parameters'
standard errors and the projection's interval come from a residual bootstrap (resampled residuals
added to the chosen fit, every law refitted to each resample and the one of lowest AICc projected,
so the interval also holds the doubt about which law). A relaxation never crosses its start and no
conductance is negative: a decaying state's projection and interval stay within [0, G(0)], a growing
one's above G(0). Each law is linear in its conductances once t0 and nu are fixed, so every fit
scans a grid of (t0, nu) in closed form, all resamples at once (a fraction of a second), and the
fit to the data is then polished by least squares.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..params import ChipModel, DeviceParams, Retention
from ..physics import state_of_conductance

TEN_YEARS_S = 10 * 365.25 * 24 * 3600
"""Ten years in s, the usual retention target."""
BOOTSTRAP = 300
"""Resamples of the residual bootstrap (the interval's ends move by ~1 % of its width at 300)."""
INTERVAL = (2.5, 97.5)
"""Percentiles of the projected conductance over the bootstrap: a 95 % interval."""
MIN_POINTS = 5
"""Fewest usable readings (a three-parameter law needs n > p + 1 for AICc)."""


def _relaxation(p, t):
    g0, g_inf, t0, nu = p
    return g_inf + (g0 - g_inf) * (1 + t / t0) ** -nu


def _power(p, t):
    g0, t0, nu = p
    return g0 * (1 + t / t0) ** -nu


def _log(p, t):
    g0, b, t0 = p
    return g0 - b * np.log10(1 + t / t0)


LAWS = {"relaxation": (_relaxation, ("g0_s", "g_inf_s", "t0_s", "nu")),
        "power": (_power, ("g0_s", "t0_s", "nu")),
        "log": (_log, ("g0_s", "b_s_per_decade", "t0_s"))}
"""Law name -> (prediction from its parameters in order, parameter names)."""
GRID = 61
"""Grid points of ln(t0) (from 1/1000 of the first reading after t = 0 to 10x the last) and of nu (1e-3..3)."""


@dataclass(frozen=True)
class RetentionFit:
    """A retention trace fitted with the law of lowest AICc, its projection and interval."""

    law: str
    """"relaxation", "power" or "log" (see the module doc)."""
    parameters: dict
    """Name -> {"value", "stderr"} of the chosen law (S, s, dimensionless; stderr from the bootstrap)."""
    nrmse: float
    """Root-mean-square residual as a fraction of the readings' range."""
    aicc: dict
    """AICc of every law fitted."""
    laws: dict
    """Every law fitted: name -> {parameter: value}; the simulator takes the "relaxation" one."""
    projection: dict
    """{"time_s", "g_s", "g_low_s", "g_high_s"}: the fit at ``time_s`` and its 95 % interval."""
    n_points: int
    """Readings fitted."""
    dropped: dict = field(default_factory=dict)
    """Rows left out, by reason (never fitted)."""
    curves: dict = field(default_factory=dict, repr=False)
    """For the plot: readings ("data_t_s", "data_g_s") and fit with band ("t_s", "g_s", "g_low_s", "g_high_s")."""

    def predict(self, t_s) -> np.ndarray:
        """Conductance in S of the chosen law at ``t_s`` seconds after programming."""
        return predict(self.law, self.laws[self.law], t_s)

    def to_json(self) -> dict:
        """The ``retention_fit`` object of the retention JSON."""
        return {"law": self.law, "parameters": self.parameters, "nrmse": self.nrmse,
                "dropped_rows": int(sum(self.dropped.values())), "dropped_by_reason": dict(self.dropped),
                "projection": self.projection, "n_points": self.n_points, "aicc": self.aicc, "laws": self.laws,
                "interval": f"{INTERVAL[1] - INTERVAL[0]:g} % over {BOOTSTRAP} bootstrap resamples"}


def predict(law: str, values: dict, t_s) -> np.ndarray:
    """Conductance in S at ``t_s`` of ``law`` with parameter ``values`` (as in ``RetentionFit.laws``)."""
    fn, names = LAWS[law]
    return fn([values[n] for n in names], np.asarray(t_s, dtype=float))


def fit_retention(time_s, conductance_s, project_s: float = TEN_YEARS_S, dropped: dict | None = None,
                  seed: int = 0) -> RetentionFit:
    """Fit a retention trace (times >= 0 in s after programming, conductances in S) and project it.

    Rows with a non-finite value, a negative time or G <= 0 are dropped and counted with ``dropped``
    (the importer's counts); ``seed`` fixes the bootstrap, so a file always gives the same numbers.
    """
    dropped = dict(dropped or {})
    t, g = np.asarray(time_s, dtype=float), np.asarray(conductance_s, dtype=float)
    keep = np.ones(t.size, dtype=bool)
    for reason, bad in (("no reading (empty or NaN)", ~np.isfinite(t) | ~np.isfinite(g)),
                        ("negative time", t < 0), ("non-physical G <= 0", g <= 0)):
        bad = bad & keep
        if bad.any():
            dropped[reason] = dropped.get(reason, 0) + int(bad.sum())
        keep &= ~bad
    t, g = t[keep], g[keep]
    if g.size < MIN_POINTS:
        left_out = "; ".join(f"{v} {k}" for k, v in dropped.items())
        raise DataError(f"retention: {g.size} usable readings (time >= 0, G > 0); a fit needs {MIN_POINTS}"
                        + (f" (left out: {left_out})" if left_out else ""))
    positive = t[t > 0]
    if positive.size < 2 or np.log10(positive.max() / positive.min()) < 0.5:
        raise DataError("retention: the times after programming span less than half a decade; "
                        "nothing to extrapolate from")
    if not project_s > 0:
        raise DataError(f"retention: project_s={project_s!r} must be a time after programming in s (> 0)")
    scale = float(g.max())
    y = g / scale
    grids = _grids(t, positive)
    laws = [law for law in LAWS if len(LAWS[law][1]) < g.size - 1]
    fits = {law: _polish(law, t, y, _scan(law, grids, y[None, :])[0][0]) for law in laws}
    aicc = {law: _aicc(rss, g.size, len(LAWS[law][1])) for law, (_, rss) in fits.items()}
    law = min(aicc, key=aicc.get)
    best, rss = fits[law]
    fn, names = LAWS[law]
    pred = fn(best, t)
    resid = (y - pred) * np.sqrt(g.size / (g.size - len(names)))  # residuals shrink by the fitted parameters
    rng = np.random.default_rng(seed)
    resamples = pred + rng.choice(resid - resid.mean(), (BOOTSTRAP, g.size))
    scans = {law_: _scan(law_, grids, resamples) for law_ in laws}
    picked = np.argmin([_aicc(scans[law_][1], g.size, len(LAWS[law_][1])) for law_ in laws], axis=0)
    t_axis = np.r_[0.0, np.geomspace(positive.min() / 1e3, max(project_s, t.max()), 150), float(project_s)]
    draws = np.empty((BOOTSTRAP, t_axis.size))
    for k, law_ in enumerate(laws):
        sel = picked == k
        if sel.any():
            draws[sel] = [LAWS[law_][0](p, t_axis) for p in scans[law_][0][sel]]
    values = {law_: _reported(law_, p, scale) for law_, (p, _) in fits.items()}
    stderr = np.std(scans[law][0] * _units(law, scale), axis=0, ddof=1)
    parameters = {n: {"value": values[law][n], "stderr": float(s)} for n, s in zip(names, stderr)}
    lo, mid, hi = _band(fn(best, t_axis) * scale, draws * scale, values[law]["g0_s"])
    span = float(np.ptp(g)) or scale
    return RetentionFit(
        law, parameters, float(np.sqrt(rss / g.size) * scale / span), {k: float(v) for k, v in aicc.items()},
        values, {"time_s": float(project_s), "g_s": float(mid[-1]), "g_low_s": float(lo[-1]),
                 "g_high_s": float(hi[-1])},
        int(g.size), dropped,
        {"t_s": t_axis[:-1], "g_s": mid[:-1], "g_low_s": lo[:-1], "g_high_s": hi[:-1], "data_t_s": t, "data_g_s": g})


def _grids(t, positive) -> dict:
    """t0 and nu grids and the law shapes on them at the reading times: u = (1 + t/t0)^-nu, log10(1 + t/t0)."""
    t0 = np.exp(np.linspace(np.log(positive.min() / 1e3), np.log(t.max() * 10), GRID))
    nu = np.geomspace(1e-3, 3.0, GRID)
    t0_2d, nu_2d = (a.ravel() for a in np.meshgrid(t0, nu, indexing="ij"))
    return {"t0": t0, "t0_2d": t0_2d, "nu_2d": nu_2d,
            "u": (1 + t[None, :] / t0_2d[:, None]) ** -nu_2d[:, None], "log": np.log10(1 + t[None, :] / t0[:, None])}


def _scan(law: str, grids: dict, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(parameters (B, k) in scaled units, RSS (B,)) of ``law`` fitted to each row of ``ys`` on the grid."""
    basis = grids["log" if law == "log" else "u"]
    ys_c = ys - ys.mean(axis=1, keepdims=True)
    syy = (ys_c**2).sum(axis=1)
    if law == "power":  # y = g0 u
        c, rss = _power_fit(basis, ys)
        a = np.zeros_like(c)
    else:  # y = a + c basis: centred regression
        bc = basis - basis.mean(axis=1, keepdims=True)
        suu = np.maximum((bc**2).sum(axis=1), 1e-300)
        c = bc @ ys_c.T / suu[:, None]
        a = ys.mean(axis=1)[None, :] - c * basis.mean(axis=1)[:, None]
        rss = syy[None, :] - c**2 * suu[:, None]
        if law == "relaxation":  # the asymptote is a conductance: g_inf >= 0, else the power law's fit
            c_power, rss_power = _power_fit(basis, ys)
            neg = a < 0
            a, c, rss = np.where(neg, 0.0, a), np.where(neg, c_power, c), np.where(neg, rss_power, rss)
    k = np.argmin(rss, axis=0)
    cols = np.arange(ys.shape[0])
    a, c = a[k, cols], c[k, cols]
    if law == "log":  # y = g0 - b log10(1 + t/t0)
        return np.column_stack([a, -c, grids["t0"][k]]), rss[k, cols]
    t0, nu = grids["t0_2d"][k], grids["nu_2d"][k]
    if law == "power":
        return np.column_stack([c, t0, nu]), rss[k, cols]
    return np.column_stack([a + c, a, t0, nu]), rss[k, cols]


def _power_fit(basis, ys):
    """(g0, RSS) per grid point and resample of ``y = g0 u`` (least squares through the origin)."""
    suu = (basis**2).sum(axis=1)
    c = basis @ ys.T / suu[:, None]
    return c, (ys**2).sum(axis=1)[None, :] - c**2 * suu[:, None]


def _polish(law: str, t, y, start) -> tuple[np.ndarray, float]:
    """(parameters, RSS): the grid's best refined by bounded least squares (t0 as ln t0)."""
    from scipy.optimize import least_squares

    fn, names = LAWS[law]
    i = names.index("t0_s")

    def params(x):
        return np.r_[x[:i], np.exp(x[i]), x[i + 1:]]

    lower = [0.0 if n in ("g0_s", "g_inf_s", "nu") else -np.inf for n in names]
    x0 = np.array(start, dtype=float)
    x0[i] = np.log(x0[i])
    x0 = np.maximum(x0, np.array(lower) + 1e-12)
    res = least_squares(lambda x: fn(params(x), t) - y, x0, bounds=(lower, np.inf))
    best = params(res.x)
    grid_rss = float(np.sum((fn(start, t) - y) ** 2))
    return (best, 2 * float(res.cost)) if 2 * res.cost <= grid_rss else (np.asarray(start, float), grid_rss)


def _aicc(rss, n: int, k: int):
    """Akaike information criterion with the small-sample correction, Gaussian residuals."""
    return n * np.log(np.maximum(rss, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _units(law: str, scale: float) -> np.ndarray:
    """Factor from scaled to reported units per parameter (conductances were fitted over ``scale``)."""
    return np.array([scale if n in ("g0_s", "g_inf_s", "b_s_per_decade") else 1.0 for n in LAWS[law][1]])


def _reported(law: str, p, scale: float) -> dict:
    return {n: float(v) for n, v in zip(LAWS[law][1], np.asarray(p) * _units(law, scale))}


def _band(mid, draws, g0: float):
    """(low, fit, high) in S: the bootstrap's percentiles around the fit, held within [0, g0] for a decay."""
    lo, hi = np.percentile(draws, INTERVAL, axis=0)
    lo, hi = np.minimum(lo, mid), np.maximum(hi, mid)
    floor, ceiling = (0.0, g0) if mid[-1] <= g0 else (g0, np.inf)
    return tuple(np.clip(a, floor, ceiling) for a in (lo, mid, hi))


def measured_retention(weight: DeviceParams, retention_fit: dict) -> tuple[Retention, dict]:
    """The simulator's retention for ``weight`` from a retention JSON's ``retention_fit``, and a note.

    The simulator relaxes every state with ``(1 + t/t0)^-nu`` toward ``relaxed_state`` (the state whose
    conductance is the asymptote, on the weight's conductance scale): the measured "relaxation" law gives all three (the "power" law,
    an asymptote of 0 S, where the relaxation law was not fitted). An asymptote outside the range is held
    at its bound and the note says so. ``nu`` is taken as measured at the model's reference temperature.
    """
    laws = retention_fit.get("laws") if isinstance(retention_fit, dict) else None
    law = next((k for k in ("relaxation", "power") if isinstance(laws, dict) and k in laws), None)
    if law is None:
        raise DataError("retention JSON: retention_fit.laws has neither a 'relaxation' nor a 'power' fit")
    values = laws[law]
    try:
        g_inf, t0, nu = float(values.get("g_inf_s", 0.0)), float(values["t0_s"]), float(values["nu"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"retention JSON: retention_fit.laws.{law} lacks a number for {exc}") from None
    state = float(state_of_conductance(g_inf, weight.g_min_s, weight.g_max_s, weight.conductance_scale == "log"))
    note = {"law": law, "g_inf_s": g_inf, "t0_s": t0, "nu": nu, "relaxed_state": state}
    if not weight.g_min_s <= g_inf <= weight.g_max_s:
        note["held"] = (f"the measured asymptote {g_inf:.3g} S lies outside the model's range [{weight.g_min_s:.3g}, "
                        f"{weight.g_max_s:.3g}] S: relaxed_state held at {note['relaxed_state']:g}")
    return replace(weight.retention, relaxed_state=note["relaxed_state"], nu_ref=nu, t0_s=t0), note


def with_measured_retention(model: ChipModel, retention_json: str | Path) -> ChipModel:
    """``model`` whose weight devices relax as the retention JSON (``labctl fit --kind retention``) measured,
    with ``provenance.retention`` saying from which file and what was taken."""
    path = Path(retention_json)
    try:
        raw = path.read_bytes()
        fit = json.loads(raw)["retention_fit"]
    except OSError as exc:
        raise DataError(f"--retention {path}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, KeyError, TypeError):
        raise DataError(f"--retention {path}: not a retention JSON (no 'retention_fit'; "
                        "write one with labctl fit FILE --kind retention)") from None
    retention, note = measured_retention(model.weight, fit)
    provenance = {**model.provenance, "retention": {"file": str(path), "sha256": hashlib.sha256(raw).hexdigest(),
                                                    **note}}
    return replace(model, weight=replace(model.weight, retention=retention), provenance=provenance)
