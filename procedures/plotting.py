"""Figures written next to a run's CSV (matplotlib's object API: no pyplot state, safe in threads)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from device_models import plotstyle

if TYPE_CHECKING:  # matplotlib loads when a run plots: ~0.5 s that `labctl run --list`, a refused or killed run skip
    from matplotlib.figure import Figure


def new_figure(ncols: int = 1, width_in: float = 5.0, height_in: float = 3.6):
    """A figure with ``ncols`` axes side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in * ncols, height_in), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def save(fig: Figure, stem: Path, suffix: str) -> Path:
    """Save ``fig`` as ``<stem>_<suffix>.png`` and return the path."""
    return plotstyle.save_png(fig, stem.with_name(f"{stem.name}_{suffix}.png"))


def show_map(fig: Figure, ax, values, title: str, label: str, cmap: str = "viridis", **kwargs) -> None:
    """A device or cell map with a colour bar of about 5 ticks (matplotlib's default puts ~9 on a
    3.6 inch bar: denser than one reads, and each tick label is re-measured on every layout pass)."""
    from matplotlib.ticker import MaxNLocator

    image = ax.imshow(values, cmap=cmap, interpolation="nearest", **kwargs)
    ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    fig.colorbar(image, ax=ax, label=label, ticks=MaxNLocator(5, steps=[1, 2, 5, 10]))
