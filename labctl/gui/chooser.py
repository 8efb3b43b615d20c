"""The one window of ``labctl gui``: a procedure chooser over the procedures' windows.

Each procedure's window is built the first time it is chosen and kept (with its queue, plots and
browser) while another is shown, so a run continues when you look at a different procedure.
"""

from __future__ import annotations

from pathlib import Path

from pymeasure.display.Qt import QtCore, QtWidgets

from .window import make_window


class ChooserWindow(QtWidgets.QMainWindow):
    """A "Procedure:" list on top, the chosen procedure's window below."""

    def __init__(self, names: list[str], directory: str | Path):
        from procedures import get_spec

        super().__init__()
        self.names, self.directory = list(names), Path(directory)
        self.windows: dict = {}
        self.setWindowTitle("labctl gui")
        self.procedures = QtWidgets.QComboBox(self)
        for name in self.names:
            self.procedures.addItem(f"{name}: {get_spec(name).title}", name)
        self.procedures.currentIndexChanged.connect(lambda index: self.show_procedure(self.names[index]))
        bar = self.addToolBar("Procedure")
        bar.setMovable(False)
        bar.addWidget(QtWidgets.QLabel(" Procedure: ", self))
        bar.addWidget(self.procedures)
        self.stack = QtWidgets.QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.resize(1300, 850)
        self.show_procedure(self.names[0])

    def show_procedure(self, name: str):
        """Show (building it the first time) the window of procedure ``name``; return it."""
        if name not in self.windows:
            window = make_window(name, self.directory, parent=self.stack)
            window.setWindowFlags(QtCore.Qt.WindowType.Widget)  # a page of this window, not a window
            self.stack.addWidget(window)
            self.windows[name] = window
        self.stack.setCurrentWidget(self.windows[name])
        self.procedures.setCurrentIndex(self.names.index(name))
        self.setWindowTitle(self.windows[name].windowTitle())
        return self.windows[name]
