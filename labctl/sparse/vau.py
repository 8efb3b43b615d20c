"""Vectorial approximate update (VAU): a weight update as two parallel steps, columns then rows.

Cell-by-cell programming gives every cell its own pulse count ``N_ij``: one bench train per cell,
O(rows x cols) transactions. A crossbar can instead pulse the crossing of a row set and a column set
in one V/2 operation (:meth:`ArrayBackend.apply_vector_update`) with one train length. VAU keeps the
sign of every cell's update exactly and approximates its magnitude additively,
``|N_ij| ~ c_j + r_i``: step 1 gives, per column j, ``c_j`` pulses to the rows whose update has each
sign (two vector operations per column); step 2 gives, per row i, ``r_i`` pulses to the columns of
each sign. That is 2 (rows + cols) operations at most, whatever the sparsity. *Our interpretation of
seed 000's Extended Data Fig. 5a* (the methods are not in our copy): a sign-exact, rank-limited
(row + column) magnitude fitted by least squares on the cells that get an update.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VauPlan:
    """The two steps of one VAU update of a ``rows x cols`` block of cells."""

    sign: np.ndarray
    """Polarity per cell: +1 LTP, -1 LTD, 0 untouched (int8, rows x cols)."""
    col_counts: np.ndarray
    """Step 1: pulses each column's signed cells receive (cols,)."""
    row_counts: np.ndarray
    """Step 2: pulses each row's signed cells receive (rows,)."""

    def delivered(self) -> np.ndarray:
        """Signed pulse count each cell receives in total (rows x cols)."""
        return self.sign * (self.col_counts[None, :] + self.row_counts[:, None])

    def operations(self) -> int:
        """Vector operations needed: one per (column or row, polarity) with pulses to give."""
        ops = 0
        for axis, counts in ((0, self.col_counts), (1, self.row_counts)):
            for polarity in (1, -1):
                has = np.any(self.sign == polarity, axis=axis)
                ops += int(np.sum(has & (counts > 0)))
        return ops


def plan_vau(counts: np.ndarray, max_pulses: int | None = None, iterations: int = 4) -> VauPlan:
    """Fit ``|counts| ~ c_j + r_i`` (non-negative integers) on the cells with a non-zero count.

    Alternating least squares from ``c = 0``, clipped at zero each half-step, then rounded;
    ``max_pulses`` caps each step's train length.
    """
    counts = np.asarray(counts)
    sign = np.sign(counts).astype(np.int8)
    active = sign != 0
    magnitude = np.abs(counts).astype(float)
    cols = np.zeros(counts.shape[1])
    rows = np.zeros(counts.shape[0])
    n_row = np.maximum(active.sum(axis=1), 1)
    n_col = np.maximum(active.sum(axis=0), 1)
    for _ in range(iterations):
        rows = np.clip(np.where(active, magnitude - cols[None, :], 0).sum(axis=1) / n_row, 0, None)
        cols = np.clip(np.where(active, magnitude - rows[:, None], 0).sum(axis=0) / n_col, 0, None)
    col_counts, row_counts = np.rint(cols).astype(np.int64), np.rint(rows).astype(np.int64)
    if max_pulses is not None:
        col_counts, row_counts = np.minimum(col_counts, max_pulses), np.minimum(row_counts, max_pulses)
    return VauPlan(sign, col_counts, row_counts)


def update_mse(exact: np.ndarray, approx: np.ndarray, cells: np.ndarray | None = None) -> float:
    """Mean squared difference of two updates over ``cells`` (a boolean mask; None = all)."""
    diff = np.asarray(approx, dtype=float) - np.asarray(exact, dtype=float)
    if cells is not None:
        diff = diff[cells]
    return float(np.mean(diff**2)) if diff.size else 0.0
