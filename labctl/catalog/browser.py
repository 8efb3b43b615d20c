"""The GUI's door into the catalog: pick a cataloged run, load its CSV into a window's result browser."""

from __future__ import annotations

from pathlib import Path

from .query import select_runs
from .store import Catalog

COLUMNS = ("id", "name", "status", "chip_id", "device_ids", "started", "primary_file")


def procedure_runs(name: str | None = None, catalog: Catalog | None = None) -> list[dict]:
    """Procedure runs (of ``name`` if given) whose CSV still exists, newest first."""
    rows = select_runs(catalog or Catalog(), {"kind": "procedure", "name": name})
    return [r for r in rows if (Path(r["folder"]) / r["primary_file"]).exists()]


def run_dialog(parent, name: str | None = None):
    """A modal dialog listing cataloged runs; ``dialog.selected_csv()`` after ``exec()``."""
    from pymeasure.display.Qt import QtWidgets

    rows = procedure_runs(name)

    class CatalogDialog(QtWidgets.QDialog):
        def __init__(self):
            super().__init__(parent)
            self.setWindowTitle(f"Cataloged runs{f' of {name}' if name else ''}")
            self.table = QtWidgets.QTableWidget(len(rows), len(COLUMNS), self)
            self.table.setHorizontalHeaderLabels(list(COLUMNS))
            self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
            self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
            self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
            for i, row in enumerate(rows):
                for j, column in enumerate(COLUMNS):
                    self.table.setItem(i, j, QtWidgets.QTableWidgetItem(str(row[column] or "")))
            self.table.doubleClicked.connect(self.accept)
            buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Open
                                                 | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
            buttons.accepted.connect(self.accept)
            buttons.rejected.connect(self.reject)
            layout = QtWidgets.QVBoxLayout(self)
            layout.addWidget(self.table)
            layout.addWidget(buttons)
            self.resize(900, 400)

        def selected_csv(self) -> list[Path]:
            picked = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
            return [Path(rows[i]["folder"]) / rows[i]["primary_file"] for i in picked]

    return CatalogDialog()


def load_into_browser(window, csv: Path) -> bool:
    """Load ``csv`` into ``window``'s browser and plot as pymeasure's Open does; False if already open."""
    from pymeasure.experiment import Results

    filename = str(csv)
    if filename in window.manager.experiments:
        return False
    experiment = window.new_experiment(Results.load(filename))
    for curve in experiment.curve_list:
        if curve:
            curve.update_data()
    experiment.browser_item.progressbar.setValue(100)
    window.manager.load(experiment)
    return True
