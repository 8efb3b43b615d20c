"""The model chooser of the parameter panel: the shipped presets, files opened so far, "Open file...".

A pymeasure ``Input`` (the panel reads ``parameter.value`` from it) on a combo box, so a model is
picked, not typed: a typo cannot reach the run. The model Parameter stays a text parameter, so
headless runs and CSV headers take preset names and model JSON paths alike.
"""

from __future__ import annotations

from pymeasure.display.inputs import Input
from pymeasure.display.Qt import QtWidgets

from device_models.modelfile import preset_names

OPEN_FILE = "Open file..."
"""The last entry: pick a model JSON (``labctl fit`` writes one)."""


class ModelInput(Input, QtWidgets.QComboBox):
    """Presets, then opened model files, then "Open file..."."""

    def __init__(self, parameter, parent=None, **kwargs):
        super().__init__(parameter=parameter, parent=parent, **kwargs)
        self.activated.connect(self._picked)

    def set_parameter(self, parameter):
        if not self.count():
            self.addItems([*preset_names(), OPEN_FILE])
            self._last = 0
        super().set_parameter(parameter)

    def setValue(self, value):
        value = str(value)
        if self.findText(value) < 0:  # a model file: listed above "Open file..."
            self.insertItem(self.count() - 1, value)
        self.setCurrentIndex(self.findText(value))
        self._last = self.currentIndex()

    def setSuffix(self, value):
        pass

    def value(self):
        return self.itemText(self._last)

    def open_file(self) -> str:
        """Ask for a model JSON; return its path ("" if cancelled)."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Device model", "", "Model JSON (*.json);;All files (*)")
        return path

    def _picked(self, index):
        if self.itemText(index) != OPEN_FILE:
            self._last = index
            return
        path = self.open_file()
        if path:
            self.setValue(path)
        else:
            self.setCurrentIndex(self._last)
