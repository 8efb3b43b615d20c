"""One measurement written in each file shape other labs export (issue 21), with the import options it needs.

Test support only. Input: one device's trains as :func:`simdata.simulate_trains` returns them
(procedure columns); each writer returns the file and the ``load_measurement`` options that map it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

READ_V = 0.1
"""Read voltage of every shape, in V."""


def one_device(data: pd.DataFrame, row: int = 0, col: int = 0) -> pd.DataFrame:
    """The readings of one device, in measurement order."""
    return data[(data["Device row"] == row) & (data["Device col"] == col)].reset_index(drop=True)


def _columns(dev: pd.DataFrame):
    return (dev["Pulse"].to_numpy(), dev["Amplitude (V)"].to_numpy(), dev["Conductance (S)"].to_numpy(),
            float(dev["Width (s)"].iloc[0]))


def headerless_tsv(dev, path: Path):
    """Tab-separated numbers, no header: pulse, write V, read V (negative), signed read current."""
    n, v, g, w = _columns(dev)
    path.write_text("".join(f"{a}\t{b:.4f}\t{-READ_V}\t{-gi * READ_V:.6e}\n" for a, b, gi in zip(n, v, g)))
    return path, dict(columns="n,v_write,v_read,i_read", pulse_col="n", amplitude_col="v_write",
                      read_voltage_col="v_read", current_col="i_read", width_s=w)


def headerless_by_number(dev, path: Path):
    """The same file, columns addressed by 0-based number only."""
    path, _ = headerless_tsv(dev, path)
    return path, dict(pulse_col="0", amplitude_col="1", read_voltage_col="2", current_col="3",
                      width_s=float(dev["Width (s)"].iloc[0]))


def savetxt(dev, path: Path):
    """numpy.savetxt with ``header=``: the column names on a ``# `` line."""
    n, v, g, w = _columns(dev)
    np.savetxt(path, np.column_stack([n, v, g]), delimiter=",", fmt="%.7g", header="pulse,amplitude_v,conductance_s")
    return path, dict(width_s=w)


def raw_export(dev, path: Path):
    """An SMU export: key:value block (unit in the key, space after the colon missing), duplicate names."""
    n, v, g, w = _columns(dev)
    lines = ["Setup:B1500A pulse-read", f"Pulse width (us):{w * 1e6:g}", f"Read voltage (V): {READ_V}",
             "Voltage (V)\tCurrent (A)\tVoltage (V)\tCurrent (A)\tResistance (Ohm)"]
    lines += [f"{b:.4f}\t{1e-9 * b:.3e}\t{READ_V}\t{gi * READ_V:.6e}\t{1 / gi:.6e}" for b, gi in zip(v, g)]
    path.write_text("\n".join(lines) + "\n")
    return path, dict(amplitude_col="Voltage (V)", resistance_col="Resistance (Ohm)")


def raw_export_currents(dev, path: Path):
    """The same export read through the second (duplicate-named) voltage and current columns."""
    path, _ = raw_export(dev, path)
    return path, dict(amplitude_col="0", current_col="Current (A).1", read_voltage_col="Voltage (V).1")


def interleaved(dev, path: Path):
    """write / rest / read rows; the amplitudes and width only in the header block (fixed-amplitude trains)."""
    n, v, g, w = _columns(dev)
    up, down = np.abs(v[v > 0]).mean(), np.abs(v[v < 0]).mean()
    lines = [f"Set voltage:{up:.3f} V", f"Reset voltage (V):{-down:.3f}", f"Pulse width:{w * 1e6:g} us",
             "Step,Type,Voltage (V),Current (A)"]
    for k, (b, gi) in enumerate(zip(v, g)):
        lines += [f"{3 * k},write,{b:.4f},{1e-9:.1e}", f"{3 * k + 1},rest,0,0", f"{3 * k + 2},read,{READ_V},{gi * READ_V:.6e}"]
    path.write_text("\n".join(lines) + "\n")
    return path, dict(rows="Type == 'read'", current_col="Current (A)", read_voltage_col="Voltage (V)")


def initial_set(dev, path: Path):
    """A first read after an initial SET (not part of the trains), then the trains."""
    n, v, g, w = _columns(dev)
    rows = [f"0,{abs(v).max() * 1.5:.3f},{g.max() * 1.05:.6e}"] + [f"{a},{b:.4f},{gi:.6e}" for a, b, gi in zip(n, v, g)]
    path.write_text("Pulse,V_write,G (S)\n" + "\n".join(rows) + "\n")
    return path, dict(rows="index > 0", width_s=w)


def repeated_currents(dev, path: Path, seed: int = 0):
    """Three repeated read-current columns of one read each (independent extra noise) to average."""
    n, v, g, w = _columns(dev)
    rng = np.random.default_rng(seed)
    i = g[:, None] * READ_V * (1 + 0.002 * rng.standard_normal((len(g), 3)))
    body = "".join(f"{a},{b:.4f},{c[0]:.6e},{c[1]:.6e},{c[2]:.6e}\n" for a, b, c in zip(n, v, i))
    path.write_text("pulse,V_write,I_read_1,I_read_2,I_read_3\n" + body)
    return path, dict(current_col="I_read_1,I_read_2,I_read_3", read_voltage=READ_V, width_s=w)


def placeholders(dev, path: Path):
    """Real rows, then rows of a preallocated array never filled (R = 2e-30 ohm, I = -5e28 A)."""
    n, v, g, w = _columns(dev)
    body = "".join(f"{a},{b:.4f},{1 / gi:.6e},{gi * READ_V:.6e}\n" for a, b, gi in zip(n, v, g))
    body += "".join(f"{len(n) + k},0,2e-30,-5e28\n" for k in range(1, 21))
    path.write_text("pulse,V_write,R_ohm,I_A\n" + body)
    return path, dict(resistance_col="R_ohm", width_s=w)


def truncated(dev, path: Path):
    """A file cut mid-number on its last line (no newline): ``1.48e-05`` became ``1.48``."""
    n, v, g, w = _columns(dev)
    body = "\n".join(f"{a},{b:.4f},{gi:.6e}" for a, b, gi in zip(n, v, g))
    path.write_text("pulse,amplitude,G_S\n" + body + f"\n{n[-1] + 1},{v[-1]:.4f},1.48")
    return path, dict(width_s=w)


SHAPES = {f.__name__: f for f in (headerless_tsv, headerless_by_number, savetxt, raw_export, raw_export_currents,
                                  interleaved, initial_set, repeated_currents, placeholders, truncated)}
"""Every shape, by name: ``writer(one_device_frame, path) -> (path, options)``."""


def one_column(dev: pd.DataFrame, path: Path, phase: str = "LTP"):
    """One phase's readings only, one number per line, no header."""
    g = dev.loc[dev["Phase"] == phase, "Conductance (S)"].to_numpy()
    path.write_text("".join(f"{x:.6e}\n" for x in g))
    return path, dict(conductance_col="0", branch=phase.lower(), width_s=float(dev["Width (s)"].iloc[0]))


def write_docs_examples(folder: Path) -> list[Path]:
    """The example files of docs/own-data.md: one device of garg-hzo-2us in every shape, the low-voltage ramp
    device, an LTP-only file, a multi-decade (log) device and 100 ms pulses. Run
    ``python -m tests.device_models.shapes docs/data/own-data`` to write them again (same seeds, same bytes)."""
    import dataclasses

    from .simdata import LOW_VOLTAGE_RAMPS, low_voltage_ramp_model, noisy_model, simulate_trains

    folder.mkdir(parents=True, exist_ok=True)
    hzo = one_device(simulate_trains(noisy_model("garg-hzo-2us"), n_pulses=100, size=1, seed=7))
    paths = [writer(hzo, folder / f"{name}.{'tsv' if 'headerless' in name or 'raw' in name else 'csv'}")[0]
             for name, writer in SHAPES.items() if name not in ("headerless_by_number", "raw_export_currents")]
    ramp = one_device(simulate_trains(low_voltage_ramp_model(), n_pulses=150, size=1, seed=7, **LOW_VOLTAGE_RAMPS))
    paths.append(savetxt(ramp, folder / "ramp.csv")[0])
    paths.append(one_column(hzo, folder / "ltp_only.csv")[0])
    base = noisy_model("garg-hzo-2us")
    log_model = dataclasses.replace(base, weight=dataclasses.replace(base.weight, conductance_scale="log",
                                                                     g_min_s=1e-8, g_max_s=1e-6))
    paths.append(savetxt(one_device(simulate_trains(log_model, n_pulses=100, size=1, seed=7)), folder / "decades.csv")[0])
    long = hzo.assign(**{"Width (s)": 0.1})
    paths.append(raw_export(long, folder / "long_pulses.tsv")[0])
    return paths


if __name__ == "__main__":
    import sys

    for written in write_docs_examples(Path(sys.argv[1])):
        print(written)
