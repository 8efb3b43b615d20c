"""GUI: open a procedure window offscreen, queue a run on the simulated chip, check file and plot."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from labctl.backends import open_backend  # noqa: E402
from labctl.commands.gui import make_window  # noqa: E402
from procedures import read_records, run_procedure  # noqa: E402


def _run_in_window(qtbot, tmp_path, name, **values):
    window = make_window(name, tmp_path / "gui")
    qtbot.addWidget(window)
    window.show()
    procedure = window.make_procedure()
    for key, value in values.items():
        setattr(procedure, key, value)
    with qtbot.waitSignal(window.manager.finished, timeout=60_000):
        window.queue(procedure)
    csv = next((tmp_path / "gui").glob(f"{name}_*.csv"))
    return window, csv


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
    assert len(y) == len(gui_df) and y == pytest.approx(gui_df["Conductance (S)"].to_numpy())
    assert window.browser_widget.browser.topLevelItemCount() == 1
