"""Long runs in the GUI: a 10^5-point result (900 devices x 100 pulses) draws a bounded curve; the CSV
and the Results data keep every point."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from labctl.decimate import MAX_DISPLAY_POINTS, peak_decimate

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")


def test_peak_decimation_keeps_extremes_and_order():
    rng = np.random.default_rng(0)
    x = np.arange(100_000, dtype=float)
    y = rng.normal(size=x.size)
    y[12_345], y[77_777], y[500] = 40.0, -40.0, np.nan
    xd, yd = peak_decimate(x, y, 1000)
    assert len(xd) <= 1000 and np.all(np.diff(xd) > 0)
    assert 40.0 in yd and -40.0 in yd and not np.isnan(yd).any()
    short_x, short_y = peak_decimate(x[:10], y[:10], 1000)
    np.testing.assert_array_equal(short_y, y[:10])


def _big_result(window, path, devices=900, pulses=100):
    """A ltp_ltd Results file with devices x pulses records, written as the Worker would (header + rows)."""
    from pymeasure.experiment import Results

    procedure = window.make_procedure()
    results = Results(procedure, str(path))
    rows, cols = np.divmod(np.arange(devices), 30)
    pulse = np.tile(np.arange(1, pulses + 1), devices)
    g = 1e-6 * (1 - np.exp(-pulse / 30.0)) * np.repeat(np.linspace(0.5, 1.5, devices), pulses)
    frame = pd.DataFrame({"Device row": np.repeat(rows, pulses), "Device col": np.repeat(cols, pulses),
                          "Phase": "potentiation", "Pulse": pulse, "Amplitude (V)": 4.0, "Width (s)": 1e-5,
                          "Conductance (S)": g})
    frame = frame.reindex(columns=procedure.DATA_COLUMNS, fill_value=0.0)
    frame.to_csv(path, mode="a", header=False, index=False)
    return results, frame


def test_live_plot_of_1e5_points_is_decimated_not_the_data(qtbot, tmp_path):
    pytest.importorskip("PySide6", reason="GUI extra not installed")
    pytest.importorskip("pytestqt", reason="pytest-qt not installed")
    from labctl.gui import make_window

    window = make_window("ltp_ltd", tmp_path)
    qtbot.addWidget(window)
    window.show()
    path = tmp_path / "long.csv"
    results, frame = _big_result(window, path)
    experiment = window.new_experiment(results)
    curve = experiment.curve_list[0]
    t0 = time.perf_counter()
    curve.update_data()
    window.plot_widget.plot.getViewBox().autoRange()
    qtbot.wait(10)
    drawn_s = time.perf_counter() - t0
    x, y = curve.getData()
    print(f"\n{len(results.data)} records, curve draws {len(y)} points, update + draw {drawn_s * 1e3:.0f} ms")
    assert len(results.data) == 900 * 100 == len(frame)
    with open(path) as f:
        assert sum(1 for line in f if not line.startswith("#")) == 900 * 100 + 1  # column line + every point
    assert len(y) <= MAX_DISPLAY_POINTS
    assert max(y) == pytest.approx(frame["Conductance (S)"].max())
    assert min(y) == pytest.approx(frame["Conductance (S)"].min())
