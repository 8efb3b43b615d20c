"""Figures of a run and of the energy experiment (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training_curve(rows: list[dict], path: Path, title: str = "") -> Path:
    """Train loss and test accuracy per epoch."""
    plt = _pyplot()
    df = pd.DataFrame(rows)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(df["epoch"], df["train_loss"], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="train loss (cross-entropy)")
    ax_acc.plot(df["epoch"], 100 * df["test_accuracy"], marker="o", color="C1")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_energy_vs_epochs(curves: pd.DataFrame, path: Path, target: float) -> Path:
    """Seed 002 Fig. 5-6: test accuracy and cumulative write energy per epoch, one line per width and algorithm.

    Colour = pulse width, line style = algorithm; a star marks the epoch at which a run first reaches
    ``target`` (the grey line in the accuracy panel), so "fewer epochs" and "less energy" read off one figure.
    """
    plt = _pyplot()
    fig, (ax_acc, ax_energy) = plt.subplots(1, 2, figsize=(11, 4.5))
    widths = list(dict.fromkeys(curves["width"]))
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, max(len(widths), 1)))
    for (algo, width), group in curves.groupby(["algo", "width"], sort=False):
        style = {"mpsgd": "-", "sgd": ":", "symshift": "--"}.get(algo, "-")
        colour = colours[widths.index(width)]
        for ax, y in ((ax_acc, 100 * group["test_accuracy"]), (ax_energy, group["cumulative_energy_j"])):
            ax.plot(group["epoch"], y, style, color=colour, marker="o", ms=3, label=f"{width} {algo}")
        hit = group[group["test_accuracy"] >= target]
        if len(hit):
            first = hit.iloc[0]
            ax_acc.plot(first["epoch"], 100 * first["test_accuracy"], "*", color=colour, ms=12, mec="k")
            ax_energy.plot(first["epoch"], first["cumulative_energy_j"], "*", color=colour, ms=12, mec="k")
    ax_acc.axhline(100 * target, color="grey", lw=0.8)
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"accuracy (target {100 * target:g} %)")
    ax_energy.set(yscale="log", xlabel="epoch", ylabel="cumulative write energy (J, upper bound)",
                  title="energy; star = target reached")
    ax_acc.legend(fontsize=7, ncol=2)
    for ax in (ax_acc, ax_energy):
        ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
