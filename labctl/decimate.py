"""Display decimation for live plots: draw at most a few thousand points, keep every extreme.

A 900-device x 100-pulse run is 10^5 records; redrawing them all on every GUI update stalls the
window. ``peak_decimate`` splits the series into buckets and keeps each bucket's minimum and
maximum (in their original order), so spikes and outliers stay visible. Only what is drawn is
decimated: the CSV and the Results object keep every point.
"""

from __future__ import annotations

import numpy as np

MAX_DISPLAY_POINTS = 4000
"""Most points a live curve draws (two per bucket: its minimum and maximum)."""


def peak_decimate(x, y, max_points: int = MAX_DISPLAY_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) with at most ``max_points`` points: per bucket of consecutive points, its min and max of y.

    Series already short enough are returned unchanged (as arrays). NaN y values are ignored
    within a bucket; an all-NaN bucket contributes its first point.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = y.size
    if n <= max_points:
        return x, y
    buckets = max(max_points // 2, 1)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep = []
    for start, stop in zip(edges[:-1], edges[1:]):
        chunk = y[start:stop]
        if not np.isfinite(chunk).any():
            keep.append(start)
            continue
        lo, hi = start + int(np.nanargmin(chunk)), start + int(np.nanargmax(chunk))
        keep.extend(sorted({lo, hi}))
    index = np.asarray(keep, dtype=np.int64)
    return x[index], y[index]
