"""PNG of a retention fit: readings, fitted law and its 95 % band on log time, out to the projection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .retention import RetentionFit


def save_retention_plot(fit: RetentionFit, path: str | Path) -> Path:
    """Write the plot to ``path`` (PNG); a reading at t = 0 sits at the axis' left edge, marked so."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    c, p = fit.curves, fit.projection
    t, later = c["t_s"], c["t_s"] > 0
    left = t[later].min()
    data_t = np.where(c["data_t_s"] > 0, c["data_t_s"], left)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.fill_between(t[later], c["g_low_s"][later] * 1e6, c["g_high_s"][later] * 1e6, color="C3", alpha=0.2,
                    lw=0, label="95 % interval (bootstrap)")
    ax.plot(t[later], c["g_s"][later] * 1e6, color="C3", label=f"fit: {fit.law} (nRMSE {fit.nrmse:.3f})")
    ax.plot(data_t, c["data_g_s"] * 1e6, "o", ms=4, color="C0",
            label=f"readings ({fit.n_points}; t = 0 at the left edge)" if (c["data_t_s"] == 0).any()
            else f"readings ({fit.n_points})")
    ax.errorbar([p["time_s"]], [p["g_s"] * 1e6], yerr=[[(p["g_s"] - p["g_low_s"]) * 1e6],
                                                      [(p["g_high_s"] - p["g_s"]) * 1e6]],
                fmt="s", color="k", capsize=3,
                label=f"{p['g_s'] * 1e6:.3g} uS [{p['g_low_s'] * 1e6:.3g}, {p['g_high_s'] * 1e6:.3g}] "
                      f"at {p['time_s']:.3g} s")
    ax.set_xscale("log")
    ax.set_xlabel("time after programming (s)")
    ax.set_ylabel("conductance (uS)")
    ax.set_title("retention: measured, fitted and projected")
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
