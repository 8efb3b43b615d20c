"""``labctl gui``: a pymeasure ManagedWindow per procedure (backend selector, live plot, queue, browser).

The windows run the very Procedure classes ``labctl run`` uses, so GUI and headless files share
header and columns; after each run the procedure writes its PNG plots and ``<stem>.json`` next to the
CSV. Qt is imported only when the command runs (PySide6: ``pip install labctl[gui]``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import typer

from labctl.errors import ConfigError, field_error


@functools.cache
def decimated_curve_class():
    """pymeasure's ``ResultsCurve`` drawing at most ``MAX_DISPLAY_POINTS`` (peak decimation).

    Long runs (10^5 records) stay responsive: the curve reads the whole Results data and draws a
    min/max-per-bucket subset; the CSV and ``results.data`` keep every point.
    """
    from pymeasure.display.curves import ResultsCurve

    from labctl.decimate import MAX_DISPLAY_POINTS, peak_decimate

    class DecimatedCurve(ResultsCurve):
        max_points = MAX_DISPLAY_POINTS

        def update_data(self):
            if self.force_reload:
                self.results.reload()
            data = self.results.data
            self.setData(*peak_decimate(data[self.x], data[self.y], self.max_points))

    return DecimatedCurve


def make_window(name: str, directory: str | Path):
    """The ManagedWindow of procedure ``name`` saving into ``directory`` (a QApplication must exist)."""
    from pymeasure.display.curves import ResultsCurve
    from pymeasure.display.windows import ManagedWindow
    from pymeasure.experiment import Results, unique_filename

    from procedures import get_spec, procedure_class
    from procedures.params import describe
    from procedures.wrapper import COMMON_FIELDS

    spec = get_spec(name)
    cls = procedure_class(name)
    inputs = [*COMMON_FIELDS, *(i.name for i in describe(spec.params_cls))]

    class ProcedureWindow(ManagedWindow):
        """One procedure: parameters on the left, live plot, queue and browser of past results."""

        def __init__(self):
            super().__init__(procedure_class=cls, inputs=inputs, displays=("backend_spec", "model", "seed"),
                             x_axis=spec.x_axis, y_axis=spec.y_axis, inputs_in_scrollarea=True,
                             enable_file_input=False)
            self.setWindowTitle(f"labctl: {name}, {spec.title}")
            self.output_dir = Path(directory)
            action = self.menuBar().addMenu("&Catalog").addAction("Open cataloged run...")
            action.triggered.connect(self.open_cataloged_run)

        def open_cataloged_run(self, checked=False, dialog=None):
            """Pick runs of this procedure from the run catalog and load them into the browser."""
            from labctl.catalog.browser import load_into_browser, run_dialog

            dialog = dialog or run_dialog(self, name)
            if dialog.exec():
                for csv in dialog.selected_csv():
                    load_into_browser(self, csv)

        def new_curve(self, wdg, results, color=None, **kwargs):
            curve = super().new_curve(wdg, results, color, **kwargs)
            if type(curve) is ResultsCurve:  # the live plot's line: draw it decimated
                decimated = decimated_curve_class()(results, wdg=curve.wdg, x=curve.x, y=curve.y,
                                                    pen=curve.opts["pen"], antialias=False)
                decimated.setSymbol(None)
                decimated.setSymbolBrush(None)
                return decimated
            return curve

        def queue(self, procedure=None):
            procedure = procedure or self.make_procedure()
            self.output_dir.mkdir(parents=True, exist_ok=True)
            filename = unique_filename(str(self.output_dir), prefix=f"{name}_", datetimeformat="%Y%m%d-%H%M%S")
            procedure.data_filename = filename
            results = Results(procedure, filename)
            self.manager.queue(self.new_experiment(results))

    return ProcedureWindow()


def gui(
    procedures_: list[str] = typer.Argument(None, metavar="PROCEDURE",
                                            help="Procedures to open (default: all, one window each)."),
    out: Path = typer.Option(Path("runs"), "--out", help="Folder the runs are saved in."),
) -> None:
    """Open the bench GUI: one window per procedure."""
    os.environ.setdefault("QT_API", "pyside6")
    try:
        from pymeasure.display.Qt import QtWidgets
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        raise field_error(ConfigError, "gui", str(exc), "install the GUI extra: pip install 'labctl[gui]'") from None
    from procedures import NAMES

    names = procedures_ or list(NAMES)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    windows = [make_window(n, out) for n in names]
    for window in windows:
        window.show()
    app.exec()


def register(app: typer.Typer) -> None:
    app.command("gui")(gui)
