"""LTP/LTD: potentiation then depression pulse trains, each pulse followed by a bipolar read.

Seed 002's bench protocol: write pulses of fixed width and increasing amplitude magnitude (a linear
ramp from ``start_amplitude_v`` to ``stop_amplitude_v``), positive for LTP then negative for LTD, each
followed by a non-destructive bipolar read at +/-``read_v``. The records feed ``labctl fit``
(conductance gradient vs pulse number, 5th-degree LTP/LTD fits); the column names are a contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle
from labctl.backend import ArrayBackend
from labctl.layout import CellLayout
from labctl.specs import PulseSpec, ReadSpec

from . import plotting
from .params import applied, checked_pulse, checked_read, device_set, param
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure

COLUMNS = ("Device row", "Device col", "Phase", "Pulse", "Amplitude (V)", "Width (s)", "Conductance (S)",
           "Time (s)")
"""CSV columns (imported by the fitting code: keep exactly)."""


@dataclass(frozen=True)
class LtpLtdParams:
    """Parameters of an LTP/LTD run."""

    devices: str = param("", "Devices")
    """Device set: "" (``n_devices`` weight devices spread over the array), "all", or "r:c,r:c"."""
    n_devices: int = param(4, "Number of devices", None, 1, 900)
    """Size of the default device set."""
    pulses: int = param(50, "Pulses per phase", None, 1, 100_000)
    """Pulses in the LTP train and in the LTD train."""
    width_s: float = param(0.0, "Pulse width", "s", 0.0, 2.0)
    """Write-pulse width in s; 0 = the model's operating point."""
    start_amplitude_v: float = param(0.0, "Start amplitude", "V", 0.0, 20.0)
    """Amplitude magnitude in V of the first LTP pulse (and LTD pulse, unless ``ltd_start_amplitude_v``);
    0 = the model's LTP branch: its measured ramp (a fitted model's operating point keeps one per
    branch), else 0.95 x its amplitude."""
    stop_amplitude_v: float = param(0.0, "Stop amplitude", "V", 0.0, 20.0)
    """Amplitude magnitude in V of the last LTP pulse (and LTD pulse, unless ``ltd_stop_amplitude_v``); 0 =
    the model's LTP branch: its measured ramp, else 1.05 x its amplitude."""
    ltd_start_amplitude_v: float = param(0.0, "LTD start amplitude", "V", 0.0, 20.0)
    """Amplitude magnitude in V of the first LTD pulse; 0 = ``start_amplitude_v`` where given, else the
    model's LTD branch (its measured ramp, else 0.95 x its amplitude)."""
    ltd_stop_amplitude_v: float = param(0.0, "LTD stop amplitude", "V", 0.0, 20.0)
    """Amplitude magnitude in V of the last LTD pulse; 0 = ``stop_amplitude_v`` where given, else the
    model's LTD branch (its measured ramp, else 1.05 x its amplitude)."""
    read_v: float = param(0.1, "Read voltage", "V", 0.0, 2.0)
    """Bipolar read voltage magnitude in V."""


def plan(backend: ArrayBackend, params: LtpLtdParams, model) -> tuple[list[PulseSpec], ReadSpec]:
    """Every pulse (LTP ramp then LTD ramp, defaults filled in: what the CSV header records) and the read,
    checked against the limits."""
    p = applied(params, model)
    ramps = []
    for prefix in ("", "ltd_"):
        start, stop = getattr(p, f"{prefix}start_amplitude_v"), getattr(p, f"{prefix}stop_amplitude_v")
        checked_pulse(backend.limits, f"{prefix}start_amplitude_v", start, p.width_s)
        checked_pulse(backend.limits, f"{prefix}stop_amplitude_v", stop, p.width_s)
        ramps.append(np.linspace(start, stop, params.pulses))
    amplitudes = np.concatenate([ramps[0], -ramps[1]])
    pulses = [checked_pulse(backend.limits, "amplitude", float(a), p.width_s) for a in amplitudes]
    return pulses, checked_read(backend.limits, "read_v", params.read_v)


def run_ltp_ltd(backend: ArrayBackend, params: LtpLtdParams, emit: Emit, *, model=None,
                should_stop=never) -> dict:
    """Apply the LTP then LTD trains to the device set, reading after every pulse; return the summary."""
    model = model_of(backend, model)
    mask = selection(backend.layout, params)
    pulses, read = plan(backend, params, model)
    rows, cols = np.nonzero(mask)
    records = []
    for k, pulse in enumerate(pulses):
        if should_stop():
            break
        backend.apply_pulses(mask, pulse)
        g = backend.read(mask, read)[rows, cols]
        t = backend.time_s
        phase = "LTP" if pulse.amplitude_v > 0 else "LTD"
        for r, c, gi in zip(rows, cols, g):
            rec = {"Device row": int(r), "Device col": int(c), "Phase": phase, "Pulse": k + 1,
                   "Amplitude (V)": pulse.amplitude_v, "Width (s)": pulse.width_s, "Conductance (S)": float(gi),
                   "Time (s)": t}
            records.append(rec)
            emit("results", rec)
        emit("progress", 100.0 * (k + 1) / len(pulses))
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def selection(layout: CellLayout, params: LtpLtdParams) -> np.ndarray:
    return device_set(layout, params.devices, params.n_devices)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Per phase: mean conductance at its first and last pulse, and the dynamic range reached."""
    out = {"devices": int(df.groupby(["Device row", "Device col"]).ngroups) if len(df) else 0}
    for phase in ("LTP", "LTD"):
        part = df[df["Phase"] == phase]
        if part.empty:
            continue
        by_pulse = part.groupby("Pulse")["Conductance (S)"].mean()
        out[phase] = {"g_first_s": float(by_pulse.iloc[0]), "g_last_s": float(by_pulse.iloc[-1]),
                      "pulses": int(by_pulse.size)}
    if "LTP" in out and "LTD" in out:
        out["on_off_ratio"] = out["LTP"]["g_last_s"] / out["LTD"]["g_last_s"]
    return out


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    """G vs pulse number: every device if few, else median, 10-90 % band and example devices."""
    fig, (ax,) = plotting.new_figure(width_in=6.4)
    traces = df.pivot_table(index=["Device row", "Device col"], columns="Pulse", values="Conductance (S)")
    g, ylabel = plotstyle.scaled(traces.to_numpy(), "conductance", "S")
    plotstyle.spread_band(ax, traces.columns.to_numpy(), g, [f"r{r} c{c}" for r, c in traces.index])
    ltd = df.loc[df["Phase"] == "LTD", "Pulse"]
    if len(ltd):
        ax.axvline(ltd.min() - 0.5, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("pulse number (LTP, then LTD after the dashed line)")
    ax.set_ylabel(ylabel)
    ax.set_title("LTP / LTD")
    plotstyle.integer_ticks(ax.xaxis)
    plotstyle.plain_ticks(ax)
    plotstyle.legend_outside(ax)
    return [plotting.save(fig, stem, "conductance")]


SPEC = ProcedureSpec(name="ltp_ltd", title="LTP/LTD pulse trains with bipolar reads (G vs pulse number)",
                     params_cls=LtpLtdParams, columns=COLUMNS, run=run_ltp_ltd, preflight=plan, analyse=analyse,
                     plot=plot, selection=selection, x_axis="Pulse", y_axis="Conductance (S)")


class LtpLtdProcedure(LabProcedure):
    """LTP/LTD pulse trains (pymeasure wrapper of :func:`run_ltp_ltd`)."""

    spec = SPEC


PROCEDURE = LtpLtdProcedure
