"""Figures of a run and of the energy experiment (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curve(rows: list[dict], path: Path, title: str = "") -> Path | None:
    """Train loss and test accuracy per epoch; None, nothing drawn, with ``LABCTL_PLOTS=0`` (every training
    loop that writes a curve calls this after each epoch)."""
    if not plotstyle.plots_wanted():
        return None
    training_figure(rows, title).savefig(path, dpi=100)
    return path


def training_figure(rows: list[dict], title: str = ""):
    """The figure of :func:`plot_training_curve` (whole-epoch ticks)."""
    from matplotlib.figure import Figure

    df = pd.DataFrame(rows)
    fig = Figure(figsize=(9, 3.5), layout="tight")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(df["epoch"], df["train_loss"], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="train loss (cross-entropy)")
    ax_acc.plot(df["epoch"], 100 * df["test_accuracy"], marker="o", color="C1")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    for ax in (ax_loss, ax_acc):
        plotstyle.integer_ticks(ax.xaxis)
        plotstyle.plain_ticks(ax)
    fig.suptitle(title)
    return fig


def plot_energy_vs_epochs(curves: pd.DataFrame, path: Path, target: float) -> Path:
    """Seed 002 Fig. 5-6: test accuracy and cumulative write energy per epoch, one line per pulse width.

    One row of panels per algorithm (accuracy left, energy right on one log scale for all rows); a
    star marks the epoch at which a run first reaches ``target`` (the grey line), so "more epochs"
    and "less energy" read off the same figure.
    """
    plt = _pyplot()
    algos = list(dict.fromkeys(curves["algo"]))
    widths = list(dict.fromkeys(curves["width"]))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(len(widths), 1)))
    fig, axes = plt.subplots(len(algos), 2, figsize=(10, 3.2 * len(algos)), squeeze=False, sharex=True)
    for ax in axes[1:, 1]:  # one energy scale for every algorithm; accuracy axes zoom on their own curves
        ax.sharey(axes[0, 1])
    for (ax_acc, ax_energy), algo in zip(axes, algos):
        for width, group in curves[curves["algo"] == algo].groupby("width", sort=False):
            colour = colours[widths.index(width)]
            ax_acc.plot(group["epoch"], 100 * group["test_accuracy"], color=colour, marker="o", ms=3, label=width)
            ax_energy.plot(group["epoch"], group["cumulative_energy_j"], color=colour, marker="o", ms=3)
            hit = group[group["test_accuracy"] >= target]
            if len(hit):
                first = hit.iloc[0]
                ax_acc.plot(first["epoch"], 100 * first["test_accuracy"], "*", color=colour, ms=13, mec="k")
                ax_energy.plot(first["epoch"], first["cumulative_energy_j"], "*", color=colour, ms=13, mec="k")
        ax_acc.axhline(100 * target, color="grey", lw=0.8, ls="--")
        ax_acc.set(ylabel=f"{algo}: test accuracy (%)")
        ax_energy.set(yscale="log", ylabel="cumulative write energy (J)")
    axes[0, 0].legend(title="pulse width", fontsize=8)
    axes[0, 0].set_title(f"accuracy (dashed: target {100 * target:g} %, star: reached)")
    axes[0, 1].set_title("write energy, upper bound (star: target reached)")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
        plotstyle.integer_ticks(ax.xaxis)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
