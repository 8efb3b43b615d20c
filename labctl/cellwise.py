"""``CellByCell``: run any procedure one device at a time, to compare with vector (grouped) operation.

On the bench, cell-by-cell means route, pulse and read each device on its own (BENCH.md: ~55-70 ms
per cell on GPIB); vector operation lets the backend group devices into row/column-parallel trains
and row reads. Wrapping a backend in ``CellByCell`` turns every ``apply_pulses``, ``apply_vector_update``
and ``read`` into single-device calls, so the same procedure code measures both costs.
"""

from __future__ import annotations

import numpy as np

from .backend import ArrayBackend, PulseReport
from .specs import PulseSpec, ReadSpec


class CellByCell:
    """``backend`` addressed one device per call; everything else is the backend's own."""

    def __init__(self, backend: ArrayBackend) -> None:
        self.backend = backend

    def __getattr__(self, name: str):
        return getattr(self.backend, name)

    def _single(self, r: int, c: int) -> np.ndarray:
        mask = np.zeros(self.backend.shape, dtype=bool)
        mask[r, c] = True
        return mask

    def apply_pulses(self, devices: np.ndarray, pulse: PulseSpec, count: int | np.ndarray = 1) -> PulseReport:
        """One ``apply_pulses`` per selected device (devices with a zero count are skipped)."""
        devices = np.asarray(devices, dtype=bool)
        counts = np.broadcast_to(np.asarray(count), devices.shape)
        reports = [self.backend.apply_pulses(self._single(r, c), pulse, int(counts[r, c]))
                   for r, c in zip(*np.nonzero(devices & (counts > 0)))]
        return _total(reports)

    def apply_vector_update(self, rows: np.ndarray, cols: np.ndarray, pulse: PulseSpec,
                            count: int = 1) -> PulseReport:
        """One single-device train per crossing of ``rows`` and ``cols``."""
        crossing = np.outer(np.asarray(rows, dtype=bool), np.asarray(cols, dtype=bool))
        return self.apply_pulses(crossing, pulse, count)

    def read(self, devices: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """One read per device; NaN off the mask."""
        out = np.full(self.backend.shape, np.nan)
        for r, c in zip(*np.nonzero(np.asarray(devices, dtype=bool))):
            out[r, c] = self.backend.read(self._single(r, c), read)[r, c]
        return out


def _total(reports: list[PulseReport]) -> PulseReport:
    return PulseReport(sum(r.pulses for r in reports), sum(r.transactions for r in reports),
                       sum(r.duration_s for r in reports))
