"""PNG plots of a fit: G vs pulse number (data vs fitted trajectory) and the step curves dG vs G."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def save_plots(result, stem: Path) -> list[Path]:
    """Write ``<stem>_trains.png`` and ``<stem>_steps.png``; return their paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    w = result.model.weight
    span = w.g_max_s - w.g_min_s
    paths = [Path(f"{stem}_trains.png"), Path(f"{stem}_steps.png")]

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, (phase, tr) in zip(axes, result.trains.items()):
        fit = result.chosen[phase]
        for row in tr.conductance_s[:50]:
            ax.plot(row, color="0.8", lw=0.5)
        mean, ratios = tr.mean()
        pred = w.g_min_s + span * fit.predict(ratios[None, :])[0]
        ax.plot(mean, ".", ms=3, color="C0", label=f"measured mean ({tr.conductance_s.shape[0]} trains)")
        ax.plot(pred, color="C3", label=f"fit: {fit.kind} (nRMSE {fit.nrmse:.3f})")
        ax.set_title(phase)
        ax.set_xlabel("pulse number")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("conductance (S)")
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 4))
    g = np.linspace(0, 1, 201)
    for k, (phase, tr) in enumerate(result.trains.items()):
        mean, ratios = tr.mean()
        norm = (mean - w.g_min_s) / span
        with np.errstate(divide="ignore", invalid="ignore"):
            ax.plot(0.5 * (norm[1:] + norm[:-1]), np.abs(np.diff(norm)) / ratios[1:], ".", ms=3,
                    color=f"C{k}", label=f"{phase} mean trace")
        for kind, fit in result.fits[phase].items():
            ax.plot(g, fit.step(g), "-" if fit is result.chosen[phase] else ":", color=f"C{k}",
                    label=f"{phase} {kind} (AIC {fit.aic:.0f})")
    ax.set_xlabel("normalised conductance G")
    ax.set_ylabel("|dG| per reference pulse (normalised)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths
