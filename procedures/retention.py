"""Retention: program states, read them at log-spaced times, fit a power law, project to 10 years.

The devices are split round-robin into ``levels`` groups and written (write-verify) to evenly spaced
conductances; then the backend waits (the simulator jumps its clock, the bench sleeps) between
log-spaced reads up to ``duration_s``. Every reading carries the chip temperature. Each level's mean
is fitted with ``G(t) = G(1 s) * t ** -nu`` (a line in log-log) and projected to ten years.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle
from labctl.backend import ArrayBackend
from labctl.layout import CellLayout

from . import plotting
from .params import applied, checked_pulse, checked_read, device_set, param
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure
from labctl.write_verify import averaged_read, nominal_step_s, write_verify

TEN_YEARS_S = 10 * 365.25 * 86400
"""Projection horizon in s."""

COLUMNS = ("Device row", "Device col", "Level", "Target conductance (S)", "Elapsed (s)", "Conductance (S)",
           "Temperature (K)", "Time (s)")
"""CSV columns. Elapsed: seconds since the end of programming."""


@dataclass(frozen=True)
class RetentionParams:
    """Parameters of a retention run."""

    devices: str = param("", "Devices")
    """Device set: "" (``n_devices`` weight devices spread over the array), "all", or "r:c,r:c"."""
    n_devices: int = param(16, "Number of devices", None, 1, 900)
    """Size of the default device set."""
    levels: int = param(4, "Levels", None, 1, 128)
    """Programmed states, spread round-robin over the devices."""
    state_min: float = param(0.1, "Lowest state", None, 0.0, 1.0)
    """Lowest level as a fraction of the model's conductance range."""
    state_max: float = param(0.9, "Highest state", None, 0.0, 1.0)
    """Highest level as a fraction of the model's conductance range."""
    duration_s: float = param(1000.0, "Duration", "s", 1.0, 1e7)
    """Last read time after programming in s (100 s and 1000 s in seed 000)."""
    first_read_s: float = param(1.0, "First read", "s", 1e-3, 1e6)
    """First read time after programming in s."""
    points: int = param(12, "Read times", None, 2, 1000)
    """Log-spaced read times from ``first_read_s`` to ``duration_s``."""
    reads_per_point: int = param(4, "Reads per time", None, 1, 100)
    """Reads averaged at each time (the CSV keeps their mean per device)."""
    tolerance: float = param(0.03, "Tolerance", None, 0.001, 0.5)
    """Write-verify tolerance as a fraction of the conductance range."""
    max_pulses: int = param(300, "Pulse budget", None, 1, 100_000)
    """Most write-verify pulses per device."""
    width_s: float = param(0.0, "Pulse width", "s", 0.0, 10e-3)
    """Write-pulse width in s; 0 = the model's operating point."""
    amplitude_v: float = param(0.0, "Amplitude", "V", 0.0, 20.0)
    """Write-pulse amplitude magnitude in V; 0 = the model's operating point."""
    read_v: float = param(0.1, "Read voltage", "V", 0.0, 2.0)
    """Bipolar read voltage magnitude in V."""


def plan(backend: ArrayBackend, params: RetentionParams, model) -> dict:
    """Write pulses and read, checked against the limits; read times; nothing is sent."""
    params = applied(params, model)
    amp, width = params.amplitude_v, params.width_s
    if params.first_read_s >= params.duration_s:
        from labctl.errors import ConfigError, field_error

        raise field_error(ConfigError, "first_read_s", params.first_read_s, "must be below duration_s")
    return {"up": checked_pulse(backend.limits, "amplitude_v", amp, width),
            "down": checked_pulse(backend.limits, "amplitude_v", -amp, width),
            "read": checked_read(backend.limits, "read_v", params.read_v),
            "times": np.geomspace(params.first_read_s, params.duration_s, params.points)}


def level_targets(mask: np.ndarray, params: RetentionParams, device) -> tuple[np.ndarray, np.ndarray]:
    """Level index (-1 off the mask) and target conductance of every device."""
    level = np.full(mask.shape, -1)
    level[mask] = np.arange(mask.sum()) % params.levels
    fractions = np.linspace(params.state_min, params.state_max, params.levels) if params.levels > 1 else \
        np.array([params.state_max])
    target = device.g_min_s + fractions[np.maximum(level, 0)] * (device.g_max_s - device.g_min_s)
    return level, np.where(mask, target, np.nan)


def run_retention(backend: ArrayBackend, params: RetentionParams, emit: Emit, *, model=None,
                  should_stop=never) -> dict:
    """Program the levels, then read at log-spaced times; return the fits."""
    model = model_of(backend, model)
    mask = selection(backend.layout, params)
    p = plan(backend, params, model)
    dev = model.weight
    level, target = level_targets(mask, params, dev)
    span = dev.g_max_s - dev.g_min_s
    write_verify(backend, mask, np.nan_to_num(target), p["up"], p["down"], p["read"], params.tolerance * span,
                 params.max_pulses, nominal_step_s(dev, p["up"].amplitude_v, p["up"].width_s), 2,
                 should_stop=should_stop)
    t0 = backend.time_s
    rows, cols = np.nonzero(mask)
    records = []
    for k, t_read in enumerate(p["times"]):
        if should_stop():
            break
        backend.wait(max(0.0, t_read - (backend.time_s - t0)))
        elapsed = backend.time_s - t0
        g = averaged_read(backend, mask, p["read"], params.reads_per_point)[rows, cols]
        temp, t = float(backend.temperature_k), backend.time_s
        for r, c, gi in zip(rows, cols, g):
            rec = {"Device row": int(r), "Device col": int(c), "Level": int(level[r, c]),
                   "Target conductance (S)": float(target[r, c]), "Elapsed (s)": elapsed, "Conductance (S)": float(gi),
                   "Temperature (K)": temp, "Time (s)": t}
            records.append(rec)
            emit("results", rec)
        emit("progress", 100.0 * (k + 1) / len(p["times"]))
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def selection(layout: CellLayout, params) -> np.ndarray:
    return device_set(layout, params.devices, params.n_devices)


def power_law_fit(t_s: np.ndarray, g_s: np.ndarray) -> tuple[float, float]:
    """(G at 1 s, nu) of ``G = G1 * t ** -nu`` by least squares in log-log."""
    slope, intercept = np.polyfit(np.log(t_s), np.log(g_s), 1)
    return float(np.exp(intercept)), float(-slope)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Per level: fit, ten-year projection, retained fraction; whether levels stay ordered."""
    levels = {}
    for lvl, part in df.groupby("Level"):
        mean = part.groupby("Elapsed (s)")["Conductance (S)"].mean()
        if len(mean) < 2:
            continue
        g1, nu = power_law_fit(mean.index.to_numpy(), mean.to_numpy())
        g10 = g1 * TEN_YEARS_S ** -nu
        levels[str(lvl)] = {"target_s": float(part["Target conductance (S)"].iloc[0]), "g_first_s": float(mean.iloc[0]),
                            "g_last_s": float(mean.iloc[-1]), "g_at_1s_s": g1, "nu": nu, "g_10y_s": g10,
                            "retained_10y": g10 / float(mean.iloc[0])}
    projected = [v["g_10y_s"] for _, v in sorted(levels.items(), key=lambda kv: int(kv[0]))]
    return {"temperature_k": float(df["Temperature (K)"].mean()) if len(df) else None, "levels": levels,
            "levels_ordered_at_10y": bool(np.all(np.diff(projected) > 0)) if projected else None}


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    fig, (ax,) = plotting.new_figure(width_in=6)
    t_fit = np.geomspace(max(df["Elapsed (s)"].min(), 1e-3), TEN_YEARS_S, 100)
    factor, unit = plotstyle.si_scale(df["Conductance (S)"], "S")
    for lvl, part in df.groupby("Level"):
        mean = part.groupby("Elapsed (s)")["Conductance (S)"].mean()
        line, = ax.plot(mean.index, mean.values * factor, "o", ms=4, label=f"level {lvl}")
        fit = summary.get("levels", {}).get(str(lvl))
        if fit:
            ax.plot(t_fit, fit["g_at_1s_s"] * t_fit ** -fit["nu"] * factor, "--", lw=0.8, color=line.get_color())
    ax.axvline(TEN_YEARS_S, color="grey", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("time after programming (s); dashed: power-law fit to 10 years")
    ax.set_ylabel(f"conductance ({unit})")
    plotstyle.plain_ticks(ax)
    ax.set_title(f"retention at {summary.get('temperature_k') or 0:.0f} K")
    plotstyle.legend_outside(ax)
    return [plotting.save(fig, stem, "retention")]


SPEC = ProcedureSpec(name="retention", title="Program states, read at log-spaced times, power-law fit to 10 years",
                     params_cls=RetentionParams, columns=COLUMNS, run=run_retention, preflight=plan,
                     analyse=analyse, plot=plot, selection=selection, x_axis="Elapsed (s)", y_axis="Conductance (S)",
                     log_columns=("Elapsed (s)",))


class RetentionProcedure(LabProcedure):
    """Retention (pymeasure wrapper of :func:`run_retention`)."""

    spec = SPEC


PROCEDURE = RetentionProcedure
