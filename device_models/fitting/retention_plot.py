"""PNG of a retention fit: readings, fitted law and its 95 % band on log time, out to the projection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plotstyle
from .retention import RetentionFit


def save_retention_plot(fit: RetentionFit, path: str | Path) -> Path:
    """Write the plot to ``path`` (PNG); a reading at t = 0 sits at the axis' left edge, marked so.

    Matplotlib's object API (no pyplot figure manager to create and close), conductance in the
    SI-prefixed unit of the readings, as every labctl figure.
    """
    from matplotlib.figure import Figure

    c, p = fit.curves, fit.projection
    t, later = c["t_s"], c["t_s"] > 0
    left = t[later].min()
    data_t = np.where(c["data_t_s"] > 0, c["data_t_s"], left)
    k, unit = plotstyle.si_scale(c["data_g_s"], "S")
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    ax.fill_between(t[later], c["g_low_s"][later] * k, c["g_high_s"][later] * k, color="C3", alpha=0.2,
                    lw=0, label="95 % interval (bootstrap)")
    ax.plot(t[later], c["g_s"][later] * k, color="C3", label=f"fit: {fit.law} (nRMSE {fit.nrmse:.3f})")
    ax.plot(data_t, c["data_g_s"] * k, "o", ms=4, color="C0",
            label=f"readings ({fit.n_points}; t = 0 at the left edge)" if (c["data_t_s"] == 0).any()
            else f"readings ({fit.n_points})")
    ax.errorbar([p["time_s"]], [p["g_s"] * k], yerr=[[(p["g_s"] - p["g_low_s"]) * k], [(p["g_high_s"] - p["g_s"]) * k]],
                fmt="s", color="k", capsize=3,
                label=f"{p['g_s'] * k:.3g} {unit} [{p['g_low_s'] * k:.3g}, {p['g_high_s'] * k:.3g}] "
                      f"at {p['time_s']:.3g} s")
    ax.set_xscale("log")
    ax.set_xlabel("time after programming (s)")
    ax.set_ylabel(f"conductance ({unit})")
    plotstyle.plain_ticks(ax)
    ax.set_title("retention: measured, fitted and projected")
    ax.legend(fontsize="small")
    return plotstyle.save_png(fig, Path(path), dpi=120)
