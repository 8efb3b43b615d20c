"""Figures of a run and of the energy experiment (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

from pathlib import Path

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
    """Seed 002 Fig. 6: test accuracy against cumulative write energy, one line per width and algorithm."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for (algo, width), group in curves.groupby(["algo", "width"], sort=False):
        style = {"mpsgd": "-", "sgd": ":", "symshift": "--"}.get(algo, "-")
        ax.plot(group["cumulative_energy_j"], 100 * group["test_accuracy"], style, marker="o", ms=3,
                label=f"{algo} {width}")
    ax.axhline(100 * target, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="cumulative write energy (J, upper bound)", ylabel="test accuracy (%)")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
