"""Device faults seen in the measurements: a dead line or open path, a stuck device, a device that never switches.

The checks read only what a procedure measures anyway (no extra reads) and never ask the simulator:

- **floor** (:mod:`labctl.devicefault`): a device reading below ``FLOOR_FRACTION`` of the smallest conductance the model allows
  (or a transfer sweep whose largest current stays below that floor times the drain bias) conducts
  nothing: a dead line or an open relay path. Several such devices on one row name the row line.
- **stuck**: per device, consecutive write trains of one polarity, each bracketed by reads, are
  summed into the motion the model expects (its pulse step at the state last read, counted only
  while the device is away from the bound that polarity drives it to, so saturation is not a
  fault). A device expected to cross ``STUCK_EXPECTED`` of its range that moved less than
  ``STUCK_MOVED`` is stuck. Opposite-polarity trains (write-verify around a target, alternating
  pulses) restart the count; reads without pulses (retention) never count. Weight devices only: a
  sparsity device is a switch read on a log scale (its own procedures re-pulse and count bit errors).
- **no hysteresis**: a double gate sweep beyond the coercive voltage whose forward and reverse
  branches agree within ``HYSTERESIS_DECADES`` everywhere: the device's state did not switch.

A fault raises :class:`DeviceFaultError` naming the device or line, the instrument and its last
command; the runner's caller closes the backend (outputs off, relays open). On ``--resume`` the
replayed operations rebuild the history, but stuck evidence restarts where the live bench takes over
(the fault may have been mended).
"""

from __future__ import annotations

import numpy as np

from labctl.devicefault import FLOOR_FRACTION, DeviceFaultError, check_floor
from labctl.layout import Role

__all__ = ["DeviceFaultError", "HealthMonitor"]

STUCK_EXPECTED = 0.4
"""Expected motion (fractions of the range) after which an unmoved device is stuck."""
STUCK_MOVED = 0.1
"""Motion (fraction of the range) below which a device counts as unmoved (two reads differ by ~0.06)."""
AWAY_FROM_BOUND = 0.6
"""A potentiating train counts while the device reads below this fraction of its range (depressing: above 1 - it)."""
HYSTERESIS_DECADES = 0.3
"""Forward/reverse drain-current difference (decades) a switching FeFET exceeds somewhere in its sweep."""


class HealthMonitor:
    """Watches a procedure's operations and results; raises :class:`DeviceFaultError` on a fault."""

    def __init__(self, backend, model) -> None:
        self.backend = backend
        layout = backend.layout
        self.device = model.weight
        self.g_min, self.span = model.weight.g_min_s, model.weight.g_max_s - model.weight.g_min_s
        sparse = layout.partner is Role.SPARSITY and model.sparsity is not None
        self.weights = ~layout.role_mask(Role.SPARSITY) if sparse else np.ones(layout.shape, dtype=bool)
        self.floor_s = FLOOR_FRACTION * min(model.weight.g_min_s, model.sparsity.g_min_s if sparse else np.inf)
        self.coercive_v = model.weight.transfer.coercive_v
        shape = layout.shape
        self.last = np.full(shape, np.nan)          # last reading
        self.pending = np.zeros(shape, dtype=np.int64)  # signed pulses since the last reading (0 if mixed)
        self.mixed = np.zeros(shape, dtype=bool)
        self.polarity = np.zeros(shape, dtype=np.int8)  # polarity of the current streak
        self.anchor = np.full(shape, np.nan)        # reading where the streak started
        self.expected = np.zeros(shape)             # motion the model expects from the streak (fractions)
        self.streak_pulses = np.zeros(shape, dtype=np.int64)
        self._steps: dict = {}
        self._pulse_of: dict = {}  # the last pulse of each polarity

    def __call__(self, name: str, args: tuple, result) -> None:
        if name in ("apply_pulses", "apply_vector_update"):
            if name == "apply_pulses":
                devices, pulse, count = args
                counts = np.broadcast_to(np.asarray(count), self.last.shape) * np.asarray(devices, dtype=bool)
            else:
                rows, cols, pulse, count = args
                counts = np.outer(np.asarray(rows, bool), np.asarray(cols, bool)) * int(count)
            self._pulsed(np.asarray(counts, dtype=np.int64), pulse)
        elif name == "apply_pulses_at":
            rows, cols, pulse, counts = args
            self._pulsed(self._grid(rows, cols, counts, 0).astype(np.int64), pulse)
        elif name == "pulse_and_read_at":
            rows, cols, pulses, counts, _ = args
            signed = self._grid(rows, cols, counts, 0).astype(np.int64)
            for sign in (+1, -1):
                if (signed * sign > 0).any():
                    self._pulsed(np.maximum(signed * sign, 0), pulses[sign])
            self._read(self._grid(rows, cols, result[1], np.nan))
        elif name == "read":
            self._read(np.asarray(result, dtype=float))
        elif name == "read_at":
            self._read(self._grid(args[0], args[1], result, np.nan))
        elif name == "resumed":  # the bench may have been mended since: stuck evidence starts afresh
            self.polarity[:] = 0
            self.expected[:] = 0.0
            self.streak_pulses[:] = 0
        elif name == "sweep_transfer":
            self._sweep(np.asarray(args[0], dtype=bool), np.asarray(args[1], dtype=float), float(args[2]),
                        np.asarray(result, dtype=float))

    # -- write trains and reads --------------------------------------------------------------------
    def _grid(self, rows, cols, values, fill: float) -> np.ndarray:
        """Per-coordinate ``values`` laid out on the device grid (``fill`` elsewhere)."""
        grid = np.full(self.last.shape, fill, dtype=float)
        grid[np.asarray(rows), np.asarray(cols)] = values
        return grid

    def _pulsed(self, counts: np.ndarray, pulse) -> None:
        sign = 1 if pulse.amplitude_v > 0 else -1
        hit = counts > 0
        self.mixed |= hit & (self.pending * sign < 0)
        self.pending = np.where(hit, self.pending + sign * counts, self.pending)
        self._pulse_of[sign] = pulse

    def _read(self, g: np.ndarray) -> None:
        seen = np.isfinite(g)
        rows, cols = np.nonzero(seen)
        check_floor(rows, cols, g[rows, cols], self.floor_s, self.backend)
        trained = seen & (self.pending != 0) & ~self.mixed & self.weights
        for r, c in zip(*np.nonzero(trained)):
            self._train_seen(int(r), int(c), float(g[r, c]))
        self.last = np.where(seen, g, self.last)
        self.pending[seen] = 0
        self.mixed[seen] = False

    def _train_seen(self, r: int, c: int, g: float) -> None:
        n = int(self.pending[r, c])
        sign = 1 if n > 0 else -1
        before = self.last[r, c]
        if np.isnan(before):  # never read: assume the bound this train drives it away from (the worst case)
            before = self.g_min + (0.0 if sign > 0 else self.span)
        state = (before - self.g_min) / self.span
        if self.polarity[r, c] != sign:  # a new streak starts at the reading before this train
            self.polarity[r, c], self.anchor[r, c] = sign, before
            self.expected[r, c], self.streak_pulses[r, c] = 0.0, 0
        away = state < AWAY_FROM_BOUND if sign > 0 else state > 1 - AWAY_FROM_BOUND
        if away:
            self.expected[r, c] += abs(n) * self._step(sign, float(np.clip(state, 0, 1)))
            self.streak_pulses[r, c] += abs(n)
        moved = sign * (g - self.anchor[r, c]) / self.span
        if moved > 0.5 * self.expected[r, c] and moved > STUCK_MOVED:  # it responds: start over from here
            self.anchor[r, c], self.expected[r, c], self.streak_pulses[r, c] = g, 0.0, 0
        elif self.expected[r, c] >= STUCK_EXPECTED and moved < STUCK_MOVED:
            kind = "potentiating" if sign > 0 else "depressing"
            raise DeviceFaultError(
                f"stuck device {r}:{c}: {self.streak_pulses[r, c]} {kind} pulses moved it {100 * moved:+.1f} % of its "
                f"range (model: {100 * self.expected[r, c]:.0f} %); {self.backend.last_command}")

    def _step(self, sign: int, state: float) -> float:
        """The model's step of one pulse (fraction of the range) at ``state`` (cached on a 0.01 grid)."""
        from device_models import physics

        pulse, state = self._pulse_of[sign], round(state, 2)
        key = (sign, state, pulse.amplitude_v, pulse.width_s)
        if key not in self._steps:
            d = self.device
            side = d.potentiation if sign > 0 else d.depression
            self._steps[key] = float(physics.pulse_step(side, sign > 0, state, pulse.amplitude_v, pulse.width_s,
                                                        d.reference_amplitude_v, d.reference_width_s))
        return self._steps[key]

    # -- transfer sweeps ---------------------------------------------------------------------------
    def _sweep(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float, current: np.ndarray) -> None:
        devices = np.argwhere(mask)
        peak = np.nanmax(np.abs(current), axis=1)
        floor_a = self.floor_s * abs(drain_v)
        for (r, c), i in zip(devices, peak):
            if i <= floor_a:
                raise DeviceFaultError(f"dead line or open path at device {r}:{c}: largest drain current {i:.3g} A "
                                       f"in the sweep, below {floor_a:.1e} A; {self.backend.last_command}")
        turn = int(np.argmax(np.abs(np.diff(np.sign(np.diff(gate_v)))) > 0)) + 1 if gate_v.size > 2 else 0
        if turn == 0 or min(gate_v.max(), -gate_v.min()) < self.coercive_v or 2 * turn + 1 != gate_v.size:
            return  # not a double sweep across the coercive voltage: no hysteresis expected
        fwd, rev = np.abs(current[:, :turn + 1]), np.abs(current[:, turn:][:, ::-1])
        ok = (fwd > floor_a) & (rev > floor_a)
        decades = np.where(ok, np.abs(np.log10(np.where(ok, fwd, 1.0) / np.where(ok, rev, 1.0))), 0.0).max(axis=1)
        for (r, c), d in zip(devices, decades):
            if d < HYSTERESIS_DECADES:
                raise DeviceFaultError(f"device {r}:{c} does not switch (stuck, or a dead line that passes no write): "
                                       f"its gate sweep to +/-{np.abs(gate_v).max():g} V shows no hysteresis "
                                       f"(branches within {d:.2f} decades); {self.backend.last_command}")

