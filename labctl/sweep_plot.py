"""``sweep.png``: the swept parameter against what the runs measured.

The x axis is the swept parameter (the first numeric grid key that is not ``seed``; seeds are
repeats, drawn as points around their mean). One panel per measured summary value that varies
over the runs (constants such as the device count say nothing), one line per combination of the
other grid keys, labelled ``key=value``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from device_models import plotstyle

BOOKKEEPING = ("run", "attempts", "records", "wall_s", "epochs", "worker_pid")
"""Numeric sweep-table columns that are not measurements."""
MAX_PANELS = 3
"""Measured values plotted (the first that vary, in table order)."""


def swept_axis(grid: dict) -> str:
    """The grid key on the x axis: the first numeric one besides ``seed``, else the first besides it."""
    keys = [k for k in grid if k != "seed"] or list(grid)
    numeric = [k for k in keys if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in grid[k])]
    return (numeric or keys)[0]


def measured(done: pd.DataFrame, grid: dict) -> list[str]:
    """Numeric summary columns that vary over the completed runs (at most :data:`MAX_PANELS`)."""
    skip = set(grid) | set(BOOKKEEPING)
    cols = [c for c in done.columns if c not in skip and pd.api.types.is_numeric_dtype(done[c])
            and not pd.api.types.is_bool_dtype(done[c])]
    return [c for c in cols if done[c].nunique(dropna=True) > 1][:MAX_PANELS]


def plot_sweep(table: pd.DataFrame, spec, path: Path) -> Path:
    """Write ``path``: each varying measured value against the swept parameter (see the module docstring)."""
    sweep_figure(table, spec).savefig(path, dpi=110)
    return path


def sweep_figure(table: pd.DataFrame, spec) -> Figure:
    """The figure of :func:`plot_sweep`."""
    axis = swept_axis(spec.grid)
    others = [k for k in spec.grid if k not in (axis, "seed")]
    done = table[table["status"] == "completed"] if "status" in table else table
    metrics = measured(done, spec.grid)
    fig = Figure(figsize=(4.2 * max(len(metrics), 1) + 1.6, 3.6), layout="constrained")
    axes = fig.subplots(1, max(len(metrics), 1), squeeze=False)[0]
    groups = list(done.groupby(others)) if others else [((), done)]
    for ax, metric in zip(axes, metrics):
        for k, (values, group) in enumerate(groups):
            values = values if isinstance(values, tuple) else (values,)
            seeds = f"mean of {len(spec.grid['seed'])} seeds" if "seed" in spec.grid and axis != "seed" else ""
            label = ", ".join(f"{key}={value}" for key, value in zip(others, values)) or seeds or metric
            mean = group.groupby(axis, sort=True)[metric].mean()
            ax.plot(mean.index, mean.to_numpy(), "-", color=f"C{k}", label=label)
            if "seed" in spec.grid and axis != "seed":
                ax.plot(group[axis], group[metric], "o", ms=4, alpha=0.6, color=f"C{k}",
                        label=f"single seeds ({len(spec.grid['seed'])})")
        ax.set_ylabel(metric)
        ax.set_xlabel(axis)
        if len(spec.grid[axis]) <= 10 and pd.api.types.is_numeric_dtype(done[axis]):
            ax.set_xticks(sorted(set(spec.grid[axis])))
        plotstyle.plain_ticks(ax)
    if metrics and (len(groups) > 1 or "seed" in spec.grid):
        plotstyle.legend_outside(axes[len(metrics) - 1])
    if not metrics:
        axes[0].text(0.5, 0.5, "no measured value varies over the completed runs", ha="center",
                     transform=axes[0].transAxes)
        axes[0].set_xlabel(axis)
    fig.suptitle(f"{spec.procedure}: {len(done)} of {len(table)} runs completed")
    return fig
