"""The one seam: ``ArrayBackend``, behind which sits either the bench or the simulated chip.

Procedures and the training loop are written against the :class:`ArrayBackend` protocol only.
:class:`BackendBase` is the shared implementation both backends subclass: each public method checks
its arguments (mask shapes, ``SafetyLimits``) once, here, then calls a ``_do_*`` hook, so the
simulator refuses exactly what the bench would. This module imports no pymeasure or pyvisa.

Conventions: masks are boolean arrays of the device grid ``shape`` (or of the row / column axis for
vector updates); conductances are in siemens, currents in amperes, times in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from device_models.params import ChipModel

from .errors import ConfigError, LabctlError, field_error
from .layout import CellLayout
from .specs import DEFAULT_LIMITS, PulseSpec, ReadSpec, SafetyLimits


@dataclass(frozen=True)
class PulseReport:
    """What a pulse operation did: pulses delivered and bench work it cost."""

    pulses: int
    """Write pulses delivered, summed over devices (the weight-update counter)."""
    transactions: int = 0
    """Bench transactions (relay changes, instrument writes/queries); 0 on the simulator."""
    duration_s: float = 0.0
    """Chip time the operation took (pulse trains, plus settling on the bench)."""


@dataclass(frozen=True)
class BackendDescription:
    """What a run's records say about its backend: the one source of every CSV header, run.json and catalog row."""

    kind: str
    """``sim`` (simulated chip), ``sim-instruments`` (real drivers, simulated instruments) or ``bench``."""
    source: str
    """What was opened: ``sim``, ``sim-instruments`` or the bench file's path."""
    chip_id: str
    """Chip id for the records (``<source>-seed<seed>`` unless the run names one)."""
    model: str
    """Name of the chip model (the simulated chip's physics; a bench's expected device)."""
    seed: int | None
    """Seed of the simulated chip (None where none was given)."""
    instrument_idns: tuple[tuple[str, str], ...] = ()
    """(role, ``*IDN?`` answer) of each instrument, read at connect; empty on the simulated chip."""

    @property
    def idns_text(self) -> str:
        """The IDNs as one header line (``none`` without instruments)."""
        return "; ".join(f"{role}={idn}" for role, idn in self.instrument_idns) or "none"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "source": self.source, "chip_id": self.chip_id, "model": self.model,
                "seed": self.seed, "instrument_idns": dict(self.instrument_idns)}


@runtime_checkable
class Simulation(Protocol):
    """A backend's ``simulation`` handle (None on a real bench): exact state for resume and checkpoints."""

    def snapshot(self) -> dict[str, np.ndarray]:
        """The dynamic state of everything simulated, as arrays."""

    def restore(self, snap: dict[str, np.ndarray]) -> None:
        """Return to a ``snapshot`` of the same backend (same model, seed and layout)."""


def total_report(reports) -> PulseReport:
    """One report summing ``reports`` (pulses, transactions and time)."""
    reports = list(reports)
    return PulseReport(sum(r.pulses for r in reports), sum(r.transactions for r in reports),
                       sum(r.duration_s for r in reports))


@runtime_checkable
class ArrayBackend(Protocol):
    """A FeFET array that can be pulsed and read; the bench and the simulator both implement it."""

    shape: tuple[int, int]
    layout: CellLayout
    limits: SafetyLimits
    model: ChipModel
    """The chip model (the simulated chip's physics; on a bench, the device the user says is there)."""
    simulation: Simulation | None
    """Snapshot/restore of what is simulated behind the seam; None on a real bench."""

    def describe(self) -> BackendDescription:
        """Kind, source, chip id, model, seed and instrument IDNs, for the run's records."""

    @property
    def messages_sent(self) -> int:
        """Bus messages (VISA writes and queries) sent since the backend was opened; 0 on the simulator."""

    @property
    def last_command(self) -> str:
        """Where a fault showed, for its error message: the instrument and the last command sent to it on a
        bench; the backend's kind on the simulator, which sends none."""

    def note_run(self, **info: str | bool) -> None:
        """Tell the backend which run it serves: a bench writes it into its crash marker, so the next command
        names the run a crash interrupted; the simulator, which cannot crash a chip, keeps nothing."""

    @property
    def bench_time_split_s(self) -> dict[str, float]:
        """Bench seconds since the backend was opened by part (``reads``, ``routings``, ``pulses``,
        ``waits``) on the bench clock; empty on the simulator, which has no bench."""

    def apply_pulses(self, devices: np.ndarray, pulse: PulseSpec, count: int | np.ndarray = 1) -> PulseReport:
        """Apply ``count`` identical pulses to every device in the ``shape`` mask ``devices``.

        ``count`` may be an integer array of ``shape`` (per-device train lengths; 0 = none).
        Raises ``SafetyLimitError`` / ``ConfigError`` before anything is sent.
        """

    def apply_vector_update(self, rows: np.ndarray, cols: np.ndarray, pulse: PulseSpec,
                            count: int = 1) -> PulseReport:
        """Pulse the crossing of the selected rows and columns in one parallel operation (V/2 scheme).

        Selected rows get +V/2 and selected columns -V/2, so only the crossings see the full pulse;
        half-selected devices see V/2 (a real disturb, small because switching is strongly nonlinear).
        """

    def apply_pulses_at(self, rows: np.ndarray, cols: np.ndarray, pulse: PulseSpec,
                        counts: np.ndarray) -> PulseReport:
        """``apply_pulses`` with ``counts[i]`` pulses to device ``(rows[i], cols[i])`` (row-major, no repeats).

        Costs scale with the devices listed, not the grid (training pulses a few percent of a layer).
        """

    def pulse_and_read_at(self, rows: np.ndarray, cols: np.ndarray, pulses: dict[int, PulseSpec],
                          counts: np.ndarray, read: ReadSpec = ReadSpec()) -> tuple[PulseReport, np.ndarray]:
        """``pulses[+1]`` where ``counts > 0``, ``pulses[-1]`` (``|counts|`` long) where ``counts < 0``,
        then ``read_at`` of every listed device: a training update and its read-back.

        The report counts the pulse operations only (as two ``apply_pulses_at`` calls would).
        """

    def read(self, devices: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """Conductance in S of every device in the mask; NaN elsewhere. Non-destructive."""

    def read_at(self, rows: np.ndarray, cols: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """Conductance in S of the devices at ``(rows[i], cols[i])`` (row-major, no repeats): 1-D."""

    def read_mvm(self, inputs: np.ndarray, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """Column currents in A for row inputs in [-1, 1] scaled to ``read.voltage_v``.

        ``inputs`` is ``(cell_rows,)`` or ``(batch, cell_rows)``; the result is ``(..., cell_cols)``.
        Each cell conducts through its weight device gated by its sparsity device (Hadamard
        product); a reference partner's current is subtracted (differential sensing).
        """

    def sweep_transfer(self, devices: np.ndarray, gate_v: np.ndarray, drain_v: float = 0.1) -> np.ndarray:
        """Id in A of each selected device along a DC gate sweep: ``(n_devices, n_points)``, row-major.

        The sweep may program the devices (that is how the memory window shows).
        """

    def wait(self, duration_s: float) -> None:
        """Let ``duration_s`` pass (the simulator advances its clock; the bench sleeps)."""

    @property
    def time_s(self) -> float:
        """Seconds since the backend was opened (simulated clock or wall clock)."""

    @property
    def temperature_k(self) -> float:
        """Chip temperature in K."""

    def close(self) -> None:
        """Outputs off, relays open. Idempotent."""


class BackendBase:
    """Shared checks for every backend: validate once here, then call the ``_do_*`` hook."""

    shape: tuple[int, int]
    layout: CellLayout
    limits: SafetyLimits
    model: ChipModel
    simulation: Simulation | None

    def __init__(self, layout: CellLayout, limits: SafetyLimits = DEFAULT_LIMITS) -> None:
        self.layout = layout
        self.shape = layout.shape
        self.limits = limits
        self.closed = False

    # -- public API: checks, then hooks ------------------------------------------------------------
    def apply_pulses(self, devices, pulse: PulseSpec, count=1) -> PulseReport:
        self._check_open()
        mask = checked_mask(devices, self.shape, "devices")
        counts = np.asarray(count)
        if counts.ndim and counts.shape != self.shape:
            raise field_error(ConfigError, "count.shape", counts.shape, f"expected a scalar or {self.shape}")
        self.limits.check_pulse(pulse, counts)
        counts = np.where(mask, counts, 0).astype(np.int64)
        if not counts.any():
            return PulseReport(0)
        return self._do_apply_pulses(counts, pulse)

    def apply_pulses_at(self, rows, cols, pulse: PulseSpec, counts) -> PulseReport:
        """``apply_pulses`` for trains given per device coordinate: ``counts[i]`` pulses to ``(rows[i], cols[i])``.

        Coordinates must be in row-major order without repeats. Costs scale with the devices listed,
        not the grid (the training loop pulses a few percent of a large array per update).
        """
        self._check_open()
        flat = self._flat(rows, cols)
        counts = np.asarray(counts)
        if counts.shape != flat.shape:
            raise field_error(ConfigError, "counts.shape", counts.shape, f"expected {flat.shape} like rows")
        self.limits.check_pulse(pulse, counts)
        keep = counts != 0
        if not keep.any():
            return PulseReport(0)
        return self._do_apply_pulses_at(flat[keep], counts[keep].astype(np.int64), pulse)

    def read_at(self, rows, cols, read: ReadSpec = ReadSpec()) -> np.ndarray:
        """``read`` of the devices at ``(rows[i], cols[i])`` (row-major, no repeats): a 1-D array of S."""
        self._check_open()
        flat = self._flat(rows, cols)
        self.limits.check_read(read)
        return self._do_read_at(flat, read)

    def pulse_and_read_at(self, rows, cols, pulses: dict[int, PulseSpec], counts,
                          read: ReadSpec = ReadSpec()) -> tuple[PulseReport, np.ndarray]:
        """Signed trains per device coordinate (``pulses[+1]`` where ``counts > 0``, ``pulses[-1]`` where
        ``counts < 0``), then the read-back of every listed device: the training update, checked here once."""
        self._check_open()
        flat = self._flat(rows, cols)
        counts = np.asarray(counts)
        if counts.shape != flat.shape:
            raise field_error(ConfigError, "counts.shape", counts.shape, f"expected {flat.shape} like rows")
        if set(pulses) != {+1, -1}:
            raise field_error(ConfigError, "pulses", sorted(pulses), "expected the keys +1 (counts > 0) and -1")
        self.limits.check_pulse(pulses[+1], np.abs(counts))
        self.limits.check_pulse(pulses[-1])  # (the lengths are checked: one count limit for both polarities)
        self.limits.check_read(read)
        return self._do_pulse_and_read_at(flat, counts, pulses, read)

    def apply_vector_update(self, rows, cols, pulse: PulseSpec, count: int = 1) -> PulseReport:
        self._check_open()
        rows = checked_mask(rows, (self.shape[0],), "rows")
        cols = checked_mask(cols, (self.shape[1],), "cols")
        if np.ndim(count):
            raise field_error(ConfigError, "count", count, "a vector update takes one train length")
        self.limits.check_pulse(pulse, count)
        if count == 0 or not rows.any() or not cols.any():
            return PulseReport(0)
        return self._do_apply_vector_update(rows, cols, pulse, int(count))

    def read(self, devices, read: ReadSpec = ReadSpec()) -> np.ndarray:
        self._check_open()
        mask = checked_mask(devices, self.shape, "devices")
        self.limits.check_read(read)
        return self._do_read(mask, read)

    def read_mvm(self, inputs, read: ReadSpec = ReadSpec()) -> np.ndarray:
        self._check_open()
        x = np.asarray(inputs)
        x = x if x.dtype == np.float32 else x.astype(float)  # float32 stays (training's DAC output): no copies
        rows = self.layout.cell_shape[0]
        if x.shape[-1:] != (rows,) or x.ndim > 2:
            raise field_error(ConfigError, "inputs.shape", x.shape, f"expected ({rows},) or (batch, {rows})")
        largest = np.abs(x).max(initial=0)
        if not largest <= 1:  # one pass: nan and inf fail it too
            raise field_error(ConfigError, "inputs", float(largest), "must be finite and within [-1, 1]")
        self.limits.check_read(read)
        return self._do_read_mvm(x, read)

    def sweep_transfer(self, devices, gate_v, drain_v: float = 0.1) -> np.ndarray:
        self._check_open()
        mask = checked_mask(devices, self.shape, "devices")
        gate_v = np.asarray(gate_v, dtype=float)
        self.limits.check_sweep(gate_v, drain_v)
        return self._do_sweep_transfer(mask, gate_v, float(drain_v))

    def wait(self, duration_s: float) -> None:
        self._check_open()
        if not np.isfinite(duration_s) or duration_s < 0:
            raise field_error(ConfigError, "duration_s", duration_s, "must be finite and >= 0")
        self._do_wait(float(duration_s))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._do_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- hooks -------------------------------------------------------------------------------------
    def _do_apply_pulses(self, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        raise NotImplementedError

    def _do_apply_pulses_at(self, flat: np.ndarray, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        """Per-device trains at flat indices; by default through the grid-shaped hook."""
        grid = np.zeros(self.shape, dtype=np.int64)
        grid.flat[flat] = counts
        return self._do_apply_pulses(grid, pulse)

    def _do_pulse_and_read_at(self, flat: np.ndarray, counts: np.ndarray, pulses: dict[int, PulseSpec],
                              read: ReadSpec) -> tuple[PulseReport, np.ndarray]:
        """Composed from the primitives: one ``_do_apply_pulses_at`` per polarity present, then ``_do_read_at``.

        A backend overrides this only to do the same faster (the simulator: one pass for both polarities).
        """
        reports = [self._do_apply_pulses_at(flat[sel], np.abs(counts[sel]).astype(np.int64), pulses[sign])
                   for sign, sel in ((+1, counts > 0), (-1, counts < 0)) if sel.any()]
        return total_report(reports), self._do_read_at(flat, read)

    def _do_apply_vector_update(self, rows, cols, pulse: PulseSpec, count: int) -> PulseReport:
        raise NotImplementedError

    def _do_read(self, mask: np.ndarray, read: ReadSpec) -> np.ndarray:
        raise NotImplementedError

    def _do_read_at(self, flat: np.ndarray, read: ReadSpec) -> np.ndarray:
        """Conductance of the devices at flat indices; by default through the mask-shaped hook."""
        mask = np.zeros(self.shape, dtype=bool)
        mask.flat[flat] = True
        return self._do_read(mask, read).ravel()[flat]

    def _do_read_mvm(self, inputs: np.ndarray, read: ReadSpec) -> np.ndarray:
        raise NotImplementedError

    def _do_sweep_transfer(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float) -> np.ndarray:
        raise NotImplementedError

    def _do_wait(self, duration_s: float) -> None:
        raise NotImplementedError

    def _do_close(self) -> None:
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self.closed:
            raise LabctlError(f"{type(self).__name__} is closed")

    def _flat(self, rows, cols) -> np.ndarray:
        return flat_indices(self.shape, rows, cols)



def checked_mask(mask, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``mask`` as an array, refused (naming ``name``) unless boolean of ``shape``."""
    arr = np.asarray(mask)
    if arr.shape != shape:
        raise field_error(ConfigError, f"{name}.shape", arr.shape, f"expected {shape}")
    if arr.dtype != bool:
        raise field_error(ConfigError, f"{name}.dtype", str(arr.dtype), "must be a boolean mask")
    return arr


def flat_indices(shape: tuple[int, int], rows, cols) -> np.ndarray:
    """Flat device indices of coordinate arrays, checked in range, row-major and without repeats."""
    rows, cols = np.asarray(rows), np.asarray(cols)
    for name, arr, size in (("rows", rows, shape[0]), ("cols", cols, shape[1])):
        if arr.ndim != 1 or arr.dtype.kind not in "iu":
            raise field_error(ConfigError, f"{name}.dtype", f"{arr.dtype}{arr.shape}", "must be 1-D integers")
        if arr.size and (arr.min() < 0 or arr.max() >= size):
            raise field_error(ConfigError, name, int(arr.max() if arr.min() >= 0 else arr.min()),
                              f"outside 0..{size - 1}")
    if rows.shape != cols.shape:
        raise field_error(ConfigError, "cols.shape", cols.shape, f"expected {rows.shape} like rows")
    flat = rows.astype(np.int64) * shape[1] + cols
    if flat.size > 1 and not np.all(flat[1:] > flat[:-1]):
        raise field_error(ConfigError, "rows, cols", "order", "must be row-major without repeats")
    return flat


class BackendProxy:
    """A wrapper of an open backend (journal, one device per call) that forwards the seam explicitly.

    Every :class:`ArrayBackend` member is a method or property here (``tests/contract`` checks it), so
    a Protocol operation can never slip past the wrapper's guarantee through attribute fallback;
    ``__getattr__`` only reaches what is not the seam (``model``, ``seed``, ``stats``, ...).
    """

    def __init__(self, backend: ArrayBackend) -> None:
        self.backend = backend

    def __getattr__(self, name: str):
        if name in SEAM_MEMBERS or name.startswith("__"):
            raise AttributeError(f"{type(self).__name__} does not forward {name!r}")
        return getattr(self.backend, name)

    @property
    def shape(self) -> tuple[int, int]:
        return self.backend.shape

    @property
    def layout(self) -> CellLayout:
        return self.backend.layout

    @property
    def limits(self) -> SafetyLimits:
        return self.backend.limits

    @property
    def model(self) -> ChipModel:
        return self.backend.model

    @property
    def simulation(self) -> Simulation | None:
        return self.backend.simulation

    def describe(self) -> BackendDescription:
        return self.backend.describe()

    @property
    def messages_sent(self) -> int:
        return self.backend.messages_sent

    @property
    def last_command(self) -> str:
        return self.backend.last_command

    def note_run(self, **info: str | bool) -> None:
        self.backend.note_run(**info)

    @property
    def bench_time_split_s(self) -> dict[str, float]:
        return self.backend.bench_time_split_s

    def close(self) -> None:
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


SEAM_MEMBERS = frozenset(name for name in vars(ArrayBackend) if not name.startswith("_")) | set(
    ArrayBackend.__annotations__)
"""Names of the ``ArrayBackend`` Protocol's methods, properties and attributes."""
