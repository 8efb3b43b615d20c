"""GUI: the Catalog menu opens a cataloged headless run in the window's result browser (offscreen)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from labctl.backends import open_backend
from labctl.catalog.browser import procedure_runs, run_dialog
from labctl.gui import make_window
from procedures import run_procedure


def test_catalog_menu_loads_a_cataloged_run(qtbot, tmp_path, monkeypatch):
    with open_backend("sim", model="ning-mos2-fefet", seed=4) as chip:
        df, csv = run_procedure("ltp_ltd", chip, tmp_path / "headless", pulses=5, n_devices=2)
        run_procedure("retention", chip, tmp_path / "headless")  # another procedure: not listed
    window = make_window("ltp_ltd", tmp_path / "gui")
    qtbot.addWidget(window)
    assert [a.text() for a in window.menuBar().actions()] == ["&Catalog"]
    assert [r["primary_file"] for r in procedure_runs("ltp_ltd")] == ["ltp_ltd.csv"]

    dialog = run_dialog(window, "ltp_ltd")
    assert dialog.table.rowCount() == 1
    dialog.table.selectRow(0)
    monkeypatch.setattr(dialog, "exec", lambda: True)  # the user pressed Open
    window.open_cataloged_run(dialog=dialog)
    assert window.browser_widget.browser.topLevelItemCount() == 1
    (experiment,) = window.manager.experiments.queue
    assert experiment.results.data_filename == str(csv.resolve())
    _, y = experiment.curve_list[0].getData()
    assert len(y) == len(df)


def test_gui_run_is_cataloged(qtbot, tmp_path):
    from labctl.catalog import query

    window = make_window("ltp_ltd", tmp_path / "gui")
    qtbot.addWidget(window)
    procedure = window.make_procedure()
    procedure.pulses, procedure.n_devices, procedure.chip_id = 5, 1, "GUI"
    with qtbot.waitSignal(window.manager.finished, timeout=60_000):
        window.queue(procedure)
    (row,) = query().to_dict(orient="records")
    assert (row["kind"], row["name"], row["status"], row["chip_id"]) == ("procedure", "ltp_ltd", "complete", "GUI")
    assert row["parameters"]["pulses"] == 5 and row["folder"] == str((tmp_path / "gui").resolve())
