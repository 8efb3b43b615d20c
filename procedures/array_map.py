"""Array map: write a target pattern into all devices (weights analog, sparsity on/off), read it back.

Row by row, the weight devices are written
to ``weight_min + w * (weight_max - weight_min)`` of the model's conductance range, by write-verify or
open loop (reset, then the model's pulse count), and each sparsity device is switched on or off with
the sparsity operating point and verified. Outputs: weight, sparsity and error maps (PNG) and the
maps as HDF5 or npz.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import plotstyle
from labctl.backend import ArrayBackend
from labctl.cellwise import CellByCell
from labctl.layout import CellLayout, Role

from . import plotting
from .params import param, write_plan
from .patterns import target_pattern
from .spec import Emit, ProcedureSpec, model_of, never
from .wrapper import LabProcedure
from labctl.write_verify import averaged_read, nominal_step_s, write_verify

COLUMNS = ("Device row", "Device col", "Role", "Target", "Target conductance (S)", "Conductance (S)", "Error",
           "Pulses", "Converged", "Time (s)")
"""CSV columns. Target: weight in [0, 1] or sparsity bit; Error: (G - target) / range, or bit error."""
OPERATIONS = ("vector", "cell")
"""How the array is addressed: grouped (vector) or one device at a time (cell by cell)."""


@dataclass(frozen=True)
class ArrayMapParams:
    """Parameters of an array map."""

    pattern: str = param("gradient", "Pattern")
    """"gradient", "checkerboard", "random", or an image file (.npy / .png) scaled to the cell grid."""
    sparsity: float = param(0.5, "Sparsity", None, 0.0, 1.0)
    """Fraction of cells switched off (built-in patterns)."""
    pattern_seed: int = param(0, "Pattern seed", None, 0, 2**31 - 1)
    """Seed of the random parts of the pattern."""
    weight_min: float = param(0.1, "Lowest weight target", None, 0.0, 1.0)
    """Weight 0 maps to this fraction of the model's conductance range."""
    weight_max: float = param(0.9, "Highest weight target", None, 0.0, 1.0)
    """Weight 1 maps to this fraction of the model's conductance range."""
    write_verify: bool = param(True, "Write-verify")
    """Program by write-verify (else open loop: reset, then the model's pulse count)."""
    tolerance: float = param(0.03, "Tolerance", None, 0.001, 0.5)
    """Write-verify tolerance as a fraction of the conductance range."""
    max_pulses: int = param(300, "Pulse budget", None, 1, 100_000)
    """Most pulses per device in write-verify (and in an open-loop reset)."""
    reads_per_verify: int = param(2, "Reads per verify", None, 1, 100)
    """Reads averaged per verify reading."""
    width_s: float = param(0.0, "Pulse width", "s", 0.0, 10e-3)
    """Weight write-pulse width in s; 0 = the model's operating point."""
    amplitude_v: float = param(0.0, "Amplitude", "V", 0.0, 20.0)
    """Weight write-pulse amplitude magnitude in V; 0 = the model's operating point."""
    read_v: float = param(0.1, "Read voltage", "V", 0.0, 2.0)
    """Bipolar read voltage magnitude in V."""
    map_format: str = param("h5", "Map file format", choices=("h5", "npz"))
    """File format of the saved maps."""
    rows: int = param(0, "Rows mapped", None, 0, 100_000)
    """Device rows mapped, from row 0 (0 = every row of the array)."""
    operation: str = param("vector", "Operation", choices=OPERATIONS)
    """"vector": the backend groups devices into row/column-parallel trains and row reads;
    "cell": every pulse train and read addresses one device (``labctl.cellwise.CellByCell``)."""


def targets(layout: CellLayout, params: ArrayMapParams) -> tuple[np.ndarray, np.ndarray | None]:
    """Device-shaped weight targets in [0, 1] (NaN off weights) and sparsity bits (or None)."""
    rng = np.random.default_rng(params.pattern_seed)
    weights, on = target_pattern(params.pattern, layout.cell_shape, params.sparsity, rng)
    scaled = params.weight_min + weights * (params.weight_max - params.weight_min)
    w = layout.to_devices(scaled, Role.WEIGHT, fill=np.nan)
    s = layout.to_devices(on.astype(float), Role.SPARSITY, fill=np.nan) if layout.partner is Role.SPARSITY else None
    return w, s


def run_array_map(backend: ArrayBackend, params: ArrayMapParams, emit: Emit, *, model=None,
                  should_stop=never) -> dict:
    """Write and read the pattern, one device row at a time."""
    model = model_of(backend, model)
    if params.operation == "cell":
        backend = CellByCell(backend)
    layout, dev = backend.layout, model.weight
    p = write_plan(backend, params, model)
    up, down, read = p["up"], p["down"], p["read"]
    amp, width = up.amplitude_v, up.width_s
    w_target, s_target = targets(layout, params)
    if s_target is not None:
        s_on, s_off = p["s_on"], p["s_off"]
        s_threshold = np.sqrt(model.sparsity.g_min_s * model.sparsity.g_max_s)
    span = dev.g_max_s - dev.g_min_s
    g_target = dev.g_min_s + w_target * span
    records = []
    n_rows = min(params.rows or layout.shape[0], layout.shape[0])
    for r in range(n_rows):
        if should_stop():
            break
        row = np.zeros(layout.shape, dtype=bool)
        row[r] = True
        wmask = row & ~np.isnan(w_target)
        if params.write_verify:
            res = write_verify(backend, wmask, np.nan_to_num(g_target), up, down, read, params.tolerance * span,
                               params.max_pulses, nominal_step_s(dev, amp, width), params.reads_per_verify,
                               should_stop=should_stop)
            pulses, converged = res.pulses, res.converged
        else:
            pulses = _open_loop(backend, wmask, np.nan_to_num(w_target), up, down, dev, params.max_pulses)
            converged = np.zeros(layout.shape, dtype=bool)
        if s_target is not None:
            smask = row & ~np.isnan(s_target)
            pulses = pulses + _switch(backend, smask, s_target == 1, s_on, s_off, read, s_threshold, params.max_pulses)
        g = averaged_read(backend, row, read, params.reads_per_verify)
        t = backend.time_s
        for c in range(layout.shape[1]):
            if not np.isnan(w_target[r, c]):
                err = (g[r, c] - g_target[r, c]) / span
                ok = bool(converged[r, c]) if params.write_verify else abs(err) <= params.tolerance
                rec = _record(r, c, "weight", w_target[r, c], g_target[r, c], g[r, c], err, pulses[r, c], ok, t)
            else:
                bit = float(s_target[r, c])
                on = g[r, c] > s_threshold
                rec = _record(r, c, "sparsity", bit, model.sparsity.g_max_s if bit else model.sparsity.g_min_s,
                              g[r, c], float(on != bool(bit)), pulses[r, c], on == bool(bit), t)
            records.append(rec)
            emit("results", rec)
        emit("progress", 100.0 * (r + 1) / n_rows)
    return analyse(pd.DataFrame(records, columns=COLUMNS), params, model)


def _record(r, c, role, target, g_target, g, err, pulses, ok, t) -> dict:
    return {"Device row": r, "Device col": c, "Role": role, "Target": float(target),
            "Target conductance (S)": float(g_target), "Conductance (S)": float(g), "Error": float(err),
            "Pulses": int(pulses), "Converged": bool(ok), "Time (s)": t}


def _open_loop(backend, mask, w_target, up, down, dev, reset_pulses: int) -> np.ndarray:
    """Reset to the bottom, then the model's mean pulse count to each target (no reads)."""
    from device_models import physics

    backend.apply_pulses(mask, down, reset_pulses)
    side = dev.potentiation
    frac = float(physics.pulse_step(side, True, 0.0, up.amplitude_v, up.width_s, dev.reference_amplitude_v,
                                    dev.reference_width_s))
    # power shape, exponent 1: g_n = 1 - (1 - f)^n
    counts = np.where(mask, np.round(np.log1p(-np.clip(w_target, 0, 0.999)) / np.log1p(-frac)), 0).astype(np.int64)
    backend.apply_pulses(mask, up, counts)
    return np.where(mask, counts + reset_pulses, 0)


def _switch(backend, mask, want_on, s_on, s_off, read, threshold, budget) -> np.ndarray:
    """Switch sparsity devices on/off with one pulse each, re-pulsing those read on the wrong side."""
    pulses = np.zeros(backend.shape, dtype=np.int64)
    todo = mask.copy()
    while todo.any() and pulses.max() < budget:
        for pulse, sel in ((s_on, todo & want_on), (s_off, todo & ~want_on)):
            if sel.any():
                backend.apply_pulses(sel, pulse)
        pulses += todo
        on = backend.read(mask, read) > threshold
        todo = mask & (on != want_on)
    return pulses


def selection(layout: CellLayout, params) -> np.ndarray:
    return np.ones(layout.shape, dtype=bool)


def analyse(df: pd.DataFrame, params, model) -> dict:
    """Weight error statistics, convergence, sparsity bit errors, pulses used."""
    w = df[df["Role"] == "weight"]
    s = df[df["Role"] == "sparsity"]
    out = {"devices": int(len(df)), "weights": int(len(w)), "sparsity_devices": int(len(s)),
           "weight_rms_error": float(np.sqrt(np.mean(w["Error"] ** 2))) if len(w) else None,
           "weight_max_abs_error": float(w["Error"].abs().max()) if len(w) else None,
           "weights_converged": float(w["Converged"].astype(bool).mean()) if len(w) else None,
           "total_pulses": int(df["Pulses"].sum()), "map_format": params.map_format}
    if len(s):
        out["sparsity_bit_errors"] = int(s["Error"].sum())
        out["sparsity_on_fraction"] = float((s["Target"] == 1).mean())
    return out


def maps(df: pd.DataFrame, shape: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Device maps (NaN where not measured): conductance, target, error, pulses, role (1 = sparsity)."""
    shape = shape or (int(df["Device row"].max()) + 1, int(df["Device col"].max()) + 1)
    out = {k: np.full(shape, np.nan) for k in ("conductance_s", "target", "error", "pulses", "sparsity")}
    r, c = df["Device row"].to_numpy(), df["Device col"].to_numpy()
    out["conductance_s"][r, c] = df["Conductance (S)"]
    out["target"][r, c] = df["Target"]
    out["error"][r, c] = df["Error"]
    out["pulses"][r, c] = df["Pulses"]
    out["sparsity"][r, c] = (df["Role"] == "sparsity").astype(float)
    return out


def save_maps(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """Write the maps as HDF5 (``.h5``, one dataset each) or npz."""
    if path.suffix == ".h5":
        import h5py

        with h5py.File(path, "w") as f:
            for name, values in arrays.items():
                f.create_dataset(name, data=values)
    else:
        np.savez_compressed(path, **arrays)
    return path


def plot(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    m = maps(df)
    weight = np.where(m["sparsity"] == 0, m["conductance_s"], np.nan)
    sparse = np.where(m["sparsity"] == 1, m["conductance_s"], np.nan)
    fig, axes = plotting.new_figure(3 if np.isfinite(sparse).any() else 2, 4.2, 3.6)
    g, label = plotstyle.scaled(weight, "G", "S")
    plotting.show_map(fig, axes[0], g, "weight devices", label)
    plotting.show_map(fig, axes[1], m["error"], "error vs target", "(G - target) / range", "coolwarm",
                      vmin=-0.2, vmax=0.2)
    if len(axes) == 3:
        plotting.show_map(fig, axes[2], np.log10(sparse), "sparsity devices", "log10 G (S)", "magma")
    return [plotting.save(fig, stem, "maps")]


def save(df: pd.DataFrame, summary: dict, stem: Path) -> list[Path]:
    """The maps as arrays (``<stem>_maps.h5``, or ``.npz`` as the run's ``map_format`` says)."""
    fmt = "h5" if summary.get("map_format", "h5") == "h5" else "npz"
    return [save_maps(maps(df), stem.with_name(f"{stem.name}_maps.{fmt}"))]


SPEC = ProcedureSpec(name="array_map", title="Write and read all devices from a target pattern (maps, error map)",
                     params_cls=ArrayMapParams, columns=COLUMNS, run=run_array_map, preflight=write_plan,
                     analyse=analyse, plot=plot, save=save, selection=selection,
                     x_axis="Target conductance (S)", y_axis="Conductance (S)", map_z="Conductance (S)")


class ArrayMapProcedure(LabProcedure):
    """Array map (pymeasure wrapper of :func:`run_array_map`)."""

    spec = SPEC


PROCEDURE = ArrayMapProcedure
