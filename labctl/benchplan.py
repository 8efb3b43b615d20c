"""Pure planning for the bench: how an array operation becomes few routings and pulse trains.

No instrument is touched here, so the plans are unit-testable and the transaction count of an
operation can be predicted before anything is sent.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from .errors import ConfigError, field_error


def pulse_groups(counts: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Split a per-device pulse-count array into (rows, cols, count) crossings.

    Rows whose selected columns and count agree share one routing and one pulse train, so a uniform
    update of a whole block is one group, and one row of any pattern is at most one group per count.
    """
    groups: dict[tuple[bytes, int], list[int]] = defaultdict(list)
    for r in np.flatnonzero((counts > 0).any(axis=1)).tolist():  # rows with a pulse: most updates touch a few
        for n in np.unique(counts[r][counts[r] > 0]):
            cols = counts[r] == n
            groups[(cols.tobytes(), int(n))].append(r)
    out = []
    for (cols_bytes, n), rows in groups.items():
        row_mask = np.zeros(counts.shape[0], dtype=bool)
        row_mask[rows] = True
        out.append((row_mask, np.frombuffer(cols_bytes, dtype=bool).copy(), n))
    return out


def read_chunks(mask: np.ndarray, sensors: int) -> list[tuple[int, np.ndarray]]:
    """(row, columns) reads: one drive SMU per row, up to ``sensors`` column SMUs at a time."""
    out = []
    for r in np.flatnonzero(mask.any(axis=1)).tolist():  # rows with a device: most reads are of a few
        cols = np.flatnonzero(mask[r])
        for k in range(0, cols.size, sensors):
            out.append((r, cols[k:k + sensors]))
    return out


READ_ORDERS = ("rows", "columns")
"""Orders of a read's routings (:func:`read_steps`)."""


def read_steps(mask: np.ndarray, sensors: int, order: str = "rows") -> list[tuple[int, np.ndarray]]:
    """(row, columns) of each routing of a read of ``mask``, one drive SMU on the row and up to
    ``sensors`` column SMUs.

    ``rows``: each row's columns in chunks (:func:`read_chunks`; the column SMUs move at every routing).
    ``columns``: the mask's columns in chunks of ``sensors``, the drive stepping down the rows with a
    device in the chunk, then back up for the next chunk (the column SMUs move once per chunk, the drive
    at every routing; a row's devices outside the mask in a chunk are measured and discarded).
    The caller prices both with its relay map and takes the cheaper.
    """
    if order == "rows":
        return read_chunks(mask, sensors)
    if order != "columns":
        raise field_error(ConfigError, "read order", order, f"choose from {', '.join(READ_ORDERS)}")
    used = np.flatnonzero(mask.any(axis=0))
    out = []
    for k in range(0, used.size, sensors):
        chunk = used[k:k + sensors]
        rows = np.flatnonzero(mask[:, chunk].any(axis=1))
        out += [(int(r), chunk) for r in (rows if (k // sensors) % 2 == 0 else rows[::-1])]
    return out


def linear_segments(values: np.ndarray) -> list[tuple[int, int]]:
    """Split a sweep into maximal linear runs ``[start, stop)`` (each one staircase ``WV``).

    A triangle sweep -V..+V..-V becomes two runs; a single point is one run of length 1.
    """
    values = np.asarray(values, dtype=float)
    n = values.size
    out, start = [], 0
    while start < n:
        stop = min(start + 2, n)
        if stop - start == 2:
            step = values[start + 1] - values[start]
            tol = 1e-9 * max(1.0, abs(step))
            while stop < n and abs((values[stop] - values[stop - 1]) - step) <= tol and step != 0:
                stop += 1
            if step == 0:
                stop = start + 1
        out.append((start, stop))
        start = stop
    return out


def spgu_period_s(width_s: float, rise_s: float, fall_s: float) -> float:
    """Pulse period for a write train: the pulse plus an equal off time (SPGU minimum 20 ns)."""
    return max(2.0 * (width_s + rise_s + fall_s), 20e-9)
