"""PNG plots of a fit: G vs pulse number (data vs fitted trajectory) and the step curves dG vs G.

Fits are named as the report names them (``StepFit.name``: poly5, soft-bounds). The step plot is
scaled to the measured steps and the chosen fits: the rejected fit is drawn dotted for comparison
but may leave the axes (outside the data it can extrapolate far off, which would flatten the rest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from device_models import plotstyle


def save_plots(result, stem: Path) -> list[Path]:
    """Write ``<stem>_trains.png`` and ``<stem>_steps.png``; return their paths."""
    paths = [Path(f"{stem}_trains.png"), Path(f"{stem}_steps.png")]
    plotstyle.save_png(trains_figure(result), paths[0])
    plotstyle.save_png(steps_figure(result), paths[1])
    return paths


def trains_figure(result) -> Figure:
    """Per phase: the measured trains (10-90 % band), their mean and the chosen fit's trajectory."""
    w = result.model.weight
    lo_x, hi_x = result.axis[:2]  # the fit axis: G in S, or ln(G / g_ref) on a log-scale fit
    span, to_s = hi_x - lo_x, result.to_conductance
    factor, unit = plotstyle.si_scale([w.g_max_s], "S")
    fig = Figure(figsize=(11, 4), layout="constrained")
    axes = fig.subplots(1, len(result.trains), sharey=True, squeeze=False)[0]
    for ax, (phase, tr) in zip(axes, result.trains.items()):
        fit = result.chosen[phase]
        mean, ratios = tr.mean()
        pulse = np.arange(1, mean.size + 1)
        pred = to_s(lo_x + span * fit.predict(ratios[None, :])[0])
        readings = to_s(tr.conductance_s)
        n = tr.conductance_s.shape[0]
        if n > plotstyle.MANY_DEVICES:
            lo, hi = np.nanpercentile(readings, [10, 90], axis=0)
            ax.fill_between(pulse, lo * factor, hi * factor, color="0.8", lw=0, label=f"10-90 % of {n} trains")
        else:
            for k, row in enumerate(readings):
                ax.plot(pulse, row * factor, color="0.75", lw=0.6, label=f"{n} measured trains" if k == 0 else None)
        ax.plot(pulse, to_s(mean) * factor, ".", ms=3, color="C0", label="measured mean")
        ax.plot(pulse, pred * factor, color="C3", label=f"fit: {fit.name} (nRMSE {fit.nrmse:.3f})")
        replayed = result.replayed.get(phase)
        if replayed is not None:
            ax.plot(pulse, to_s(lo_x + span * replayed["replayed"]) * factor, "--", color="C2",
                    label=f"model replaying the protocol (nRMSE {replayed['nrmse']:.3f})")
        ax.set_title(phase)
        ax.set_xlabel("pulse number")
        plotstyle.integer_ticks(ax.xaxis)
        plotstyle.plain_ticks(ax)
    axes[0].set_ylabel(f"conductance ({unit})")
    if result.axis[2] is not None:
        axes[0].set_yscale("log")
    plotstyle.legend_outside(axes[-1])
    return fig


def steps_figure(result) -> Figure:
    """Step size against state: the mean traces' measured steps, the chosen fit (solid), the other (dotted)."""
    lo_x, hi_x = result.axis[:2]
    span = hi_x - lo_x
    fig = Figure(figsize=(7.5, 4), layout="constrained")
    ax = fig.subplots()
    g = np.linspace(0, 1, 201)
    shown = []
    for k, (phase, tr) in enumerate(result.trains.items()):
        mean, ratios = tr.mean()
        norm = (mean - lo_x) / span
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.abs(np.diff(norm)) / ratios[1:]
        ax.plot(0.5 * (norm[1:] + norm[:-1]), steps, ".", ms=3, color=f"C{k}", label=f"{phase}: measured (mean trace)")
        chosen = result.chosen[phase]
        shown += [steps, chosen.step(g)]
        for fit in sorted(result.fits[phase].values(), key=lambda f: f is not chosen):
            role = "chosen" if fit is chosen else "not chosen"
            ax.plot(g, fit.step(g), "-" if fit is chosen else ":", color=f"C{k}",
                    label=f"{phase}: {fit.name}, {role} (AIC {fit.aic:.0f})")
    values = np.concatenate(shown)
    values = values[np.isfinite(values)]
    top = values.max() if values.size else 1.0
    ax.set_ylim(min(0.0, values.min(initial=0.0)) - 0.02 * top, 1.05 * top)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("normalised conductance G")
    ax.set_ylabel("|dG| per reference pulse (normalised)")
    plotstyle.plain_ticks(ax)
    plotstyle.legend_outside(ax)
    return fig
