"""GUI: open a procedure window offscreen, queue a run on the simulated chip, check file and plot."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from labctl.backends import open_backend  # noqa: E402
from labctl.gui import make_window  # noqa: E402
from procedures import read_records, run_procedure  # noqa: E402


def _run_in_window(qtbot, tmp_path, name, **values):
    window = make_window(name, tmp_path / "gui")
    qtbot.addWidget(window)  # not shown: no paint events racing the worker thread (a PySide6 paint/GIL hang)
    procedure = window.make_procedure()
    for key, value in values.items():
        setattr(procedure, key, value)
    with qtbot.waitSignal(window.manager.finished, timeout=60_000):
        window.queue(procedure)
    csv = next((tmp_path / "gui").glob(f"{name}_*.csv"))
    return window, csv


@pytest.mark.plots
def test_gui_run_matches_headless_columns(qtbot, tmp_path):
    window, csv = _run_in_window(qtbot, tmp_path, "ltp_ltd", pulses=5, n_devices=2, seed=3)
    gui_df = read_records(csv)
    assert len(gui_df) == 2 * 2 * 5
    assert csv.with_name(csv.stem + "_conductance.png").stat().st_size > 1000
    header = csv.read_text()
    assert "#\tBackend: sim" in header and "#\tTemperature: 300.0 K" in header
    with open_backend("sim", model="ning-mos2-fefet", seed=3) as chip:
        headless, _ = run_procedure("ltp_ltd", chip, tmp_path / "headless", pulses=5, n_devices=2)
    assert list(gui_df.columns) == list(headless.columns)
    assert gui_df["Conductance (S)"].tolist() == pytest.approx(headless["Conductance (S)"].tolist())
    experiment = window.manager.experiments.queue[0]  # the live plot's curve holds the run's points
    curve = experiment.curve_list[0]
    curve.update_data()
    x, y = curve.getData()
    by_device = gui_df.sort_values(["Device row", "Device col"], kind="stable")  # one line per device
    assert len(y) == len(gui_df) and y == pytest.approx(by_device["Conductance (S)"].to_numpy())
    assert window.browser_widget.browser.topLevelItemCount() == 1


def _header(csv: Path) -> dict[str, str]:
    return dict(line[2:].split(": ", 1) for line in csv.read_text().splitlines() if line.startswith("#\t"))


def test_gui_header_records_the_backend_and_the_pulse_applied(qtbot, tmp_path):
    """A GUI run's header is written when it is queued, before the backend opens: it said ``Chip id:
    sim-chip`` on every backend and ``Pulse width: 0 s`` for the model's pulse. It must say what ran."""
    from device_models import load_model

    _, csv = _run_in_window(qtbot, tmp_path, "ltp_ltd", backend_spec="sim-instruments", model="garg-hzo-2us",
                            seed=6, pulses=2, n_devices=1)
    header, op = _header(csv), load_model("garg-hzo-2us").operating_point
    assert header["Chip id"] == "sim-instruments-seed6" and header["Backend"] == "sim-instruments"
    assert header["Instrument IDNs"].startswith("b1500=Agilent Technologies,B1500A")
    assert float(header["Pulse width"].split()[0]) == pytest.approx(op.write_width_s)
    assert float(header["Start amplitude"].split()[0]) == pytest.approx(0.95 * op.write_amplitude_v)
    assert len(read_records(csv)) == 2 * 2  # the rewritten header still reads as a Results file
    meta = json.loads(csv.with_suffix(".json").read_text())
    assert meta["parameters"]["chip_id"] == "sim-instruments-seed6" and meta["backend"]["kind"] == "sim-instruments"
    _, named = _run_in_window(qtbot, tmp_path / "named", "ltp_ltd", chip_id="wafer-3-C7", pulses=2, n_devices=1)
    assert _header(named)["Chip id"] == "wafer-3-C7"  # a chip id typed in the window is kept


SHORT_RUNS = {
    "ltp_ltd": {"pulses": 3, "n_devices": 1},
    "symmetry_point": {"n_devices": 1, "pulses": 3, "alternating": 4, "bound_pulses": 5},
    "retention": {"n_devices": 2, "levels": 2, "duration_s": 10.0, "points": 3, "reads_per_point": 1},
    "multistate": {"n_devices": 4, "levels": 2, "reads": 1},
    "transfer_curve": {"devices": "0:0", "gate_step_v": 0.5},
    "array_map": {"rows": 2, "write_verify": False},
}
"""Short parameters per procedure: each window's one run takes well under a second."""


def test_every_procedure_has_a_short_gui_run():
    from procedures import NAMES

    assert set(SHORT_RUNS) == set(NAMES)


@pytest.mark.parametrize("name", sorted(SHORT_RUNS))
@pytest.mark.plots
def test_each_procedure_window_runs(qtbot, tmp_path, name):
    """The first-day page's GUI: every procedure's window opens, runs once, saves CSV, JSON and plots."""
    window, csv = _run_in_window(qtbot, tmp_path, name, **SHORT_RUNS[name])
    assert re.fullmatch(rf"{name}_\d{{8}}-\d{{6}}_\d+\.csv", csv.name), csv.name  # as first-day.md says
    assert len(read_records(csv)) > 0
    summary = json.loads(csv.with_suffix(".json").read_text())
    assert summary["status"] == "completed"
    assert summary["plots"] and all((csv.parent / Path(png).name).exists() for png in summary["plots"])
    assert window.browser_widget.browser.topLevelItemCount() == 1
