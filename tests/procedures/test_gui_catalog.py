"""GUI: the Catalog menu opens a cataloged headless run in the window's result browser (offscreen)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from labctl.backends import open_backend  # noqa: E402
from labctl.catalog.browser import procedure_runs, run_dialog  # noqa: E402
from labctl.commands.gui import make_window  # noqa: E402
from procedures import run_procedure  # noqa: E402


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
    x, y = experiment.curve_list[0].getData()
    assert len(y) == len(df)
