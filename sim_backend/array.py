"""``SimulatedArray``: the FeFET chip as vectorised numpy physics behind the ``ArrayBackend`` seam.

Each device carries its own bounds, step scales and nonlinearity drawn once from the model's
device-to-device variation; each pulse adds cycle-to-cycle noise and each reading read noise. Time
is a simulated clock: pulses and reads advance it, ``wait`` jumps it, and retention relaxes the
stored states over it, so 1000 s or ten years of retention run in milliseconds. All physics comes
from :mod:`device_models.physics`; this module only holds state and bookkeeping.

Speed (training runs ~10^4-10^5 device updates per batch through here): noise comes from a seeded
table (:mod:`sim_backend.noise`, a slice instead of a normal draw per value), power-law trains take
the closed form of :func:`device_models.physics.power_train` (one draw per train, not per pulse),
pulsed devices are relaxed on their way into the pulse, each device's conductance is kept between
writes, each device's state and drawn parameters are 32-byte rows (:mod:`sim_backend.writes`: one
row gather per pulsed device, not seven scattered ones), and
:meth:`SimulatedArray.pulse_and_read_at` does a training update (both polarities and the
read-back) in one pass (one compiled kernel with the ``fast`` extra, :mod:`sim_backend.fast_paths`).
What remains is the work per pulsed device, the MVM's second product (the exact read-noise
variance) and the full relaxation every ``RELAX_TOLERANCE`` worth of clock (25 ms; a training batch
advances a layer's clock by ~0.4 ms of reads and pulse trains, so an MP-SGD MNIST epoch on garg-hzo-20ns
crosses the bound ~10 times per layer; each crossing at a read-back is followed by a second full
relaxation at the next MVM, which rebuilds the cells after relaxing again: ~20 in all, 82 ms for the
401,408 devices of 784-256-128-10's first layer, 15 ms for the second, ~7 % of the epoch).
"""

from __future__ import annotations

import dataclasses
import json
import numpy as np

from device_models import physics
from device_models.modelfile import load_model
from device_models.params import ChipModel
from labctl.backend import BackendBase, BackendDescription, PulseReport
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout, Role
from labctl.specs import DEFAULT_LIMITS, PulseSpec, ReadSpec, SafetyLimits

from .cells import CellCache
from . import fast_paths
from .faults import Faults
from .noise import DEFAULT_SIZE, NoiseTable
from .population import Population
from .writes import DeviceRows

READ_MODELS = ("shared", "per-sample")
"""How ``read_mvm`` draws read noise (``SimulatedArray(read_model=...)``), the default first: ``shared``, one
noisy reading of every device per call, the product taken with those readings (what
:class:`labctl.hardware.HardwareArray` does on the bench: every sample of a batch shares the noise; the
simulator reads as the bench it stands for); ``per-sample``, a physical crossbar MVM with independent
noise in every input vector's column currents (an in-memory inference chip)."""

SWEEP_DWELL_S = 1e-3
"""Time the SMU holds each point of a DC gate sweep, in s (hold + integration)."""

RELAX_TOLERANCE = 1e-4
"""Largest relative retention change of ``g - relaxed_state`` an MVM may skip (bound: nu * dt / t0).

A device is relaxed exactly (over its own pending time) before every pulse it receives, and every
device on ``wait``, ``state`` and a temperature change; reads and the matrix-vector product see the
states as last relaxed until this bound is crossed. The skipped part is a lag, not an error that
accumulates (the flush applies each device's whole pending time exactly), and it is small: at most
1e-4 of ``|g - relaxed_state| <= 0.5`` of the range, 0.5 nS on a 10 uS range, against a read noise
of 4.25 % of the conductance (>= 85 nS at the garg preset's 2 uS floor): 425x below it in relative
terms, >= 170x in siemens. At 1e-5 the full relaxation (every device, then every cell) ran every
2.5 ms of clock, ~10 % of an MP-SGD epoch."""


SIM_LIMITS = dataclasses.replace(DEFAULT_LIMITS, max_width_s=DEFAULT_LIMITS.smu_max_pulse_width_s)
"""The simulated chip's limits: every width a B1500 applies (SPGU 10 ns up to the SMU pulsed mode's 2 s)."""


class SimulatedArray(DeviceRows, CellCache, BackendBase):
    """A simulated FeFET array (900 devices by default) implementing :class:`labctl.backend.ArrayBackend`.

    >>> with SimulatedArray("ning-mos2-fefet", seed=1) as chip:
    ...     g = chip.read(chip.layout.role_mask(Role.WEIGHT))
    >>> int(np.isfinite(g).sum())
    450
    """

    def __init__(self, model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, limits: SafetyLimits = SIM_LIMITS,
                 temperature_k: float = 300.0, faults: Faults | None = None,
                 initial_state: float = 0.0, age_s: float = 0.0, read_model: str = READ_MODELS[0]) -> None:
        self.model = load_model(model)
        if read_model not in READ_MODELS:
            raise field_error(ConfigError, "read_model", read_model, f"choose from {', '.join(READ_MODELS)}")
        self.read_model = read_model
        """How ``read_mvm`` draws read noise (:data:`READ_MODELS`)."""
        if layout is None:
            layout = CellLayout.sparse() if self.model.sparsity is not None else CellLayout.dense(30, 30)
        if layout.partner is Role.SPARSITY and self.model.sparsity is None:
            raise field_error(ConfigError, "layout", "sparse", f"model {self.model.name!r} has no sparsity device")
        super().__init__(layout, limits)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        n_devices = layout.shape[0] * layout.shape[1]
        self.noise = NoiseTable(np.random.SeedSequence([seed, 0x6E6F697365]), self.rng,
                                size=min(DEFAULT_SIZE, max(1 << 16, 1 << int(16 * n_devices).bit_length())))
        """Standard normals of the cycle-to-cycle and read noise (random slices of one seeded table)."""
        self.faults = faults or Faults()
        self.faults.check(self.shape)
        self._temperature_k = float(temperature_k)
        self._clock_s = 0.0
        self._flushed_at_s = 0.0  # every device is relaxed at least up to this clock
        self._retention_at: tuple = (None, [], 0.0)  # (temperature, exponents, stale rate): _retention_rates
        sparse = layout.role_mask(Role.SPARSITY).ravel()
        self._pops = [Population.draw(self.model.weight, np.flatnonzero(~sparse), self.rng)]
        if sparse.any():
            self._pops.append(Population.draw(self.model.sparsity, np.flatnonzero(sparse), self.rng))
        self._kind = np.zeros(sparse.size, dtype=np.int8)
        self._kind[sparse] = 1
        self._read_sigma_dev = np.empty(sparse.size)
        self._log_dev = np.zeros(sparse.size, dtype=bool)
        for pop in self._pops:
            self._read_sigma_dev[pop.index] = pop.params.variation.read_noise
            self._log_dev[pop.index] = pop.params.conductance_scale == "log"
        # one population: member i is device i and every device shares one read noise (no gathers)
        self._one_pop = len(self._pops) == 1 and np.array_equal(self._pops[0].index, np.arange(sparse.size))
        self._any_log = bool(self._log_dev.any())
        self._init_rows(sparse.size, initial_state, age_s)
        self._init_cells(layout)
        self._apply_faults()

    # -- introspection (the simulator's ground truth; the bench has no equivalent) -----------------
    @property
    def state(self) -> np.ndarray:
        """Normalised polarisation of every device, ``shape`` array in [0, 1] (a copy)."""
        self._flush_relaxation()
        return self._g.reshape(self.shape).copy()

    def true_conductance(self) -> np.ndarray:
        """Noise-free conductance in S of every device (``shape`` array)."""
        self._flush_relaxation()
        return self._conductance(None).reshape(self.shape).copy()

    @property
    def simulation(self) -> SimulatedArray:
        """The chip is its own simulation handle (``snapshot``/``restore``, ground truth)."""
        return self

    def describe(self) -> BackendDescription:
        return BackendDescription("sim", "sim", f"sim-seed{self.seed}", self.model.name, self.seed)

    @property
    def messages_sent(self) -> int:
        return 0

    @property
    def last_command(self) -> str:
        return "simulated array: last operation"

    def note_run(self, **info: str | bool) -> None:
        pass

    @property
    def bench_time_split_s(self) -> dict[str, float]:
        return {}

    @property
    def time_s(self) -> float:
        return self._clock_s

    @property
    def temperature_k(self) -> float:
        return self._temperature_k

    def set_temperature(self, temperature_k: float) -> None:
        """Set the chuck temperature in K; retention relaxes faster when hot."""
        if not np.isfinite(temperature_k) or temperature_k <= 0:
            raise field_error(ConfigError, "temperature_k", temperature_k, "must be a positive number of kelvin")
        self._flush_relaxation()
        self._temperature_k = float(temperature_k)

    def snapshot(self) -> dict[str, np.ndarray]:
        """The dynamic state (device states, ages, clock, RNG, read cache) as arrays, for checkpoints.

        Device-to-device parameters are not included: they follow from ``model`` and ``seed``.
        """
        snap = {"g": self._g.copy(), "age_s": self._age_s.copy(), "relaxed_at_s": self._relaxed_at_s.copy(),
                "clock": np.array([self._clock_s, self._clock_s - self._flushed_at_s, self._temperature_k]),
                "rng": np.array(json.dumps(self.rng.bit_generator.state))}
        if self._cells_cache is not None:
            snap["cells_g"], snap["cells_var"] = (a.copy() for a in self._cells_cache)
        return snap

    def restore(self, snap: dict[str, np.ndarray]) -> None:
        """Return to a :meth:`snapshot` of an array of the same model, seed and layout."""
        if np.shape(snap["g"]) != self._g.shape:
            raise field_error(ConfigError, "snapshot.g.shape", np.shape(snap["g"]), f"expected {self._g.shape}")
        self._g[:] = snap["g"]
        self._cond_valid = False
        self._age_s[:] = snap["age_s"]
        self._clock_s, pending_s, self._temperature_k = (float(v) for v in snap["clock"])
        self._flushed_at_s = self._clock_s - pending_s
        self._relaxed_at_s[:] = snap["relaxed_at_s"] if "relaxed_at_s" in snap else self._flushed_at_s
        self.rng.bit_generator.state = json.loads(str(snap["rng"]))
        has_cache = "cells_g" in snap
        self._cells_cache = (np.array(snap["cells_g"]), np.array(snap["cells_var"])) if has_cache else None

    # -- hooks -------------------------------------------------------------------------------------
    def _do_apply_pulses(self, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        counts = counts.ravel()
        idx = np.flatnonzero(counts)
        return self._do_apply_pulses_at(idx, counts[idx], pulse)

    def _do_apply_pulses_at(self, flat: np.ndarray, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        self._pulse(flat, counts, pulse.amplitude_v, pulse.width_s)
        return self._report(int(counts.sum()), int(counts.max()), pulse)

    def _do_apply_vector_update(self, rows, cols, pulse: PulseSpec, count: int) -> PulseReport:
        full = rows[:, None] & cols[None, :]
        half = (rows[:, None] ^ cols[None, :]).ravel()
        self._pulse(np.flatnonzero(full), np.full(int(full.sum()), count), pulse.amplitude_v, pulse.width_s)
        self._pulse(np.flatnonzero(half), np.full(int(half.sum()), count), pulse.amplitude_v / 2, pulse.width_s)
        return self._report(int(full.sum()) * count, count, pulse)

    def _flat(self, rows, cols) -> np.ndarray:
        """The seam's coordinate check (``BackendBase._flat``), compiled where it passes (every training update)."""
        fast = fast_paths.flat(self, np.asarray(rows), np.asarray(cols))
        return super()._flat(rows, cols) if fast is None else fast

    def _do_read(self, mask: np.ndarray, read: ReadSpec) -> np.ndarray:
        idx = np.flatnonzero(mask)
        out = np.full(self._g.size, np.nan)
        out[idx] = self._do_read_at(idx, read)
        return out.reshape(self.shape)

    def _do_read_at(self, flat: np.ndarray, read: ReadSpec, taken: tuple | None = None) -> np.ndarray:
        """``taken``: (readings, their noise) the pulse kernel already took of these devices
        (:func:`sim_backend.fast_paths.pulse_and_read`): kept unless this read finds the array stale and
        relaxes it, then taken again with the same noise."""
        self._advance(read.duration_s)
        if self._flush_if_stale() or taken is None:
            fast = fast_paths.noisy_read(self, flat, None if taken is None else taken[1])
            return self._noisy(self._conductance(flat), flat) if fast is None else fast
        return taken[0]

    def _do_read_mvm(self, inputs: np.ndarray, read: ReadSpec) -> np.ndarray:
        self._advance(read.duration_s)
        g_cell, g_var = self._cells()
        # float32 (1e-7 relative, far below the read noise) halves the cost of both products
        volts = np.multiply(inputs, read.voltage_v, dtype=np.float32)
        if self.read_model == "shared":
            return volts @ self._shared_reading(g_cell, g_var)
        currents = volts @ g_cell
        currents += self._mvm_read_noise(volts, g_var)
        return currents

    def _shared_reading(self, g_cell: np.ndarray, g_var: np.ndarray) -> np.ndarray:
        """The cells as one noisy reading of each of their devices gives them (``shared``): a cell's
        devices read with independent noise, so its reading is ``g + sqrt(var) * N(0, 1)`` with the
        variance ``_mvm_read_noise`` sums per sample, drawn once per call for every sample alike."""
        noise = self.noise.standard_normal(g_var.shape)
        fast = fast_paths.shared_reading(self, g_cell, g_var, noise)
        if fast is not None:
            return fast
        noisy = np.sqrt(g_var)
        noisy *= noise
        noisy += g_cell
        return noisy

    def _mvm_read_noise(self, volts: np.ndarray, g_var: np.ndarray) -> np.ndarray:
        """Read noise of each column current: independent per device, so its variance is
        ``sum_i (V_i * sigma_i * g_i)**2`` over the devices of the column (``volts`` is overwritten).

        Exact per sample: a second product as large as the MVM itself (half a floating-point epoch of
        784-256-128-10 training; ``benchmarks/training.py --breakdown``, docs/performance.md).
        """
        np.square(volts, out=volts)
        sigma = volts @ g_var
        np.sqrt(sigma, out=sigma)
        sigma *= self.noise.standard_normal(sigma.shape)
        return sigma

    def _do_sweep_transfer(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float) -> np.ndarray:
        idx = np.flatnonzero(mask)
        out = np.empty((idx.size, gate_v.size))
        for k, vg in enumerate(gate_v):
            for pop, sel in self._split(idx):
                if abs(vg) >= pop.params.transfer.coercive_v:
                    self._pulse(idx[sel], np.ones(idx[sel].size, dtype=np.int64), vg, SWEEP_DWELL_S)
            self._advance(SWEEP_DWELL_S)
            for pop, sel in self._split(idx):
                current = physics.drain_current(pop.params.transfer, self._g[idx[sel]], vg, drain_v)
                out[sel, k] = self._noisy(current, idx[sel])
        dead = self._dead()
        if dead is not None:
            out[dead[idx]] = 0.0  # an open line carries no drain current
        return out

    def _do_wait(self, duration_s: float) -> None:
        self._advance(duration_s)
        self._flush_relaxation()

    def _do_close(self) -> None:
        """Nothing to switch off; the state stays readable through ``state``."""

    # -- physics bookkeeping -----------------------------------------------------------------------
    def _split(self, idx: np.ndarray):
        """Yield (population, positions in ``idx`` of its members) for each population present."""
        if len(self._pops) == 1:
            yield self._pops[0], slice(None)
            return
        kinds = self._kind[idx]
        for k, pop in enumerate(self._pops):
            sel = np.flatnonzero(kinds == k)
            if sel.size:
                yield pop, sel

    def _dead(self) -> np.ndarray | None:
        """Flat mask of devices on a dead line, or None when every line works."""
        if not (self.faults.dead_rows or self.faults.dead_cols):
            return None
        return self.faults.dead_mask(self.shape).ravel()

    def _conductance(self, idx: np.ndarray | None) -> np.ndarray:
        """Noise-free conductance of devices ``idx`` (any shape of flat indices; None = every device)."""
        dead = self._dead()
        if not self._cond_valid:  # kept per device: a read or cell update gathers one value, not three
            self._cond_dev[:] = physics.conductance(self._g, self._g_min_dev, self._g_max_dev,
                                                    self._any_log and self._log_dev)
            self._cond_valid = True
        if idx is None:
            out = self._cond_dev
        else:
            out = self._cond_dev[idx]
            dead = None if dead is None else dead[idx]
        return np.where(dead, 0.0, out) if dead is not None and dead.any() else out

    def _noisy(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        sigma = self._read_sigma(idx)
        return values * (1 + sigma * self.noise.standard_normal(values.shape))

    def _read_sigma(self, idx: np.ndarray):
        """Relative read noise of devices ``idx`` (a scalar when every device shares it)."""
        return self._pops[0].params.variation.read_noise if self._one_pop else self._read_sigma_dev[idx]

    def _report(self, pulses: int, longest: int, pulse: PulseSpec) -> PulseReport:
        duration = longest * (pulse.width_s + pulse.rise_s + pulse.fall_s)
        self._advance(duration)
        return PulseReport(pulses, 0, duration)

    def _advance(self, duration_s: float) -> None:
        self._clock_s += duration_s

    def _stale_bound(self) -> float:
        """Upper bound of the relative relaxation any device has not yet been given (nu * dt / t0)."""
        pending = self._clock_s - self._flushed_at_s
        if pending <= 0:
            return 0.0
        return self._retention_rates()[1] * pending

    def _retention_rates(self) -> tuple[list[float], float]:
        """Each population's retention exponent at the chuck's temperature, and the stale bound's rate (the
        largest ``nu / t0``): kept per temperature (every read, MVM and pulse asks)."""
        if self._retention_at[0] != self._temperature_k:
            exponents = [physics.retention_exponent(pop.params.retention, self._temperature_k) for pop in self._pops]
            rate = max(nu / pop.params.retention.t0_s for nu, pop in zip(exponents, self._pops))
            self._retention_at = (self._temperature_k, exponents, rate)
        return self._retention_at[1], self._retention_at[2]

    def _flush_if_stale(self) -> bool:
        """Relax every device once the relaxation not yet applied could exceed ``RELAX_TOLERANCE``; whether it did."""
        if self._stale_bound() > RELAX_TOLERANCE:
            self._flush_relaxation()
            return True
        return False

    def _flush_relaxation(self) -> None:
        """Relax every device up to the clock (at this temperature); invalidates the cell cache."""
        if self._clock_s <= self._flushed_at_s:
            return
        self._relax()
        self._flushed_at_s = self._clock_s
        self._cells_cache = None

    def _relax(self) -> None:
        """Relax every device over the time since each was last relaxed (exact, per device)."""
        if fast_paths.relax_all(self):  # compiled: one pass, conductances kept
            return
        dt = self._clock_s - self._relaxed_at_s
        if not dt.any():
            return
        for pop in self._pops:
            sel = slice(None) if self._one_pop else pop.index  # one population: no gather
            self._g[sel] = physics.relax(pop.params.retention, self._g[sel], self._age_s[sel], dt[sel],
                                         self._temperature_k)
        self._age_s += dt
        self._relaxed_at_s[:] = self._clock_s
        self._cond_valid = False
        self._apply_faults()

    def _apply_faults(self) -> None:
        if self.faults.stuck_on or self.faults.stuck_off:
            self.faults.pin(self._g.reshape(self.shape))  # a view: the column's strides reshape without a copy
            self._cond_valid = False
