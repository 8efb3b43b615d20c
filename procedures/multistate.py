"""Multistate: program 8, 16 or 128 conductance levels by write-verify and read them back repeatedly.

Devices get levels round-robin and are written (write-verify with a pulse budget) with their cell's
sparsity device switched on or off first (seed 000 shows the weight states survive either). Each
device is then read ``reads`` times; every reading is decoded to the nearest level target, giving the
achieved level (symbol) error and bit error rates, and level histograms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle
from labctl.backend import ArrayBackend
from labctl.layout import CellLayout, Role

from . import plotting
from .params import device_set, param, write_plan
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure
from labctl.write_verify import nominal_step_s, write_verify

COLUMNS = ("Device row", "Device col", "Level", "Target conductance (S)", "Read", "Conductance (S)", "Pulses",
           "Sparsity on", "Time (s)")
"""CSV columns. Pulses: write-verify pulses the device took; Read: index of the repeated reading."""


@dataclass(frozen=True)
class MultistateParams:
    """Parameters of a multistate run."""

    devices: str = param("", "Devices")
    """Device set: "" (``n_devices`` weight devices spread over the array), "all", or "r:c,r:c"."""
    n_devices: int = param(32, "Number of devices", None, 1, 900)
    """Size of the default device set."""
    levels: int = param(8, "Levels", None, 2, 256)
    """Target levels (8, 16 or 128 in seed 000), spread round-robin over the devices."""
    state_min: float = param(0.1, "Lowest state", None, 0.0, 1.0)
    """Lowest level as a fraction of the model's conductance range."""
    state_max: float = param(0.9, "Highest state", None, 0.0, 1.0)
    """Highest level as a fraction of the model's conductance range."""
    tolerance_levels: float = param(0.25, "Tolerance", None, 0.01, 0.5)
    """Write-verify tolerance as a fraction of the level spacing."""
    max_pulses: int = param(300, "Pulse budget", None, 1, 100_000)
    """Most write-verify pulses per device."""
    reads_per_verify: int = param(4, "Reads per verify", None, 1, 100)
    """Reads averaged per verify reading."""
    reads: int = param(10, "Reads", None, 1, 10_000)
    """Readings of every device after programming (the histograms)."""
    sparsity_on: bool = param(True, "Sparsity device on")
    """Switch each cell's sparsity device on (True) or off (False) before programming."""
    width_s: float = param(0.0, "Pulse width", "s", 0.0, 10e-3)
    """Write-pulse width in s; 0 = the model's operating point."""
    amplitude_v: float = param(0.0, "Amplitude", "V", 0.0, 20.0)
    """Write-pulse amplitude magnitude in V; 0 = the model's operating point."""
    read_v: float = param(0.1, "Read voltage", "V", 0.0, 2.0)
    """Bipolar read voltage magnitude in V."""


def plan(backend: ArrayBackend, params: MultistateParams, model) -> dict:
    """Write, sparsity and read specs checked against the limits; nothing is sent."""
    out = write_plan(backend, params, model)
    if "s_on" in out:
        out["sparsity"] = out["s_on"] if params.sparsity_on else out["s_off"]
    return out


def level_conductances(params: MultistateParams, device) -> np.ndarray:
    """Target conductance of each level in S."""
    fractions = np.linspace(params.state_min, params.state_max, params.levels)
    return device.g_min_s + fractions * (device.g_max_s - device.g_min_s)


def run_multistate(backend: ArrayBackend, params: MultistateParams, emit: Emit, *, model=None,
                   should_stop=never) -> dict:
    """Set the sparsity devices, write-verify the levels, read every device ``reads`` times."""
    model = model_of(backend, model)
    layout = backend.layout
    mask = selection(layout, params)
    p = plan(backend, params, model)
    if "sparsity" in p:
        backend.apply_pulses(layout.devices(layout.to_cells(mask), Role.SPARSITY), p["sparsity"])
    levels = level_conductances(params, model.weight)
    level = np.full(layout.shape, -1)
    level[mask] = np.arange(mask.sum()) % params.levels
    target = np.where(mask, levels[np.maximum(level, 0)], 0.0)
    spacing = levels[1] - levels[0]
    dev = model.weight
    res = write_verify(backend, mask, target, p["up"], p["down"], p["read"], params.tolerance_levels * spacing,
                       params.max_pulses, nominal_step_s(dev, p["up"].amplitude_v, p["up"].width_s),
                       params.reads_per_verify, should_stop=should_stop)
    emit("progress", 50.0)
    rows, cols = np.nonzero(mask)
    records = []
    for k in range(params.reads):
        if should_stop():
            break
        g = backend.read(mask, p["read"])[rows, cols]
        t = backend.time_s
        for r, c, gi in zip(rows, cols, g):
            rec = {"Device row": int(r), "Device col": int(c), "Level": int(level[r, c]),
                   "Target conductance (S)": float(target[r, c]), "Read": k + 1, "Conductance (S)": float(gi),
                   "Pulses": int(res.pulses[r, c]), "Sparsity on": bool(params.sparsity_on), "Time (s)": t}
            records.append(rec)
            emit("results", rec)
        emit("progress", 50.0 + 50.0 * (k + 1) / params.reads)
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def selection(layout: CellLayout, params) -> np.ndarray:
    return device_set(layout, params.devices, params.n_devices)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Decode every reading to the nearest level: level and bit error rates, level separation."""
    targets = np.sort(df.groupby("Level")["Target conductance (S)"].first().to_numpy())
    levels = np.sort(df["Level"].unique())
    g = df["Conductance (S)"].to_numpy()
    decoded = levels[np.abs(g[:, None] - targets[None, :]).argmin(axis=1)]
    truth = df["Level"].to_numpy()
    bits = max(1, int(np.ceil(np.log2(max(params.levels, 2)))))
    wrong_bits = sum(bin(int(a) ^ int(b)).count("1") for a, b in zip(decoded, truth))
    stats = df.groupby("Level")["Conductance (S)"].agg(["mean", "std"])
    gaps = np.diff(stats["mean"].to_numpy())
    pooled = np.sqrt(0.5 * (stats["std"].to_numpy()[1:] ** 2 + stats["std"].to_numpy()[:-1] ** 2))
    return {"levels": int(len(levels)), "readings": int(len(df)), "sparsity_on": bool(params.sparsity_on),
            "level_error_rate": float(np.mean(decoded != truth)), "bit_error_rate": wrong_bits / (bits * len(df)),
            "min_separation_sigma": float(np.min(gaps / pooled)) if gaps.size else None,
            "levels_ordered": bool(np.all(gaps > 0)), "mean_pulses": float(df.groupby(
                ["Device row", "Device col"])["Pulses"].first().mean())}


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    fig, (ax,) = plotting.new_figure(width_in=6)
    factor, unit = plotstyle.si_scale(df["Conductance (S)"], "S")
    g = df["Conductance (S)"] * factor
    bins = np.linspace(g.min(), g.max(), min(200, 12 * summary.get("levels", 8)))
    for lvl, part in df.groupby("Level"):
        counts, _ = np.histogram(part["Conductance (S)"] * factor, bins=bins)
        ax.stairs(counts, bins, fill=True, alpha=0.7)
    ax.set_xlabel(f"conductance ({unit})")
    plotstyle.plain_ticks(ax)
    ax.set_ylabel("readings")
    ax.set_title(f"{summary.get('levels')} levels, sparsity {'on' if summary.get('sparsity_on') else 'off'}: "
                 f"bit error {summary.get('bit_error_rate', float('nan')):.3g}")
    return [plotting.save(fig, stem, "levels")]


SPEC = ProcedureSpec(name="multistate", title="Write-verify 8/16/128 levels, read back: histograms, bit error",
                     params_cls=MultistateParams, columns=COLUMNS, run=run_multistate, preflight=plan,
                     analyse=analyse, plot=plot, selection=selection, x_axis="Level", y_axis="Conductance (S)")


class MultistateProcedure(LabProcedure):
    """Multistate (pymeasure wrapper of :func:`run_multistate`)."""

    spec = SPEC


PROCEDURE = MultistateProcedure
