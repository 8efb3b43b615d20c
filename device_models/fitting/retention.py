"""Retention fits: conductance vs time after programming, projected to ten years.

Two candidate laws, chosen by AIC: a power law ``G = A * t ** -nu`` (straight on log-log axes; the
model's ``Retention`` is a power law) and a logarithmic decay ``G = a - b * log10(t)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError

TEN_YEARS_S = 10 * 365.25 * 24 * 3600
"""Ten years in s, the usual retention target."""


@dataclass(frozen=True)
class RetentionFit:
    """One retention trace fitted with the law of lower AIC."""

    law: str
    """"power" (``G = A t^-nu``) or "log" (``G = a - b log10 t``)."""
    coefficients: tuple[float, float]
    """(A in S, nu) for "power", (a in S, b in S per decade) for "log"."""
    aic: dict
    """AIC of each law."""
    rmse_s: float
    """Root-mean-square residual in S."""

    def predict(self, t_s) -> np.ndarray:
        """Conductance in S at ``t_s`` seconds after programming."""
        t = np.asarray(t_s, dtype=float)
        c0, c1 = self.coefficients
        return c0 * t ** -c1 if self.law == "power" else c0 - c1 * np.log10(t)

    @property
    def ten_year_s(self) -> float:
        """Projected conductance in S after ten years."""
        return float(self.predict(TEN_YEARS_S))


def fit_retention(time_s, conductance_s) -> RetentionFit:
    """Fit a retention trace (times > 0 in s, conductances > 0 in S)."""
    t, g = np.asarray(time_s, dtype=float), np.asarray(conductance_s, dtype=float)
    ok = np.isfinite(t) & np.isfinite(g) & (t > 0) & (g > 0)
    if ok.sum() < 3:
        raise DataError(f"retention: {int(ok.sum())} usable (time > 0, G > 0) points; a fit needs 3")
    t, g = t[ok], g[ok]
    if np.ptp(np.log10(t)) < 0.5:
        raise DataError("retention: the times span less than half a decade; nothing to extrapolate from")
    x = np.log10(t)
    slope, icpt = np.polyfit(x, np.log10(g), 1)
    power = (10**icpt, -slope)
    b, a = np.polyfit(x, g, 1)
    log = (a, -b)
    n = g.size
    rss = {"power": float(np.sum((power[0] * t ** -power[1] - g) ** 2)), "log": float(np.sum((a + b * x - g) ** 2))}
    aic = {k: n * np.log(max(v, 1e-300) / n) + 4 for k, v in rss.items()}
    law = min(aic, key=aic.get)
    return RetentionFit(law, power if law == "power" else log, aic, float(np.sqrt(rss[law] / n)))
