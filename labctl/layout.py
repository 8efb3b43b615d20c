"""Which physical device plays which role, and how devices pair into cells.

The chip of seed 000 is a 30x30 array of FeFETs in which each unit cell is one digital *sparsity*
FeFET gating one analog *weight* FeFET; the default layout puts them in alternating columns, giving a
30 x 15 grid of cells (450 weight + 450 sparsity devices). Training against a fixed reference device
(seed 002's symmetry-point shifting) pairs a *reference* device with each weight instead. Everything
above the seam addresses cells through this map, never raw coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from .errors import ConfigError, field_error


class Role(str, Enum):
    """What a device in the array does."""

    WEIGHT = "weight"
    SPARSITY = "sparsity"
    REFERENCE = "reference"


@dataclass(frozen=True, eq=False)
class CellLayout:
    """A map from cells (``cell_shape`` grid) to physical devices (``shape`` grid).

    ``partner`` is the role of the second device of each cell (sparsity or reference), or None when
    every device is a stand-alone weight. Cell ``(i, j)`` uses device row ``i``; its weight device is
    in column ``weight_cols[j]`` and its partner in ``partner_cols[j]``.
    """

    shape: tuple[int, int]
    """Physical device grid (rows, columns)."""
    weight_cols: np.ndarray
    """Device column of the weight device of each cell column."""
    partner_cols: np.ndarray | None = None
    """Device column of the partner device of each cell column, or None."""
    partner: Role | None = None
    """Role of the partner devices (SPARSITY or REFERENCE), or None."""

    def __post_init__(self) -> None:
        rows, cols = self.shape
        if rows < 1 or cols < 1:
            raise field_error(ConfigError, "CellLayout.shape", self.shape, "needs at least one row and column")
        used = list(self.weight_cols) + ([] if self.partner_cols is None else list(self.partner_cols))
        if len(set(used)) != len(used) or min(used) < 0 or max(used) >= cols:
            raise field_error(ConfigError, "CellLayout.weight_cols", used, "columns must be distinct and in range")
        if (self.partner is None) != (self.partner_cols is None):
            raise field_error(ConfigError, "CellLayout.partner", self.partner, "needs partner_cols, and vice versa")

    @classmethod
    def sparse(cls, rows: int = 30, cols: int = 30) -> CellLayout:
        """Seed 000's chip: sparsity devices in even columns, their weight devices in odd columns."""
        _even("cols", cols)
        return cls((rows, cols), np.arange(1, cols, 2), np.arange(0, cols, 2), Role.SPARSITY)

    @classmethod
    def with_reference(cls, rows: int, cols: int, cells: int | None = None) -> CellLayout:
        """Weight devices in even columns, each paired with a fixed reference device to its right.

        ``cells`` pairs only the first ``cells`` cell columns (a layer narrower than the chip): the other
        devices belong to no cell, so nothing reads or drives them (on the bench a read of every cell
        costs a routing per row and sense-SMU chunk of the columns it covers).
        """
        _even("cols", cols)
        used = cols if cells is None else 2 * int(cells)
        if not 2 <= used <= cols:
            raise field_error(ConfigError, "cells", cells, f"must be 1..{cols // 2}")
        return cls((rows, cols), np.arange(0, used, 2), np.arange(1, used, 2), Role.REFERENCE)

    @classmethod
    def dense(cls, rows: int, cols: int) -> CellLayout:
        """Every device is a stand-alone weight."""
        return cls((rows, cols), np.arange(cols))

    @property
    def cell_shape(self) -> tuple[int, int]:
        """Grid of cells (rows, cell columns)."""
        return (self.shape[0], len(self.weight_cols))

    def role_mask(self, role: Role) -> np.ndarray:
        """Boolean device mask of every device with ``role``."""
        mask = np.zeros(self.shape, dtype=bool)
        if role is Role.WEIGHT:
            mask[:, self.weight_cols] = True
        elif role is self.partner:
            mask[:, self.partner_cols] = True
        return mask

    def devices(self, cells: np.ndarray, role: Role = Role.WEIGHT) -> np.ndarray:
        """Device mask of the ``role`` devices of the cells selected by a ``cell_shape`` mask."""
        cells = np.asarray(cells, dtype=bool)
        if cells.shape != self.cell_shape:
            raise field_error(ConfigError, "cells.shape", cells.shape, f"expected {self.cell_shape}")
        mask = np.zeros(self.shape, dtype=bool)
        mask[:, self._cols(role)] = cells
        return mask

    def to_cells(self, device_values: np.ndarray, role: Role = Role.WEIGHT) -> np.ndarray:
        """Pick the ``role`` devices' entries of a device-shaped array, arranged as cells."""
        return np.asarray(device_values)[:, self._cols(role)]

    def to_devices(self, cell_values: np.ndarray, role: Role = Role.WEIGHT, fill: float = 0) -> np.ndarray:
        """Scatter a cell-shaped array onto the ``role`` devices of a device-shaped array."""
        cell_values = np.asarray(cell_values)
        out = np.full(self.shape, fill, dtype=np.result_type(cell_values, type(fill)))
        out[:, self._cols(role)] = cell_values
        return out

    def _cols(self, role: Role) -> np.ndarray:
        if role is Role.WEIGHT:
            return self.weight_cols
        if role is not self.partner:
            raise field_error(ConfigError, "role", role.value, f"this layout has no {role.value} devices")
        return self.partner_cols


def _even(name: str, value: int) -> None:
    if value % 2:
        raise field_error(ConfigError, name, value, "must be even to pair devices into cells")
