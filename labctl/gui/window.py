"""One procedure's pymeasure ManagedWindow: parameters, live plots, queue, browser of past runs.

The window runs the very Procedure class ``labctl run`` uses, so GUI and headless files share
header and columns; after each run the procedure writes its PNG plots and ``<stem>.json`` next to
the CSV. On top of pymeasure's window: one line per device in the live plot, a live heat map for
procedures that map the array, a one-line reason when a run fails (its CSV and JSON marked failed),
a model picked from the presets or a file, and a parameter panel wide enough to read.
"""

from __future__ import annotations

from pathlib import Path

from pymeasure.display.curves import ResultsCurve
from pymeasure.display.Qt import QtCore, QtWidgets
from pymeasure.display.windows import ManagedWindow
from pymeasure.experiment import Results, unique_filename

from . import refguard
from .curves import DeviceCurve, MapWidget
from .inputs import ModelInput

REFGUARD_MS = 5000
"""How often a window tops up the spare references of :mod:`labctl.gui.refguard`."""
PANEL_WIDTH = 340
"""Minimum width in px of the parameter panel (pymeasure's default sizes it to about 170 px)."""


def make_window(name: str, directory: str | Path, parent=None):
    """The window of procedure ``name`` saving into ``directory`` (a QApplication must exist)."""
    from procedures import get_spec, procedure_class
    from procedures.params import describe
    from procedures.runner import mark_failed
    from procedures.wrapper import COMMON_FIELDS

    spec = get_spec(name)
    cls = procedure_class(name)
    inputs = [*COMMON_FIELDS, *(i.name for i in describe(spec.params_cls))]

    class ProcedureWindow(ManagedWindow):
        """One procedure: parameters on the left, live plots, queue and browser of past results."""

        def __init__(self):
            maps = (MapWidget("Device map", cls.DATA_COLUMNS, spec.map_z),) if spec.map_z else ()
            super().__init__(procedure_class=cls, inputs=inputs, displays=("backend_spec", "model", "seed"),
                             x_axis=spec.x_axis, y_axis=spec.y_axis, inputs_in_scrollarea=True,
                             enable_file_input=False, widget_list=maps, parent=parent)
            self.setWindowTitle(f"labctl: {name}, {spec.title}")
            self.output_dir = Path(directory)
            action = self.menuBar().addMenu("&Catalog").addAction("Open cataloged run...")
            action.triggered.connect(self.open_cataloged_run)
            self._use_model_chooser()
            frame = self.plot_widget.plot_frame
            frame.x_axis_changed.connect(self._log_axes)
            frame.y_axis_changed.connect(self._log_axes)
            self._log_axes()
            self.findChild(QtWidgets.QDockWidget).setMinimumWidth(PANEL_WIDTH)
            self.inputs.parentWidget().layout().setStretchFactor(self.inputs, 1)  # the panel's full height
            self.failure_label = QtWidgets.QLabel(self)
            self.failure_label.setStyleSheet("color: #b00020; font-weight: bold; padding: 4px;")
            self.failure_label.setWordWrap(True)
            self.failure_label.hide()
            self.main.layout().insertWidget(0, self.failure_label)
            self.manager.failed.connect(self.run_failed)
            self.manager.running.connect(lambda experiment: self.failure_label.hide())
            refguard.top_up()
            self.refguard = QtCore.QTimer(self)
            self.refguard.timeout.connect(refguard.top_up)
            self.refguard.start(REFGUARD_MS)

        def _use_model_chooser(self):
            """The Model field as a preset list plus "Open file..." instead of free text."""
            typed = self.inputs.model
            chooser = ModelInput(typed.parameter, parent=typed.parentWidget())
            typed.parentWidget().layout().replaceWidget(typed, chooser)
            typed.deleteLater()
            self.inputs.model = chooser

        def _log_axes(self, column=None):
            """Decades (drain current, time after programming) on a log axis, the rest linear."""
            frame = self.plot_widget.plot_frame
            frame.plot.setLogMode(x=frame.x_axis in spec.log_columns, y=frame.y_axis in spec.log_columns)

        def open_cataloged_run(self, checked=False, dialog=None):
            """Pick runs of this procedure from the run catalog and load them into the browser."""
            from labctl.catalog.browser import load_into_browser, run_dialog

            dialog = dialog or run_dialog(self, name)
            if dialog.exec():
                for csv in dialog.selected_csv():
                    load_into_browser(self, csv)

        def new_curve(self, wdg, results, color=None, **kwargs):
            curve = super().new_curve(wdg, results, color, **kwargs)
            if type(curve) is ResultsCurve:  # the live plot's line: one per device, decimated
                lines = DeviceCurve(results, wdg=curve.wdg, x=curve.x, y=curve.y, pen=curve.opts["pen"],
                                    antialias=False, symbolPen=None, symbolBrush=curve.opts["pen"].color(),
                                    symbolSize=4)
                lines.not_curves = spec.not_curves
                lines.setSymbol(None)
                return lines
            return curve

        def queue(self, procedure=None):
            procedure = procedure or self.make_procedure()
            self.output_dir.mkdir(parents=True, exist_ok=True)
            filename = unique_filename(str(self.output_dir), prefix=f"{name}_", datetimeformat="%Y%m%d-%H%M%S")
            procedure.data_filename = filename
            results = Results(procedure, filename)
            self.manager.queue(self.new_experiment(results))

        def run_failed(self, experiment):
            """Say why in the window, and mark the CSV and its JSON failed."""
            procedure = experiment.procedure
            reason = procedure.failure or "failed (see the Experiment Log tab)"
            csv = Path(experiment.data_filename)
            mark_failed(procedure, csv, reason)
            self.failure_label.setText(f"{csv.name} failed: {reason}")
            self.failure_label.show()
            browser = experiment.browser_item.treeWidget()
            blocked = browser.blockSignals(True)  # a tooltip is item data: itemChanged would re-load its curves
            experiment.browser_item.setToolTip(0, reason)
            browser.blockSignals(blocked)
            self.finished(experiment)  # buttons as after any run's end (Abort off, Clear on)

    return ProcedureWindow()

