"""The GUI as a user meets it (offscreen): one window, device lines, a live map, failures, model chooser."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from pymeasure.display.Qt import QtWidgets  # noqa: E402

from device_models.modelfile import preset_names  # noqa: E402
from labctl.errors import ConfigError  # noqa: E402
from labctl.gui import ChooserWindow, make_window  # noqa: E402
from labctl.gui.curves import DeviceMap  # noqa: E402
from labctl.gui.inputs import OPEN_FILE, ModelInput  # noqa: E402
from labctl.gui.window import PANEL_WIDTH  # noqa: E402
from procedures import NAMES, read_records  # noqa: E402


def _queue(qtbot, window, signal="finished", **values):
    procedure = window.make_procedure()
    for key, value in values.items():
        setattr(procedure, key, value)
    with qtbot.waitSignal(getattr(window.manager, signal), timeout=60_000):
        window.queue(procedure)
    return window.manager.experiments.queue[-1]


def test_live_plot_draws_one_line_per_device(qtbot, tmp_path):
    window = make_window("ltp_ltd", tmp_path)
    qtbot.addWidget(window)
    experiment = _queue(qtbot, window, pulses=4, n_devices=3)
    curve = experiment.curve_list[0]
    curve.update_data()
    x, _ = curve.getData()
    connect = curve.opts["connect"]
    assert (connect == 0).sum() == 3  # a break after each device's last pulse
    for line in np.split(x, np.flatnonzero(connect == 0)[:-1] + 1):
        assert list(line) == list(range(1, 9))  # 4 LTP then 4 LTD pulses, never back to pulse 1


def test_array_map_draws_a_live_heat_map(qtbot, tmp_path):
    window = make_window("array_map", tmp_path)
    qtbot.addWidget(window)
    assert window.tabs.tabText(0) == "Device map"
    experiment = _queue(qtbot, window, rows=2, write_verify=False)
    (image,) = [c for c in experiment.curve_list if isinstance(c, DeviceMap)]
    image.update_data()
    df = read_records(experiment.data_filename)
    grid = image.image
    assert grid.shape == (2, 30) and np.isfinite(grid).sum() == len(df)
    g = df["Conductance (S)"].to_numpy()
    assert grid[df["Device row"], df["Device col"]] == pytest.approx(g)
    assert window.tabs.widget(0).bar.levels() == pytest.approx((g.min(), g.max()))


def test_failed_run_says_why_in_one_line_and_marks_its_csv(qtbot, tmp_path, recwarn):
    window = make_window("ltp_ltd", tmp_path)
    qtbot.addWidget(window)
    missing = tmp_path / "no-such-bench.yaml"
    experiment = _queue(qtbot, window, signal="failed", backend_spec="bench file", bench_file=str(missing))
    text = window.failure_label.text()
    assert not window.failure_label.isHidden() and "\n" not in text
    assert "no-such-bench.yaml" in text and "Traceback" not in text
    csv = tmp_path / experiment.data_filename
    assert csv.read_text().splitlines()[-1].startswith("#\tStatus: failed: ")
    meta = json.loads(csv.with_suffix(".json").read_text())
    assert meta["status"] == "failed" and "no-such-bench.yaml" in meta["error"]
    assert len(read_records(csv)) == 0
    _queue(qtbot, window, pulses=2, n_devices=1)  # the next run clears the message
    assert window.failure_label.isHidden()
    assert not [w for w in recwarn if "already added" in str(w.message)]  # the failed run's curve is loaded once


def test_model_is_picked_from_the_presets_or_a_file(qtbot, tmp_path, monkeypatch):
    window = make_window("ltp_ltd", tmp_path)
    qtbot.addWidget(window)
    chooser = window.inputs.model
    assert isinstance(chooser, ModelInput)
    items = [chooser.itemText(i) for i in range(chooser.count())]
    assert items == [*preset_names(), OPEN_FILE]
    assert window.make_procedure().model == "ning-mos2-fefet"
    model_file = tmp_path / "mine.json"
    model_file.write_text("{}")
    monkeypatch.setattr(ModelInput, "open_file", lambda self: str(model_file))  # the file dialog's answer
    chooser.activated.emit(chooser.count() - 1)
    assert window.make_procedure().model == str(model_file)
    assert chooser.itemText(chooser.count() - 1) == OPEN_FILE
    monkeypatch.setattr(ModelInput, "open_file", lambda self: "")  # cancelled: the choice stays
    chooser.activated.emit(chooser.count() - 1)
    assert window.make_procedure().model == str(model_file)


def test_parameter_panel_is_wide_enough_to_read(qtbot, tmp_path):
    window = make_window("transfer_curve", tmp_path)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    dock = window.findChild(QtWidgets.QDockWidget)
    assert dock.width() >= PANEL_WIDTH  # pymeasure's default: about 170 px


def test_gui_without_names_opens_one_window_with_a_procedure_chooser(qtbot, tmp_path, monkeypatch):
    from labctl.commands.gui import gui

    monkeypatch.setattr(QtWidgets.QApplication, "exec", lambda self: 0)  # no event loop in a test
    gui(None, tmp_path)
    shown = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
    assert len(shown) == 1 and isinstance(shown[0], ChooserWindow)
    chooser = shown[0]
    qtbot.addWidget(chooser)
    assert [chooser.procedures.itemData(i) for i in range(chooser.procedures.count())] == list(NAMES)
    assert list(chooser.windows) == ["ltp_ltd"]  # the others are built when chosen
    chooser.procedures.setCurrentIndex(NAMES.index("array_map"))
    assert list(chooser.windows) == ["ltp_ltd", "array_map"]
    assert chooser.stack.currentWidget() is chooser.windows["array_map"]
    assert not chooser.windows["array_map"].isWindow()
    with pytest.raises(ConfigError, match="procedure"):
        gui(["nope"], tmp_path)


def test_decades_are_shown_on_a_log_axis(qtbot, tmp_path):
    window = make_window("transfer_curve", tmp_path)
    qtbot.addWidget(window)
    widget = window.plot_widget
    assert widget.plot.getAxis("left").logMode and not widget.plot.getAxis("bottom").logMode
    widget.update_y_column(widget.columns_y.findText("Gate voltage (V)"))
    assert not widget.plot.getAxis("left").logMode
    retention = make_window("retention", tmp_path)
    qtbot.addWidget(retention)
    assert retention.plot_widget.plot.getAxis("bottom").logMode
