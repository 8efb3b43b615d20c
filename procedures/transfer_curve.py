"""Transfer curve: Id-Vg double sweep per device; memory window, Ion/Ioff, and their maps over the array.

The gate sweeps up from ``gate_start_v`` to ``gate_stop_v`` and back. Beyond the coercive voltage the
sweep itself reprograms the ferroelectric, so each branch's threshold (constant-current criterion:
Id = ``criterion_a``) is taken at its FIRST crossing, before the branch has switched the device:
Vth_fwd (rising current on the up-sweep, erased state) and Vth_rev (falling current on the
down-sweep, programmed state). Memory window = Vth_fwd - Vth_rev; Ion / Ioff = Id of the reverse /
forward branch at ``read_gate_v``. Over many devices the distributions get normal fits and maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle
from labctl.backend import ArrayBackend
from labctl.errors import SafetyLimitError
from labctl.layout import CellLayout

from . import plotting
from .params import device_set, param
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure

COLUMNS = ("Device row", "Device col", "Branch", "Gate voltage (V)", "Drain current (A)", "Time (s)")
"""CSV columns. Branch: "forward" (gate rising) or "reverse" (gate falling)."""


@dataclass(frozen=True)
class TransferCurveParams:
    """Parameters of a transfer-curve run."""

    devices: str = param("", "Devices")
    """Device set: "" (``n_devices`` weight devices spread over the array), "all", or "r:c,r:c"."""
    n_devices: int = param(8, "Number of devices", None, 1, 900)
    """Size of the default device set."""
    gate_start_v: float = param(-5.0, "Gate start", "V", -20.0, 20.0)
    """Gate voltage in V where the double sweep starts and ends."""
    gate_stop_v: float = param(5.0, "Gate stop", "V", -20.0, 20.0)
    """Gate voltage in V where the sweep turns."""
    gate_step_v: float = param(0.05, "Gate step", "V", 1e-3, 5.0)
    """Gate step in V."""
    drain_v: float = param(0.1, "Drain voltage", "V", -5.0, 5.0)
    """Drain bias in V during the sweep."""
    criterion_a: float = param(1e-8, "Threshold criterion", "A", 1e-15, 1.0)
    """Constant-current criterion for Vth in A."""
    read_gate_v: float = param(0.5, "Ion/Ioff gate voltage", "V", -20.0, 20.0)
    """Gate voltage in V at which Ion (reverse branch) and Ioff (forward branch) are read."""
    devices_per_sweep: int = param(30, "Devices per sweep", None, 1, 900)
    """Devices swept together (one SMU per device on the bench); records are flushed per group."""


def plan(backend: ArrayBackend, params: TransferCurveParams, model) -> dict:
    """The gate waveform, checked against the limits; nothing is sent."""
    n = int(round(abs(params.gate_stop_v - params.gate_start_v) / params.gate_step_v)) + 1
    up = np.linspace(params.gate_start_v, params.gate_stop_v, n)
    gate = np.concatenate([up, up[-2::-1]])
    try:
        backend.limits.check_sweep(gate, params.drain_v)
    except SafetyLimitError as exc:
        raise SafetyLimitError(f"parameter gate_start_v/gate_stop_v/drain_v refused: {exc}") from None
    return {"gate": gate, "turn": n}


def run_transfer_curve(backend: ArrayBackend, params: TransferCurveParams, emit: Emit, *, model=None,
                       should_stop=never) -> dict:
    """Double-sweep every device of the set (in groups); return memory windows and Ion/Ioff."""
    model = model_of(backend, model)
    p = plan(backend, params, model)
    gate, turn = p["gate"], p["turn"]
    devices = np.argwhere(selection(backend.layout, params))
    records = []
    for start in range(0, len(devices), params.devices_per_sweep):
        if should_stop():
            break
        group = devices[start:start + params.devices_per_sweep]
        mask = np.zeros(backend.shape, dtype=bool)
        mask[tuple(group.T)] = True
        t_start = backend.time_s
        current = backend.sweep_transfer(mask, gate, params.drain_v)
        dt = (backend.time_s - t_start) / gate.size
        order = np.argwhere(mask)  # row-major, as sweep_transfer returns
        for (r, c), ids in zip(order, current):
            for k, (vg, i) in enumerate(zip(gate, ids)):
                rec = {"Device row": int(r), "Device col": int(c), "Branch": "forward" if k < turn else "reverse",
                       "Gate voltage (V)": float(vg), "Drain current (A)": float(i), "Time (s)": t_start + (k + 1) * dt}
                records.append(rec)
                emit("results", rec)
        emit("progress", 100.0 * min(start + len(group), len(devices)) / len(devices))
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def selection(layout: CellLayout, params) -> np.ndarray:
    return device_set(layout, params.devices, params.n_devices)


def first_crossing(gate_v: np.ndarray, current_a: np.ndarray, criterion_a: float, rising: bool) -> float:
    """Gate voltage of the first crossing of ``criterion_a`` along the sweep (log-linear interpolation)."""
    above = current_a >= criterion_a
    hits = np.flatnonzero(above[1:] & ~above[:-1]) if rising else np.flatnonzero(~above[1:] & above[:-1])
    if hits.size == 0:
        return float("nan")
    k = hits[0]
    y0, y1 = np.log(np.maximum(current_a[k:k + 2], 1e-30))
    frac = (np.log(criterion_a) - y0) / (y1 - y0)
    return float(gate_v[k] + frac * (gate_v[k + 1] - gate_v[k]))


def device_figures(df: pd.DataFrame, params) -> pd.DataFrame:
    """Per device: Vth of each branch, memory window, Ion, Ioff, Ion/Ioff."""
    rows = []
    for (r, c), part in df.groupby(["Device row", "Device col"], sort=True):
        fwd, rev = part[part.Branch == "forward"], part[part.Branch == "reverse"]
        vth_f = first_crossing(fwd["Gate voltage (V)"].to_numpy(), fwd["Drain current (A)"].to_numpy(),
                               params.criterion_a, rising=True)
        vth_r = first_crossing(rev["Gate voltage (V)"].to_numpy(), rev["Drain current (A)"].to_numpy(),
                               params.criterion_a, rising=False)
        i_off = float(np.interp(params.read_gate_v, fwd["Gate voltage (V)"], fwd["Drain current (A)"]))
        rev_sorted = rev.sort_values("Gate voltage (V)")
        i_on = float(np.interp(params.read_gate_v, rev_sorted["Gate voltage (V)"], rev_sorted["Drain current (A)"]))
        rows.append({"row": int(r), "col": int(c), "vth_forward_v": vth_f, "vth_reverse_v": vth_r,
                     "memory_window_v": vth_f - vth_r, "ion_a": i_on, "ioff_a": i_off, "on_off_ratio": i_on / i_off})
    return pd.DataFrame(rows)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Normal fits (mean, std) of memory window, Vth and log10 Ion/Ioff over the devices."""
    from scipy.stats import norm

    figs = device_figures(df, params)
    out = {"devices": int(len(figs)), "criterion_a": params.criterion_a, "read_gate_v": params.read_gate_v}
    for key, values in (("memory_window_v", figs.memory_window_v), ("vth_forward_v", figs.vth_forward_v),
                        ("vth_reverse_v", figs.vth_reverse_v), ("log10_on_off", np.log10(figs.on_off_ratio))):
        values = values.dropna().to_numpy()
        if values.size:
            mu, sigma = norm.fit(values)
            out[key] = {"mean": float(mu), "std": float(sigma), "n": int(values.size)}
    return out


MIN_NORMAL_FIT = 8
"""Fewest devices whose memory windows the plot fits a normal distribution to (fewer: values shown)."""


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    """Id-Vg curves, the memory-window distribution (normal fit from :data:`MIN_NORMAL_FIT` devices), maps."""
    from types import SimpleNamespace

    from matplotlib.ticker import MaxNLocator
    from scipy.stats import norm

    fig, (ax, ax2, ax3, ax4) = plotting.new_figure(4, 4.2)
    figs = device_figures(df, SimpleNamespace(criterion_a=summary["criterion_a"], read_gate_v=summary["read_gate_v"]))
    labels = [f"r{r} c{c}" for r, c in zip(figs.row, figs.col)]
    picks = plotstyle.examples(figs.memory_window_v.to_numpy())
    for branch in ("forward", "reverse"):
        part = df[df["Branch"] == branch]
        traces = part.pivot_table(index=["Device row", "Device col"], columns="Gate voltage (V)",
                                  values="Drain current (A)")
        plotstyle.spread_band(ax, traces.columns.to_numpy(), traces.to_numpy(), labels, picks, marker="-")
    ax.set_yscale("log")
    ax.set_xlabel("gate voltage (V)")
    ax.set_ylabel("drain current (A)")
    ax.set_title("Id-Vg double sweep")
    plotstyle.legend_outside(ax)
    mw = summary.get("memory_window_v", {})
    values = figs.memory_window_v.dropna()
    if len(values) >= MIN_NORMAL_FIT:
        ax2.hist(values, bins=20, density=True, alpha=0.7)
        x = np.linspace(mw["mean"] - 4 * mw["std"], mw["mean"] + 4 * mw["std"], 200)
        ax2.plot(x, norm.pdf(x, mw["mean"], mw["std"]), "k-", lw=1)
        ax2.set_ylabel("density")
        ax2.set_title(f"MW {mw['mean']:.2f} +/- {mw['std']:.2f} V (normal fit, {len(values)} devices)")
    else:
        ax2.plot(values, np.zeros(len(values)), "o")
        for v in values:
            ax2.annotate(f"{v:.3f} V", (v, 0), textcoords="offset points", xytext=(0, 8), ha="center")
        ax2.set_yticks([])
        ax2.xaxis.set_major_locator(MaxNLocator(4))
        ax2.margins(x=0.2)
        ax2.set_title(f"MW of {len(values)} devices (a normal fit needs {MIN_NORMAL_FIT})", fontsize="medium")
    ax2.set_xlabel("memory window (V)")
    plotstyle.plain_ticks(ax2)
    shape = (int(df["Device row"].max()) + 1, int(df["Device col"].max()) + 1)
    for axis, values, title, label in ((ax3, figs.memory_window_v, "memory window map", "MW (V)"),
                                       (ax4, np.log10(figs.on_off_ratio), "Ion/Ioff map", "log10 Ion/Ioff")):
        grid = np.full(shape, np.nan)
        grid[figs.row, figs.col] = values
        plotting.show_map(fig, axis, grid, title, label)
    return [plotting.save(fig, stem, "transfer")]


SPEC = ProcedureSpec(name="transfer_curve", title="Id-Vg double sweeps: memory window and Ion/Ioff, with maps",
                     params_cls=TransferCurveParams, columns=COLUMNS, run=run_transfer_curve, preflight=plan,
                     analyse=analyse, plot=plot, selection=selection, x_axis="Gate voltage (V)",
                     y_axis="Drain current (A)", log_columns=("Drain current (A)",))


class TransferCurveProcedure(LabProcedure):
    """Transfer curve (pymeasure wrapper of :func:`run_transfer_curve`)."""

    spec = SPEC


PROCEDURE = TransferCurveProcedure
