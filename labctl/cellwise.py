"""``CellByCell``: run any procedure one device at a time, to compare with vector (grouped) operation.

On the bench, cell-by-cell means route, pulse and read each device on its own (BENCH.md: ~55-70 ms
per cell on GPIB); vector operation lets the backend group devices into row/column-parallel trains
and row reads. Wrapping a backend in ``CellByCell`` turns every pulse and read operation of the seam
(mask and per-coordinate forms, the fused update, transfer sweeps) into single-device calls, so the
same procedure or training code measures both costs.
"""

from __future__ import annotations

import numpy as np

from .backend import BackendProxy, PulseReport, checked_mask, flat_indices, total_report
from .specs import PulseSpec, ReadSpec


class CellByCell(BackendProxy):
    """``backend`` addressed one device per call; the clock, MVM and the rest are the backend's own."""

    def _single(self, r: int, c: int) -> np.ndarray:
        mask = np.zeros(self.backend.shape, dtype=bool)
        mask[r, c] = True
        return mask

    def apply_pulses(self, devices: np.ndarray, pulse: PulseSpec, count: int | np.ndarray = 1) -> PulseReport:
        """One ``apply_pulses`` per selected device (devices with a zero count are skipped)."""
        devices = checked_mask(devices, self.shape, "devices")
        self.limits.check_pulse(pulse, np.asarray(count))  # refused as a whole, before any device is pulsed
        counts = np.broadcast_to(np.asarray(count), devices.shape)
        return total_report(self.backend.apply_pulses(self._single(r, c), pulse, int(counts[r, c]))
                            for r, c in zip(*np.nonzero(devices & (counts > 0))))

    def apply_pulses_at(self, rows, cols, pulse: PulseSpec, counts) -> PulseReport:
        """One single-device train per listed device with a non-zero count."""
        flat_indices(self.shape, rows, cols)  # refused as a whole, before any device is pulsed
        self.limits.check_pulse(pulse, np.asarray(counts))
        return total_report(self.backend.apply_pulses_at(np.array([r]), np.array([c]), pulse, np.array([n]))
                            for r, c, n in zip(rows, cols, counts) if n)

    def apply_vector_update(self, rows: np.ndarray, cols: np.ndarray, pulse: PulseSpec,
                            count: int = 1) -> PulseReport:
        """One single-device train per crossing of ``rows`` and ``cols``."""
        crossing = np.outer(checked_mask(rows, (self.shape[0],), "rows"), checked_mask(cols, (self.shape[1],), "cols"))
        return self.apply_pulses(crossing, pulse, count)

    def pulse_and_read_at(self, rows, cols, pulses: dict[int, PulseSpec], counts,
                          read: ReadSpec = ReadSpec()) -> tuple[PulseReport, np.ndarray]:
        """Each device's train on its own, then each device read on its own."""
        counts = np.asarray(counts)
        flat_indices(self.shape, rows, cols)
        for pulse in pulses.values():
            self.limits.check_pulse(pulse, np.abs(counts))
        report = total_report(self.apply_pulses_at(rows, cols, pulses[sign], np.where(sign * counts > 0, abs(counts), 0))
                              for sign in (+1, -1))
        return report, self.read_at(rows, cols, read)

    def read(self, devices: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """One read per device; NaN off the mask."""
        out = np.full(self.backend.shape, np.nan)
        for r, c in zip(*np.nonzero(checked_mask(devices, self.shape, "devices"))):
            out[r, c] = self.backend.read(self._single(r, c), read)[r, c]
        return out

    def read_at(self, rows, cols, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """One read per listed device."""
        flat_indices(self.shape, rows, cols)
        return np.array([self.backend.read_at(np.array([r]), np.array([c]), read)[0] for r, c in zip(rows, cols)])

    def read_mvm(self, inputs: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """The backend's own: a matrix-vector product is one operation of the whole array by nature."""
        return self.backend.read_mvm(inputs, read)

    def sweep_transfer(self, devices: np.ndarray, gate_v: np.ndarray, drain_v: float = 0.1) -> np.ndarray:
        """One sweep per device (rows of the result in row-major device order, as the backend's)."""
        cells = list(zip(*np.nonzero(checked_mask(devices, self.shape, "devices"))))
        if not cells:
            return self.backend.sweep_transfer(devices, gate_v, drain_v)
        return np.concatenate([self.backend.sweep_transfer(self._single(r, c), gate_v, drain_v) for r, c in cells])

    def wait(self, duration_s: float) -> None:
        self.backend.wait(duration_s)

    @property
    def time_s(self) -> float:
        return self.backend.time_s

    @property
    def temperature_k(self) -> float:
        return self.backend.temperature_k
