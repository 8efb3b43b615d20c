"""Issue 21: one simulated measurement written in every file shape other labs export; each imports with
options only and fits to the device's own bounds, and its model replays the measured protocol."""

from __future__ import annotations

import numpy as np
import pytest

from device_models.errors import DataError
from device_models.fitting import fit_files
from device_models.importers import load_measurement
from device_models.tablefile import metadata_quantity
from labctl.layout import CellLayout
from sim_backend import SimulatedArray

from .shapes import SHAPES, one_column, one_device, savetxt
from .simdata import noisy_model, simulate_trains, write_procedure_csv

SEED = 3


@pytest.fixture(scope="module")
def hzo():
    """Trains of garg-hzo-2us (2 x 2 devices, 120 pulses per phase) and device (0, 0)'s true bounds."""
    model = noisy_model("garg-hzo-2us")
    data = simulate_trains(model, n_pulses=120, size=2, seed=SEED)
    pop = SimulatedArray(model, seed=SEED, layout=CellLayout.dense(2, 2), initial_state=0.0)._pops[0]
    return data, (pop.g_min[0], pop.g_max[0])


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_imports_with_options_and_fits_the_device(hzo, tmp_path, shape):
    data, (g_min, g_max) = hzo
    path, options = SHAPES[shape](one_device(data), tmp_path / f"{shape}.txt")
    result = fit_files([path], base_model="garg-hzo-2us", **options)
    w = result.model.weight
    assert w.g_min_s == pytest.approx(g_min, rel=0.1) and w.g_max_s == pytest.approx(g_max, rel=0.1)
    assert result.gate == [] and result.model.provenance["gate"] == "passed"
    assert result.model.provenance["replay"]["nrmse"] <= 0.1
    ms = result.measurements[0]
    assert ms.table.segment.nunique() == 2 and len(ms.table) == 240  # every reading, nothing else
    assert any(line.startswith("rows dropped") for line in ms.decisions)


def test_what_is_dropped_is_counted(hzo, tmp_path):
    dev = one_device(hzo[0])
    counts = {}
    for shape in ("placeholders", "truncated", "interleaved", "initial_set"):
        path, options = SHAPES[shape](dev, tmp_path / f"{shape}.txt")
        counts[shape] = load_measurement(path, **options).dropped
    assert counts == {"placeholders": {"non-physical G > 1 S (R < 1 ohm)": 20},
                      "truncated": {"truncated last line": 1},
                      "interleaved": {"rows not matching --rows": 480},
                      "initial_set": {"rows not matching --rows": 1}}


def test_header_values_and_duplicate_names(hzo, tmp_path):
    path, options = SHAPES["raw_export"](one_device(hzo[0]), tmp_path / "raw.txt")
    ms = load_measurement(path, **options)
    assert ms.read_voltage_v == pytest.approx(0.1)
    assert ms.table.width_s.iloc[0] == pytest.approx(2e-6)  # "Pulse width (us):2": unit in the key, no space
    assert "columns: header, line 4: 0='Voltage (V)', 1='Current (A)', 2='Voltage (V).1'" in ms.decisions[0]
    path, options = SHAPES["interleaved"](one_device(hzo[0]), tmp_path / "inter.txt")
    ms = load_measurement(path, **options)
    ltp = ms.table[ms.table.phase == "LTP"].amplitude_v
    assert (ltp > 0).all() and ms.table[ms.table.phase == "LTD"].amplitude_v.lt(0).all()  # from the header block
    assert metadata_quantity({"t_pulse_ms": "100"}, (r"t_?pulse",), "s") == (pytest.approx(0.1), "t_pulse_ms")
    assert metadata_quantity({"Pulse width": "20 ns"}, (r"width",), "s")[0] == pytest.approx(20e-9)


def test_one_sided_file_and_one_column_give_the_same_bounds(hzo, tmp_path):
    data = hzo[0]
    dev = one_device(data)
    ltp_only = data[(data["Phase"] == "LTP") & (data["Device row"] == 0) & (data["Device col"] == 0)]
    full = write_procedure_csv(ltp_only, tmp_path / "ltp.csv")
    with pytest.raises(DataError, match="only LTP trains found: fit one branch with --branch ltp"):
        fit_files([full])
    one_sided = fit_files([full], branch="ltp").model.weight
    path, options = one_column(dev, tmp_path / "one.csv")
    column = fit_files([path], **options)
    w = column.model.weight
    assert w.g_min_s == pytest.approx(one_sided.g_min_s, rel=0.02)
    assert w.g_max_s == pytest.approx(one_sided.g_max_s, rel=0.02)
    assert w.g_max_s == pytest.approx(hzo[1][1], rel=0.1)
    assert list(column.report.index) == ["LTP"] and column.gate == []
    base = noisy_model("garg-hzo-2us").weight.depression
    assert w.depression == base  # a power step: the base's LTD unchanged under the new reference pulse
    assert any("LTD step curve and kinetics from base model" in a for a in column.model.provenance["assumptions"])


def test_log_device_is_fitted_on_a_log_axis(tmp_path):
    import dataclasses

    base = noisy_model("garg-hzo-2us")
    model = dataclasses.replace(base, weight=dataclasses.replace(base.weight, conductance_scale="log",
                                                                 g_min_s=1e-8, g_max_s=1e-6))
    data = simulate_trains(model, n_pulses=80, size=2, seed=SEED)
    pop = SimulatedArray(model, seed=SEED, layout=CellLayout.dense(2, 2), initial_state=0.0)._pops[0]
    path, options = savetxt(one_device(data), tmp_path / "log.csv")
    result = fit_files([path], **options)
    w = result.model.weight
    assert w.conductance_scale == "log" and any(d.startswith("scale: log (auto") for d in result.decisions)
    assert pop.g_min[0] / 2 < w.g_min_s < 2 * pop.g_min[0] and pop.g_max[0] / 2 < w.g_max_s < 2 * pop.g_max[0]
    assert result.model.provenance["replay"]["nrmse"] <= 0.1
    linear = fit_files([path], scale="linear", **options)
    assert any(r.startswith("Gmin") for r in linear.gate)  # the linear axis misses a multi-decade bottom


def test_widths_no_instrument_applies_are_refused(hzo, tmp_path):
    path, options = savetxt(one_device(hzo[0]), tmp_path / "w.csv")
    for width in (5e-9, 10.0):
        with pytest.raises(DataError, match=f"pulse width {width:g} s: no instrument applies it"):
            fit_files([path], width_s=width)
    assert np.isfinite(fit_files([path], width_s=0.1).model.weight.g_max_s)  # 100 ms: SMU pulsed mode


def test_docs_example_files_are_what_the_generator_writes(tmp_path):
    from pathlib import Path

    from .shapes import write_docs_examples

    shipped = Path(__file__).resolve().parents[2] / "docs" / "data" / "own-data"
    for path in write_docs_examples(tmp_path):
        assert (shipped / path.name).read_bytes() == path.read_bytes(), path.name
