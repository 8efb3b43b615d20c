"""Importers: our procedure CSV, another lab's TSV with mapping options, and corrupt input."""

from __future__ import annotations

import numpy as np
import pytest

from device_models.errors import DataError
from device_models.fitting import fit_files
from device_models.importers import load_measurement
from labctl import PulseSpec, ReadSpec
from labctl.layout import CellLayout
from sim_backend import SimulatedArray

from .simdata import noisy_model, simulate_trains, write_procedure_csv


def test_procedure_csv_with_interleaved_devices(tmp_path):
    data = simulate_trains(noisy_model(), n_pulses=20, cycles=2, size=2, seed=1)
    ms = load_measurement(write_procedure_csv(data, tmp_path / "p.csv"))
    t = ms.table
    assert ms.metadata["Read voltage"] == "0.1 V" and ms.read_voltage_v == pytest.approx(0.1)
    assert ms.polarity == "positive"
    assert t.segment.nunique() == 4 * 2 * 2  # devices x phases x cycles
    assert (t.groupby("segment").size() == 20).all()
    first = t[t.segment == 0]
    assert first.device.nunique() == 1 and (first.phase == "LTP").all()
    assert first.conductance_s.iloc[-1] > 2 * first.conductance_s.iloc[0]


def _other_lab_file(path, sign_that_raises_g=-1, cycles=3, n=40):
    """One device, bipolar resistance read, a signed write-voltage ramp, a key: value header, tabs."""
    chip = SimulatedArray(noisy_model("ning-mos2-fefet", read_noise=0.01), seed=4, layout=CellLayout.dense(2, 2))
    mask = np.zeros((2, 2), dtype=bool)
    mask[0, 0] = True
    lines = ["Sample: wafer 3, die B7, device 12", "Instrument: Keithley 4200-SCS", "Read voltage: 100 mV",
             "Operator: someone else", "", "Pulse\tV_write\tR_neg_ohm\tR_pos_ohm"]
    k = 0
    ramp = np.linspace(3.3, 3.9, n)
    for _ in range(cycles):
        for label in (1, -1):  # file sign of the write voltage; positive lowers G in this lab
            for v in ramp:
                chip.apply_pulses(mask, PulseSpec(label * sign_that_raises_g * v, 10e-6))
                r_neg, r_pos = (1 / chip.read(mask, ReadSpec(0.1))[0, 0] for _ in range(2))
                k += 1
                lines.append(f"{k}\t{label * v:.3f}\t{r_neg:.6g}\t{r_pos:.6g}")
    path.write_text("\n".join(lines) + "\n")
    return path, chip


def test_other_lab_tsv_loads_and_fits_with_mapping_options_only(tmp_path):
    path, chip = _other_lab_file(tmp_path / "lab.txt")
    opts = dict(pulse_col="Pulse", amplitude_col="V_write", resistance_col="R_neg_ohm,R_pos_ohm", width_s=10e-6)
    ms = load_measurement(path, **opts)
    assert ms.metadata["Instrument"] == "Keithley 4200-SCS" and ms.read_voltage_v == pytest.approx(0.1)
    assert ms.polarity == "negative"
    assert set(ms.table.phase) == {"LTP", "LTD"} and ms.table.segment.nunique() == 6
    ltp = ms.table[ms.table.phase == "LTP"]
    assert ltp.conductance_s.iloc[-1] > ltp.conductance_s.iloc[0]
    result = fit_files([path], base_model="ning-mos2-fefet", **opts)
    w, pop = result.model.weight, chip._pops[0]
    assert w.g_max_s == pytest.approx(pop.g_max[0], rel=0.1)
    assert result.report.loc["LTP", "nrmse_mean"] < 0.05
    # a 3.3-3.9 V ramp (1.18x) keeps the base model's kinetics, says so, and is the model's protocol
    assert "LTP ramp 3.3..3.9 V is narrower than 2x: the base model's kinetics kept" in " ".join(result.decisions)
    assert w.potentiation.kinetics.activation_v == 100.0
    assert result.model.operating_point.ltp_ramp_v == pytest.approx((3.3, 3.9))


def test_turning_points_segment_a_file_without_amplitudes(tmp_path):
    path, _ = _other_lab_file(tmp_path / "lab.txt", cycles=2)
    text = path.read_text().replace("\tV_write", "").splitlines()
    body = [ln.split("\t") for ln in text[6:]]
    path.write_text("\n".join(text[:5] + ["Pulse\tR_neg_ohm\tR_pos_ohm"] + ["\t".join([b[0], *b[2:]]) for b in body]))
    ms = load_measurement(path, resistance_col="R_neg_ohm,R_pos_ohm")
    runs = ms.table.groupby("segment").agg(phase=("phase", "first"), n=("phase", "size"))
    # trains: depress (already at the bottom: flat), potentiate, depress, potentiate
    assert runs.phase.tolist() == ["LTP", "LTD", "LTP"]
    assert abs(runs.n.iloc[1] - 40) <= 6


@pytest.mark.parametrize("body, needle", [
    ("Pulse,G_S\nfoo,bar\n", "line 2: 'bar' is not a number"),
    ("Pulse,G_S\n", "no data rows"),
    ("Pulse,G_S\n1,nan\n2,\n3,NaN\n", "no numeric value"),
    ("Pulse,G_S\n1,1e-6\n2,1e-6\n3,1e-6\n4,1e-6\n", "constant"),
    ("Pulse,G_S\n1,1e-6\n", "only 1 reading"),
    ("Pulse,Current\n1,1e-6\n2,2e-6\n", "no conductance or resistance column"),
])
def test_corrupt_input_is_a_data_error(tmp_path, body, needle):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(DataError, match=needle):
        load_measurement(path)


def test_mapped_column_that_is_missing_is_named(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Pulse,G_S\n1,1e-6\n2,2e-6\n3,3e-6\n")
    with pytest.raises(DataError, match="no column 'R_ohm'"):
        load_measurement(path, resistance_col="R_ohm")


def test_single_pulse_per_train_cannot_be_fitted(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("V,G_S\n" + "".join(f"{(-1) ** i * 3},{1e-6 * (1 + i % 2)}\n" for i in range(8)))
    with pytest.raises(DataError, match="single pulses"):
        load_measurement(path, amplitude_col="V")
