"""Symmetry point: N pulses of one polarity, N of the other, then alternating pulses (seed 002).

Under alternating up/down pulses of equal magnitude the conductance settles where one potentiating
and one depressing step cancel: the symmetry point, which moves with the pulse width. The device's
own bounds are measured first (saturating trains at ``bound_width_s``) so the point is reported in
normalised units of each device's range as well as in siemens. Several widths run in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from labctl.backend import ArrayBackend
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout

from . import plotting
from .params import checked_pulse, checked_read, device_set, param
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure

COLUMNS = ("Device row", "Device col", "Width (s)", "Phase", "Pulse", "Amplitude (V)", "Conductance (S)",
           "Normalised conductance", "Time (s)")
"""CSV columns. Phase: "bound" (saturating reads), "up", "down", "alternating"."""


@dataclass(frozen=True)
class SymmetryPointParams:
    """Parameters of a symmetry-point run."""

    devices: str = param("", "Devices")
    """Device set: "" (``n_devices`` weight devices spread over the array), "all", or "r:c,r:c"."""
    n_devices: int = param(8, "Number of devices", None, 1, 900)
    """Size of the default device set."""
    widths_s: str = param("", "Pulse widths", "s")
    """Comma-separated widths in s; "" = the model's operating point."""
    amplitudes_v: str = param("", "Amplitudes", "V")
    """Comma-separated amplitude magnitudes in V, one per width (or one for all); "" = the operating point."""
    pulses: int = param(50, "Pulses per polarity", None, 0, 100_000)
    """N: pulses of each polarity before the alternation (50/50 in seed 002)."""
    alternating: int = param(600, "Alternating pulses", None, 2, 1_000_000)
    """Pulses in the alternating phase (up, down, up, ...)."""
    settled_fraction: float = param(0.25, "Settled fraction", None, 0.05, 1.0)
    """Final fraction of the alternation averaged into the symmetry point."""
    bound_pulses: int = param(300, "Bound pulses", None, 1, 100_000)
    """Pulses of each saturating train that measures the device's bounds."""
    bound_width_s: float = param(100e-6, "Bound pulse width", "s", 0.0, 10e-3)
    """Width in s of the saturating pulses."""
    read_v: float = param(0.1, "Read voltage", "V", 0.0, 2.0)
    """Bipolar read voltage magnitude in V."""


def plan(backend: ArrayBackend, params: SymmetryPointParams, model) -> dict:
    """Pulses per width and the read, checked against the limits; nothing is sent."""
    op = model.operating_point
    widths = _floats("widths_s", params.widths_s) or [op.write_width_s]
    amps = _floats("amplitudes_v", params.amplitudes_v) or [op.write_amplitude_v]
    if len(amps) == 1:
        amps = amps * len(widths)
    if len(amps) != len(widths):
        raise field_error(ConfigError, "amplitudes_v", params.amplitudes_v, f"give one or {len(widths)} amplitudes")
    bound = max(amps)
    return {"widths": {w: (checked_pulse(backend.limits, "amplitudes_v / widths_s", a, w),
                           checked_pulse(backend.limits, "amplitudes_v / widths_s", -a, w))
                       for w, a in zip(widths, amps)},
            "bound": (checked_pulse(backend.limits, "bound_width_s", bound, params.bound_width_s),
                      checked_pulse(backend.limits, "bound_width_s", -bound, params.bound_width_s)),
            "read": checked_read(backend.limits, "read_v", params.read_v)}


def _floats(name: str, text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise field_error(ConfigError, name, text, "expected comma-separated numbers") from None


def run_symmetry_point(backend: ArrayBackend, params: SymmetryPointParams, emit: Emit, *, model=None,
                       should_stop=never) -> dict:
    """Measure bounds, then per width: N up, N down, alternating; return the symmetry points."""
    model = model_of(backend, model)
    mask = selection(backend.layout, params)
    p = plan(backend, params, model)
    read = p["read"]
    rows, cols = np.nonzero(mask)
    up_b, down_b = p["bound"]
    backend.apply_pulses(mask, up_b, params.bound_pulses)
    g_hi = backend.read(mask, read)[rows, cols]
    backend.apply_pulses(mask, down_b, params.bound_pulses)
    g_lo = backend.read(mask, read)[rows, cols]
    records = []

    def record(width, phase, k, amp, g):
        t = backend.time_s
        for r, c, gi, lo, hi in zip(rows, cols, g, g_lo, g_hi):
            rec = {"Device row": int(r), "Device col": int(c), "Width (s)": width, "Phase": phase, "Pulse": k,
                   "Amplitude (V)": amp, "Conductance (S)": float(gi),
                   "Normalised conductance": float((gi - lo) / (hi - lo)), "Time (s)": t}
            records.append(rec)
            emit("results", rec)

    for bound, amp, g in (("bound", up_b.amplitude_v, g_hi), ("bound", down_b.amplitude_v, g_lo)):
        record(params.bound_width_s, bound, 0, amp, g)
    per_width = params.alternating + 2 * params.pulses
    total = per_width * len(p["widths"])
    done = 0
    for width, (up, down) in p["widths"].items():
        backend.apply_pulses(mask, down_b, params.bound_pulses)  # every width starts from the bottom
        sequence = [("up", up)] * params.pulses + [("down", down)] * params.pulses
        sequence += [("alternating", up if k % 2 == 0 else down) for k in range(params.alternating)]
        for k, (phase, pulse) in enumerate(sequence, start=1):
            if should_stop():
                return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)
            backend.apply_pulses(mask, pulse)
            record(width, phase, k, pulse.amplitude_v, backend.read(mask, read)[rows, cols])
            done += 1
            if done % 10 == 0 or done == total:
                emit("progress", 100.0 * done / total)
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def selection(layout: CellLayout, params) -> np.ndarray:
    return device_set(layout, params.devices, params.n_devices)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Per width: symmetry point (normalised and in S), mean and spread over devices."""
    alt = df[df["Phase"] == "alternating"]
    out = {}
    for width, part in alt.groupby("Width (s)"):
        n_alt = part["Pulse"].max() - part["Pulse"].min() + 1
        settled = part[part["Pulse"] > part["Pulse"].max() - params.settled_fraction * n_alt]
        per_device = settled.groupby(["Device row", "Device col"])[["Normalised conductance", "Conductance (S)"]].mean()
        norm = per_device["Normalised conductance"]
        out[f"{width:g}"] = {"symmetry_point": float(norm.mean()), "spread": float(norm.std(ddof=1)) if len(norm) > 1 else 0.0,
                             "symmetry_point_s": float(per_device["Conductance (S)"].mean()),
                             "per_device": [round(float(v), 4) for v in norm]}
    for width, entry in out.items():
        amplitude = float(alt.loc[alt["Width (s)"] == float(width), "Amplitude (V)"].abs().max())
        entry["amplitude_v"] = amplitude
        entry["model_symmetry_point"] = model_symmetry_point(model, amplitude, float(width))
    return {"widths": out}


def model_symmetry_point(model, amplitude_v: float, width_s: float) -> float:
    """The model's nominal symmetry point at this pulse (power-law shapes; for comparison)."""
    from device_models import physics

    w = model.weight
    if w.potentiation.shape.kind != "power" or w.depression.shape.kind != "power":
        return float("nan")
    up = physics.switched_fraction(w.potentiation.kinetics, amplitude_v, width_s)
    down = physics.switched_fraction(w.depression.kinetics, amplitude_v, width_s)
    return float(physics.symmetry_state(up, down, w.potentiation.shape.exponent, w.depression.shape.exponent))


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    fig, (ax, ax2) = plotting.new_figure(2)
    pulses = df[df["Phase"] != "bound"]
    for width, part in pulses.groupby("Width (s)"):
        mean = part.groupby("Pulse")["Normalised conductance"].mean()
        ax.plot(mean.index, mean.values, lw=0.8, label=f"{width:g} s")
    ax.set_xlabel("pulse number (N up, N down, alternating)")
    ax.set_ylabel("normalised conductance")
    ax.set_title("symmetry point")
    ax.legend(fontsize="small")
    widths = summary.get("widths", {})
    if widths:
        x = [float(w) for w in widths]
        ax2.errorbar(x, [v["symmetry_point"] for v in widths.values()], [v["spread"] for v in widths.values()],
                     fmt="o", capsize=3)
        ax2.set_xscale("log")
    ax2.set_xlabel("pulse width (s)")
    ax2.set_ylabel("symmetry point (normalised)")
    return [plotting.save(fig, stem, "symmetry")]


SPEC = ProcedureSpec(name="symmetry_point", title="N up, N down, then alternating pulses: symmetry point per width",
                     params_cls=SymmetryPointParams, columns=COLUMNS, run=run_symmetry_point, preflight=plan,
                     analyse=analyse, plot=plot, selection=selection, x_axis="Pulse", y_axis="Normalised conductance",
                     not_curves=(("Phase", "bound"),))


class SymmetryPointProcedure(LabProcedure):
    """Symmetry point (pymeasure wrapper of :func:`run_symmetry_point`)."""

    spec = SPEC


PROCEDURE = SymmetryPointProcedure
