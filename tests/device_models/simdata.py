"""Measured-like pulse-train data from the simulated chip, written in our procedure's CSV format.

Test support only: the simulator stands in for the bench (apply a pulse to every device, read all).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import load_model
from device_models.params import Kinetics
from device_models.importers import PROCEDURE_COLUMNS
from labctl import PulseSpec, ReadSpec
from labctl.layout import CellLayout
from sim_backend import SimulatedArray


def noisy_model(preset="garg-hzo-2us", **variation):
    """A preset (or model) with its variation fields replaced (e.g. ``read_noise=0``)."""
    model = load_model(preset)
    var = dataclasses.replace(model.weight.variation, **variation)
    return dataclasses.replace(model, weight=dataclasses.replace(model.weight, variation=var))


def simulate_trains(model, n_pulses: int = 120, cycles: int = 1, size: int = 8, seed: int = 0,
                    ramp_v: tuple[float, float] | None = None, ltd_ramp_v: tuple[float, float] | None = None,
                    ) -> pd.DataFrame:
    """LTP then LTD trains on every device of a ``size`` x ``size`` dense array, read after each pulse.

    Fixed amplitude (the operating point) by default; ``ramp_v`` = (first, last) amplitude magnitude
    of a linear ramp over each train (``ltd_ramp_v``: another one for the LTD trains).
    """
    chip = SimulatedArray(model, seed=seed, layout=CellLayout.dense(size, size), initial_state=0.0)
    op = chip.model.operating_point
    mask = np.ones((size, size), dtype=bool)
    rows, cols = np.nonzero(mask)
    read = ReadSpec(voltage_v=op.read_v)
    amps = np.linspace(*ramp_v, n_pulses) if ramp_v else np.full(n_pulses, op.write_amplitude_v)
    ramps = {"LTP": amps, "LTD": np.linspace(*ltd_ramp_v, n_pulses) if ltd_ramp_v else amps}
    reads, pulses = [], []  # one table at the end: a DataFrame per read was most of the time taken here
    for _ in range(cycles):
        for phase, sign in (("LTP", 1), ("LTD", -1)):
            amps = ramps[phase]
            for k, amp in enumerate(amps):
                chip.apply_pulses(mask, PulseSpec(sign * amp, op.write_width_s))
                reads.append(chip.read(mask, read)[mask])
                pulses.append((phase, k + 1, sign * amp, chip.time_s))
    phase, pulse, amplitude, time_s = (np.repeat(np.array(v), rows.size) for v in zip(*pulses))
    return pd.DataFrame({"Device row": np.tile(rows, len(pulses)), "Device col": np.tile(cols, len(pulses)),
                         "Phase": phase, "Pulse": pulse, "Amplitude (V)": amplitude, "Width (s)": op.write_width_s,
                         "Conductance (S)": np.concatenate(reads), "Time (s)": time_s})[list(PROCEDURE_COLUMNS)]


def low_voltage_ramp_model():
    """A device switched by a low-voltage ramp: LTP from 0.05 to 1 V, LTD from -0.1 to -2 V (other
    activation voltages per polarity), 2 us pulses; nothing like the HZO presets' 100 V kinetics."""
    model = noisy_model("garg-hzo-2us")
    w = model.weight
    up = dataclasses.replace(w.potentiation, kinetics=Kinetics(w_max=0.5, tau0_s=2.5e-5, activation_v=3.0, beta=0.5))
    down = dataclasses.replace(w.depression, kinetics=Kinetics(w_max=0.5, tau0_s=2.5e-5, activation_v=6.0, beta=0.5))
    weight = dataclasses.replace(w, potentiation=up, depression=down, reference_amplitude_v=1.0, reference_width_s=2e-6)
    op = dataclasses.replace(model.operating_point, write_amplitude_v=1.0, write_width_s=2e-6)
    return dataclasses.replace(model, name="low-voltage-ramp", weight=weight, operating_point=op)


LOW_VOLTAGE_RAMPS = {"ramp_v": (0.05, 1.0), "ltd_ramp_v": (0.1, 2.0)}
"""The measured protocol of :func:`low_voltage_ramp_model` (``simulate_trains`` keywords)."""


def write_procedure_csv(data: pd.DataFrame, path: Path, parameters: dict | None = None) -> Path:
    """Write ``data`` with a pymeasure Results-style header, as the pulse-train procedure does."""
    lines = ["#Procedure: <procedures.pulse_train.PulseTrainProcedure>", "#Parameters:"]
    lines += [f"#\t{k}: {v}" for k, v in (parameters or {"Read voltage": "0.1 V"}).items()]
    lines.append("#Data:")
    path.write_text("\n".join(lines) + "\n" + data.to_csv(index=False))
    return path
