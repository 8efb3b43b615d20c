"""What the live plots draw: one line per device (not one sawtooth through all), a device grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from labctl.gui.views import device_grid, device_lines


def _records(devices=3, pulses=5):
    """Records as a procedure emits them: every device at pulse 1, then every device at pulse 2, ..."""
    rows = [{"Device row": d, "Device col": 2 * d, "Pulse": p, "Conductance (S)": 1e-6 * (d + 1) * p}
            for p in range(1, pulses + 1) for d in range(devices)]
    return pd.DataFrame(rows)


def _segments(x, y, connect):
    ends = np.flatnonzero(connect == 0)
    starts = np.r_[0, ends[:-1] + 1]
    return [(x[s:e + 1], y[s:e + 1]) for s, e in zip(starts, ends)]


def test_each_device_is_its_own_line():
    x, y, connect = device_lines(_records(), "Pulse", "Conductance (S)")
    segments = _segments(x, y, connect)
    assert len(segments) == 3 and connect[-1] == 0
    for d, (sx, sy) in enumerate(segments):
        assert list(sx) == [1, 2, 3, 4, 5]  # rising within a device: no jump back to pulse 1 mid-line
        np.testing.assert_allclose(sy, 1e-6 * (d + 1) * sx)


def test_pulse_widths_are_separate_lines_and_a_device_axis_stays_one_line():
    df = pd.concat([_records(2, 4).assign(**{"Width (s)": w}) for w in (2e-8, 2e-6)], ignore_index=True)
    _, _, connect = device_lines(df, "Pulse", "Conductance (S)")
    assert (connect == 0).sum() == 4  # 2 devices x 2 widths
    x, _, connect = device_lines(_records(), "Device col", "Conductance (S)")
    assert connect.all() and len(x) == 15


def test_many_devices_are_decimated_per_device_keeping_the_extremes():
    df = _records(devices=900, pulses=100)
    x, y, connect = device_lines(df, "Pulse", "Conductance (S)", max_points=4000)
    assert len(y) <= 4000 and (connect == 0).sum() == 900
    assert y.max() == df["Conductance (S)"].max() and y.min() == df["Conductance (S)"].min()


def test_device_grid_places_values_and_leaves_the_rest_empty():
    df = pd.DataFrame({"Device row": [0, 1, 1], "Device col": [0, 2, 2], "Conductance (S)": [1.0, 2.0, 3.0]})
    grid = device_grid(df, "Conductance (S)")
    assert grid.shape == (2, 3) and grid[0, 0] == 1.0 and grid[1, 2] == 3.0  # the newest reading of a device
    assert np.isnan(grid).sum() == 4


def test_symmetry_point_bound_readings_are_not_joined_to_the_pulse_curve(ning, collect):
    """The bound readings (pulse 0, high then low) drawn with the curve of the same width made a vertical
    line and a join into pulse 1; the live plot leaves them out, as the procedure's own plot does."""
    from procedures.symmetry_point import SPEC, SymmetryPointParams, run_symmetry_point

    params = SymmetryPointParams(n_devices=2, pulses=3, alternating=4, bound_pulses=20, widths_s="1e-4",
                                 bound_width_s=1e-4)  # the bound readings' width is the curve's
    run_symmetry_point(ning, params, collect)
    data = pd.DataFrame(collect.records).astype(str)  # as pymeasure's Results hold them
    joined = _segments(*device_lines(data, "Pulse", "Normalised conductance"))
    assert len(joined) == 2 and all(sx[0] == 0 for sx, _ in joined)  # the bug this guards against
    segments = _segments(*device_lines(data, "Pulse", "Normalised conductance", not_curves=SPEC.not_curves))
    assert len(segments) == 2
    for sx, _ in segments:
        assert list(sx) == list(range(1, 2 * 3 + 4 + 1))  # one curve per device: pulse 1 to the last
