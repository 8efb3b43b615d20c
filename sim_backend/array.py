"""``SimulatedArray``: the FeFET chip as vectorised numpy physics behind the ``ArrayBackend`` seam.

Each device carries its own bounds, step scales and nonlinearity drawn once from the model's
device-to-device variation; each pulse adds cycle-to-cycle noise and each reading read noise. Time
is a simulated clock: pulses and reads advance it, ``wait`` jumps it, and retention relaxes the
stored states over it, so 1000 s or ten years of retention run in milliseconds. All physics comes
from :mod:`device_models.physics`; this module only holds state and bookkeeping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from device_models import physics
from device_models.modelfile import load_model
from device_models.params import ChipModel, DeviceParams
from labctl.backend import BackendBase, PulseReport
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout, Role
from labctl.specs import DEFAULT_LIMITS, PulseSpec, ReadSpec, SafetyLimits

from .faults import Faults

SWEEP_DWELL_S = 1e-3
"""Time the SMU holds each point of a DC gate sweep, in s (hold + integration)."""


@dataclass
class _Population:
    """Devices of one kind (weight or sparsity) with their per-device parameters (flat arrays)."""

    params: DeviceParams
    index: np.ndarray
    g_min: np.ndarray
    g_max: np.ndarray
    up_scale: np.ndarray
    down_scale: np.ndarray
    up_exponent: np.ndarray
    down_exponent: np.ndarray

    @classmethod
    def draw(cls, params: DeviceParams, index: np.ndarray, rng: np.random.Generator) -> _Population:
        var, n = params.variation, index.size
        g_min = params.g_min_s * (1 + var.d2d_bounds * rng.standard_normal(n))
        g_max = params.g_max_s * (1 + var.d2d_bounds * rng.standard_normal(n))
        g_min = np.clip(g_min, 0.05 * params.g_min_s, None)
        g_max = np.maximum(g_max, g_min * 1.01)
        scales = np.exp(var.d2d_step * rng.standard_normal((2, n)) - var.d2d_step**2 / 2)
        exps = [side.shape.exponent * np.clip(1 + var.d2d_nonlinearity * rng.standard_normal(n), 0.1, None)
                for side in (params.potentiation, params.depression)]
        return cls(params, index, g_min, g_max, scales[0], scales[1], exps[0], exps[1])

    def mean_step(self, g: np.ndarray, sel: np.ndarray, amplitude_v: float, width_s: float) -> np.ndarray:
        """Signed mean state change of one pulse for the members ``sel`` (indices into this population)."""
        up = amplitude_v > 0
        side = self.params.potentiation if up else self.params.depression
        scale = (self.up_scale if up else self.down_scale)[sel]
        exponent = (self.up_exponent if up else self.down_exponent)[sel] if side.shape.kind == "power" else None
        step = physics.pulse_step(side, up, g, amplitude_v, width_s, self.params.reference_amplitude_v,
                                  self.params.reference_width_s, exponent)
        return (1 if up else -1) * scale * step


class SimulatedArray(BackendBase):
    """A simulated FeFET array (900 devices by default) implementing :class:`labctl.backend.ArrayBackend`.

    >>> with SimulatedArray("ning-mos2-fefet", seed=1) as chip:
    ...     g = chip.read(chip.layout.role_mask(Role.WEIGHT))
    >>> int(np.isfinite(g).sum())
    450
    """

    def __init__(self, model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, limits: SafetyLimits = DEFAULT_LIMITS,
                 temperature_k: float = 300.0, faults: Faults | None = None,
                 initial_state: float = 0.0, age_s: float = 0.0) -> None:
        self.model = load_model(model)
        if layout is None:
            layout = CellLayout.sparse() if self.model.sparsity is not None else CellLayout.dense(30, 30)
        if layout.partner is Role.SPARSITY and self.model.sparsity is None:
            raise field_error(ConfigError, "layout", "sparse", f"model {self.model.name!r} has no sparsity device")
        super().__init__(layout, limits)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.faults = faults or Faults()
        self.faults.check(self.shape)
        self._temperature_k = float(temperature_k)
        self._clock_s = 0.0
        self._pending_s = 0.0
        sparse = layout.role_mask(Role.SPARSITY).ravel()
        self._pops = [_Population.draw(self.model.weight, np.flatnonzero(~sparse), self.rng)]
        if sparse.any():
            self._pops.append(_Population.draw(self.model.sparsity, np.flatnonzero(sparse), self.rng))
        self._kind = np.zeros(sparse.size, dtype=np.int8)
        self._kind[sparse] = 1
        # Per-device views of the population parameters: O(1) lookups instead of searchsorted.
        self._member = np.zeros(sparse.size, dtype=np.int64)
        self._g_min_dev, self._g_max_dev, self._read_sigma_dev = (np.empty(sparse.size) for _ in range(3))
        self._log_dev = np.zeros(sparse.size, dtype=bool)
        for pop in self._pops:
            self._member[pop.index] = np.arange(pop.index.size)
            self._g_min_dev[pop.index], self._g_max_dev[pop.index] = pop.g_min, pop.g_max
            self._read_sigma_dev[pop.index] = pop.params.variation.read_noise
            self._log_dev[pop.index] = pop.params.conductance_scale == "log"
        self._g = np.full(sparse.size, float(initial_state))
        self._age_s = np.full(sparse.size, float(age_s))
        self._cells_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._cell_sigma: tuple[np.ndarray, np.ndarray | None] | None = None
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
        return self._conductance(None).reshape(self.shape)

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
        snap = {"g": self._g.copy(), "age_s": self._age_s.copy(),
                "clock": np.array([self._clock_s, self._pending_s, self._temperature_k]),
                "rng": np.array(json.dumps(self.rng.bit_generator.state))}
        if self._cells_cache is not None:
            snap["cells_g"], snap["cells_var"] = (a.copy() for a in self._cells_cache)
        return snap

    def restore(self, snap: dict[str, np.ndarray]) -> None:
        """Return to a :meth:`snapshot` of an array of the same model, seed and layout."""
        if np.shape(snap["g"]) != self._g.shape:
            raise field_error(ConfigError, "snapshot.g.shape", np.shape(snap["g"]), f"expected {self._g.shape}")
        self._g = np.array(snap["g"], dtype=float)
        self._age_s = np.array(snap["age_s"], dtype=float)
        self._clock_s, self._pending_s, self._temperature_k = (float(v) for v in snap["clock"])
        self.rng.bit_generator.state = json.loads(str(snap["rng"]))
        has_cache = "cells_g" in snap
        self._cells_cache = (np.array(snap["cells_g"]), np.array(snap["cells_var"])) if has_cache else None

    # -- hooks -------------------------------------------------------------------------------------
    def _do_apply_pulses(self, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        counts = counts.ravel()
        idx = np.flatnonzero(counts)
        self._pulse(idx, counts[idx], pulse.amplitude_v, pulse.width_s)
        return self._report(int(counts.sum()), int(counts.max()), pulse)

    def _do_apply_vector_update(self, rows, cols, pulse: PulseSpec, count: int) -> PulseReport:
        full = rows[:, None] & cols[None, :]
        half = (rows[:, None] ^ cols[None, :]).ravel()
        self._pulse(np.flatnonzero(full), np.full(int(full.sum()), count), pulse.amplitude_v, pulse.width_s)
        self._pulse(np.flatnonzero(half), np.full(int(half.sum()), count), pulse.amplitude_v / 2, pulse.width_s)
        return self._report(int(full.sum()) * count, count, pulse)

    def _do_read(self, mask: np.ndarray, read: ReadSpec) -> np.ndarray:
        self._advance(read.duration_s)
        idx = np.flatnonzero(mask)
        out = np.full(self._g.size, np.nan)
        out[idx] = self._noisy(self._conductance(idx), idx)
        return out.reshape(self.shape)

    def _do_read_mvm(self, inputs: np.ndarray, read: ReadSpec) -> np.ndarray:
        self._advance(read.duration_s)
        g_cell, g_var = self._cells()
        volts = inputs * read.voltage_v
        currents = volts @ g_cell
        sigma = np.sqrt((volts * volts) @ g_var)
        return currents + sigma * self.rng.standard_normal(currents.shape)

    def _do_sweep_transfer(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float) -> np.ndarray:
        idx = np.flatnonzero(mask)
        out = np.empty((idx.size, gate_v.size))
        for k, vg in enumerate(gate_v):
            for pop, sel in self._split(idx):
                if abs(vg) >= pop.params.transfer.coercive_v:
                    self._pulse(idx[sel], np.ones(sel.size, dtype=np.int64), vg, SWEEP_DWELL_S)
            self._advance(SWEEP_DWELL_S)
            for pop, sel in self._split(idx):
                current = physics.drain_current(pop.params.transfer, self._g[idx[sel]], vg, drain_v)
                out[sel, k] = self._noisy(current, idx[sel])
        return out

    def _do_wait(self, duration_s: float) -> None:
        self._advance(duration_s)
        self._flush_relaxation()

    def _do_close(self) -> None:
        """Nothing to switch off; the state stays readable through ``state``."""

    # -- physics bookkeeping -----------------------------------------------------------------------
    def _pulse(self, idx: np.ndarray, counts: np.ndarray, amplitude_v: float, width_s: float) -> None:
        """Apply ``counts[i]`` pulses to flat device ``idx[i]``; cost scales with pulses, not devices."""
        writable = self._writable(idx)
        idx, counts = idx[writable], counts[writable]
        if idx.size == 0:
            return
        self._flush_relaxation()
        before = self._g[idx]
        for pop, sel in self._split(idx):
            members = self._member[idx[sel]]
            left = counts[sel]
            c2c = pop.params.variation.c2c_write
            while members.size:
                devices = pop.index[members]
                g = self._g[devices]
                step = pop.mean_step(g, members, amplitude_v, width_s)
                step *= 1 + c2c * self.rng.standard_normal(step.size)
                self._g[devices] = np.clip(g + step, 0.0, 1.0)
                left = left - 1
                members = members[left > 0]
                left = left[left > 0]
            rewritten = np.abs(self._g[idx[sel]] - before[sel]) >= pop.params.retention.rewrite_threshold
            self._age_s[idx[sel][rewritten]] = 0.0
        self._cells_cache = None
        self._apply_faults()

    def _split(self, idx: np.ndarray):
        """Yield (population, positions in ``idx`` of its members) for each population present."""
        kinds = self._kind[idx]
        for k, pop in enumerate(self._pops):
            sel = np.flatnonzero(kinds == k)
            if sel.size:
                yield pop, sel

    def _conductance(self, idx: np.ndarray | None) -> np.ndarray:
        """Noise-free conductance of devices ``idx`` (None = every device, without gathering)."""
        dead = self.faults.dead_mask(self.shape).ravel()
        if idx is None:
            out = physics.conductance(self._g, self._g_min_dev, self._g_max_dev, self._log_dev)
        else:
            out = physics.conductance(self._g[idx], self._g_min_dev[idx], self._g_max_dev[idx], self._log_dev[idx])
            dead = dead[idx]
        return np.where(dead, 0.0, out) if dead.any() else out

    def _noisy(self, values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        sigma = self._read_sigma_dev[idx] if idx.size else 0
        return values * (1 + sigma * self.rng.standard_normal(values.shape))

    def _cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell conductance matrix and its read-noise variance, cached until the next write."""
        if self._cells_cache is None:
            self._flush_relaxation()
            lay = self.layout
            g = self._conductance(None).reshape(self.shape)
            if self._cell_sigma is None:  # read-noise sigmas are fixed per device: gather them once
                sigma = self._read_sigma_dev.reshape(self.shape)
                self._cell_sigma = (lay.to_cells(sigma),
                                    lay.to_cells(sigma, Role.REFERENCE) if lay.partner is Role.REFERENCE else None)
            g_w, s_w = lay.to_cells(g), self._cell_sigma[0]
            var = (s_w * g_w) ** 2
            if lay.partner is Role.SPARSITY:
                g_s = lay.to_cells(g, Role.SPARSITY)
                g_w = g_w * g_s / (g_w + g_s)
                var = (s_w * g_w) ** 2
            elif lay.partner is Role.REFERENCE:
                g_r = lay.to_cells(g, Role.REFERENCE)
                var = var + (self._cell_sigma[1] * g_r) ** 2
                g_w = g_w - g_r
            self._cells_cache = (g_w, var)
        return self._cells_cache

    def _report(self, pulses: int, longest: int, pulse: PulseSpec) -> PulseReport:
        duration = longest * (pulse.width_s + pulse.rise_s + pulse.fall_s)
        self._advance(duration)
        return PulseReport(pulses, 0, duration)

    def _advance(self, duration_s: float) -> None:
        self._clock_s += duration_s
        self._pending_s += duration_s

    def _flush_relaxation(self) -> None:
        """Relax every device over the time that passed since the last flush (at this temperature)."""
        if self._pending_s <= 0:
            return
        for pop in self._pops:
            if len(self._pops) == 1:  # one population holds every device: no gather / scatter
                self._g = physics.relax(pop.params.retention, self._g, self._age_s, self._pending_s,
                                        self._temperature_k)
                continue
            devices = pop.index
            self._g[devices] = physics.relax(pop.params.retention, self._g[devices], self._age_s[devices],
                                             self._pending_s, self._temperature_k)
        self._age_s += self._pending_s
        self._pending_s = 0.0
        self._cells_cache = None
        self._apply_faults()

    def _writable(self, idx: np.ndarray) -> np.ndarray:
        return ~self.faults.dead_mask(self.shape).ravel()[idx]

    def _apply_faults(self) -> None:
        self.faults.pin(self._g.reshape(self.shape))
