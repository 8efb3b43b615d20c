"""Live plot items of ``labctl gui`` on pymeasure's widgets: device lines, and a device heat map tab.

:class:`DeviceCurve` replaces pymeasure's ``ResultsCurve`` in the Results Graph: one line per
device, peak-decimated (the CSV and ``results.data`` keep every point). :class:`MapWidget` is a
tab like pymeasure's ``ImageWidget``, but placed by the records' device row and column rather than
by x/y start-stop-step parameters, which an array map does not have.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pymeasure.display.curves import ResultsCurve
from pymeasure.display.Qt import QtCore, QtWidgets
from pymeasure.display.widgets.plot_frame import PlotFrame
from pymeasure.display.widgets.tab_widget import TabWidget

from labctl.decimate import MAX_DISPLAY_POINTS

from .views import device_grid, device_lines


class DeviceCurve(ResultsCurve):
    """The live plot's curve: one line per device (no line joins two devices), at most ``max_points``."""

    max_points = MAX_DISPLAY_POINTS
    not_curves: tuple[tuple[str, str], ...] = ()
    """(column, value) of records left out of the lines (:attr:`procedures.spec.ProcedureSpec.not_curves`)."""

    def update_data(self):
        if self.force_reload:
            self.results.reload()
        x, y, connect = device_lines(self.results.data, self.x, self.y, self.max_points, self.not_curves)
        self.setData(x, y, connect=connect)
        symbol = None if connect.any() else "o"  # one point per device: dots, not empty lines
        if symbol != self.opts["symbol"]:
            self.setSymbol(symbol)


class DeviceMap(pg.ImageItem):
    """One run's column ``z`` as an image over the array (row down, column across), redrawn live."""

    def __init__(self, results, z: str, wdg=None, force_reload: bool = False):
        super().__init__(axisOrder="row-major")
        self.results, self.z, self.wdg, self.force_reload = results, z, wdg, force_reload
        self.x = self.y = None  # PlotFrame sets these on axis changes; a map has no x/y columns

    def update_data(self):
        if self.force_reload:
            self.results.reload()
        grid = device_grid(self.results.data, self.z)
        self.setImage(grid, autoLevels=False)
        finite = grid[np.isfinite(grid)]
        if finite.size and self.wdg is not None:
            low, high = float(finite.min()), float(finite.max())
            self.wdg.bar.setLevels((low, high if high > low else low + abs(low) * 1e-6 + 1e-30))


class MapFrame(PlotFrame):
    """pymeasure's PlotFrame refreshing :class:`DeviceMap` items, rows downwards, square cells."""

    ResultsClass = DeviceMap

    def __init__(self, refresh_time=0.2, check_status=True, parent=None):
        super().__init__("Device col", "Device row", refresh_time, check_status, parent)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "column", **self.LABEL_STYLE)
        self.plot.setLabel("left", "row", **self.LABEL_STYLE)


class MapWidget(TabWidget, QtWidgets.QWidget):
    """A "Device map" tab: the chosen column at each device, with a colour bar."""

    def __init__(self, name, columns, z_axis, refresh_time=0.2, check_status=True, parent=None):
        super().__init__(name, parent)
        self.columns = columns
        self.frame = MapFrame(refresh_time, check_status, parent=self)
        self.plot = self.frame.plot
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False)
        self.bar.setImageItem([], insert_in=self.plot)
        self._label_bar(z_axis)
        self.columns_z = QtWidgets.QComboBox(self)
        self.columns_z.addItems(list(columns))
        self.columns_z.setCurrentText(z_axis)
        self.columns_z.activated.connect(self.update_z_column)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Colour:", self))
        row.addWidget(self.columns_z, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.frame)

    def _label_bar(self, column: str) -> None:
        label, units = self.frame.parse_axis(column)  # "Conductance (S)": pyqtgraph puts the SI prefix
        self.bar.axis.setLabel(label.strip(), units=units)

    @property
    def z_axis(self) -> str:
        return self.columns_z.currentText()

    def sizeHint(self):
        return QtCore.QSize(300, 600)

    def new_curve(self, results, color=None, **kwargs):
        return DeviceMap(results, self.z_axis, wdg=self)

    def load(self, curve):
        curve.z = self.z_axis
        self.plot.addItem(curve)
        self.bar.setImageItem(curve)  # the colour bar follows the newest map
        curve.update_data()

    def remove(self, curve):
        self.plot.removeItem(curve)

    def update_z_column(self, index):
        self._label_bar(self.z_axis)
        for item in self.plot.items:
            if isinstance(item, DeviceMap):
                item.z = self.z_axis
                item.update_data()
