"""What the GUI's live plots draw, as plain arrays (no Qt): one line per device, and a device map.

A procedure emits one record per device per point (all devices at pulse 1, then all at pulse 2...).
Drawn in that order the devices join into one sawtooth line; :func:`device_lines` reorders them
into one line per device (and pulse width) with breaks between, peak-decimated to a bounded number
of points. :func:`device_grid` places a column's values at their device row and column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from labctl.decimate import MAX_DISPLAY_POINTS, peak_decimate

DEVICE = ("Device row", "Device col")
LINE_KEYS = (*DEVICE, "Width (s)")
"""Record columns that tell one drawn line from another: the device, and the pulse width it was driven at."""


def _numbers(data: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)


def device_lines(data: pd.DataFrame, x: str, y: str, max_points: int = MAX_DISPLAY_POINTS,
                 not_curves: tuple[tuple[str, str], ...] = ()):
    """(x, y, connect): each device's records in recorded order, a break after each device's last.

    ``connect[i]`` says whether point i joins point i + 1 (pyqtgraph's ``connect`` array). Past
    ``max_points`` records every line is peak-decimated to its share. When ``x`` is itself a
    device column (one point per device) the records stay one line. Records whose ``column`` holds
    ``value`` for a pair of ``not_curves`` are left out (readings that are no point of the curve).
    """
    for column, value in not_curves:
        if column in data.columns:
            data = data[data[column].astype(str) != value]
    keys = [k for k in LINE_KEYS if k in data.columns]
    if not len(data) or not keys or x in keys:
        xs, ys = peak_decimate(_numbers(data, x), _numbers(data, y), max_points)
        return xs, ys, np.ones(xs.size, dtype=np.int32)
    line = data.groupby(keys, sort=False).ngroup().to_numpy()
    order = np.argsort(line, kind="stable")
    xs, ys, line = _numbers(data, x)[order], _numbers(data, y)[order], line[order]
    starts = np.flatnonzero(np.r_[True, line[1:] != line[:-1]])
    ends = np.r_[starts[1:], line.size]
    share = line.size if line.size <= max_points else max(2, max_points // starts.size)
    parts_x, parts_y, parts_c = [], [], []
    for start, end in zip(starts, ends):
        px, py = peak_decimate(xs[start:end], ys[start:end], share)
        connect = np.ones(px.size, dtype=np.int32)
        connect[-1] = 0
        parts_x.append(px)
        parts_y.append(py)
        parts_c.append(connect)
    return np.concatenate(parts_x), np.concatenate(parts_y), np.concatenate(parts_c)


def device_grid(data: pd.DataFrame, z: str) -> np.ndarray:
    """``z`` at each device's (row, col), NaN where nothing was measured yet; the last record of a device wins."""
    if not len(data) or not set(DEVICE) <= set(data.columns):
        return np.full((1, 1), np.nan)
    rows = _numbers(data, DEVICE[0]).astype(int)
    cols = _numbers(data, DEVICE[1]).astype(int)
    grid = np.full((rows.max() + 1, cols.max() + 1), np.nan)
    grid[rows, cols] = _numbers(data, z)
    return grid
