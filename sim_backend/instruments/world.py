"""The simulated bench: clock, wiring (probe-card map) and the chip's physics behind the instruments.

Electrical model (an abstraction, the same one :class:`~sim_backend.SimulatedArray` uses): device
``(r, c)`` sees ``v_row[r] - v_col[c]``. A line is at the potential of the instrument channel its
closed relay connects it to (if that output is on) and at 0 V otherwise: the matrix is assumed to
ground unconnected outputs (the B2200A/E5250A bias/ground-unused mode). Write pulses apply the
pulse-level difference to every device; an SMU measures the current ``G * dv`` of the devices on its
lines; a staircase sweep with a row (gate) SMU and column (drain) SMUs runs the chip's transfer
curve. Only devices that are really routed are touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from labctl.benchfile import BenchTimings
from labctl.probecard import ProbeCardMap
from labctl.specs import PulseSpec, ReadSpec, SafetyLimits
from sim_backend.array import SimulatedArray

CHIP_LIMITS = SafetyLimits(max_write_v=40.0, max_width_s=10.0, max_gate_v=40.0, max_drain_v=40.0,
                           max_read_v=40.0)
"""The simulated chip accepts whatever the instruments can deliver; HardwareArray enforces the real limits."""
CHIP_AGE_S = 1e8
"""Seconds since the simulated bench chip's initial state was written (about 3 years): a chip that
reaches the probe station has rested, so its first bench-paced minutes see no fast early drift."""
READ_PROBE = ReadSpec(0.1, bipolar=False, integration_s=1e-4, limits=CHIP_LIMITS)
"""Spec used to draw a noisy conductance from the chip; the current is then G * dv."""


@dataclass(frozen=True)
class Output:
    """One thing the simulated instruments put on the chip."""

    kind: str
    """``pulse`` (SPGU run), ``read`` (DC spot), ``gate`` / ``drain`` (staircase sweep)."""
    level_v: float
    """Largest voltage across any device (pulse, read) or on the swept gate / the drains, in V."""
    width_s: float = 0.0
    """Pulse width in s (pulses)."""
    rise_s: float = 0.0
    """Pulse rise time in s (pulses)."""
    fall_s: float = 0.0
    """Pulse fall time in s (pulses)."""
    count: int = 0
    """Pulses in the run (pulses)."""


class SimClock:
    """Simulated bench time: advanced by the fakes' timing model, never by sleeping."""

    def __init__(self) -> None:
        self.t_s = 0.0

    def now(self) -> float:
        return self.t_s

    def sleep(self, duration_s: float) -> None:
        self.t_s += duration_s


class BenchWorld:
    """Ties the chip to the fakes: who drives which line, and what a trigger does to the chip."""

    def __init__(self, chip: SimulatedArray, probecard: ProbeCardMap, timings: BenchTimings) -> None:
        self.chip = chip
        self.map = probecard
        self.timings = timings
        self.clock = SimClock()
        self.b1500 = None
        self.switches: dict = {}
        self.hot_switches: list[str] = []
        """Relay changes attempted while an output was on (each also queued as a matrix error)."""
        self.outputs: list[Output] = []
        """What the instruments were asked to put on the chip, in order (the limit audit's evidence)."""
        self.fault_plan = None
        """The injected faults (``FaultPlan``) or None."""
        self._wiring: tuple[tuple, dict[tuple[str, int], int], dict[int, list[tuple[bool, int]]]] = ((), {}, {})
        """(closed relays of every matrix, :meth:`line_channels`, channel -> [(is row, line index)] in that
        order): the wiring changes with the relays only, and every trigger asks for it."""

    # -- timing ------------------------------------------------------------------------------------
    def bus(self) -> None:
        """One message on the bus."""
        self.clock.sleep(self.timings.round_trip_s)

    def advance(self, duration_s: float) -> None:
        self.clock.sleep(duration_s)

    def _sync_chip(self) -> None:
        lag = self.clock.now() - self.chip.time_s
        if lag > 0:
            self.chip.wait(lag)

    # -- checkpoints -------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, np.ndarray]:
        """The whole simulated bench at this instant: the chip (its own snapshot, RNG included), the
        clock and the instruments' settings and relays. The evidence lists (outputs, hot switches) are
        not state and are kept across a restore."""
        bench = {"clock_s": self.clock.t_s,
                 "b1500": None if self.b1500 is None else self.b1500.settings(),
                 "switches": {name: sw.settings() for name, sw in self.switches.items()}}
        return {**{f"chip.{k}": v for k, v in self.chip.snapshot().items()}, "bench": np.array(json.dumps(bench))}

    def restore(self, snap: dict[str, np.ndarray]) -> None:
        """Return to a :meth:`snapshot` of a bench built from the same bench file, model and seed."""
        self.chip.restore({k[len("chip."):]: v for k, v in snap.items() if k.startswith("chip.")})
        bench = json.loads(str(snap["bench"]))
        self.clock.t_s = float(bench["clock_s"])
        if self.b1500 is not None and bench["b1500"] is not None:
            self.b1500.adopt(bench["b1500"])
        for name, settings in bench["switches"].items():
            self.switches[name].adopt(settings)

    def closed_relays(self) -> dict[str, set[tuple[int, int, int]]]:
        """Closed relays of every matrix, as the driver caches them."""
        return {name: set(sw.closed) for name, sw in self.switches.items()}

    # -- wiring ------------------------------------------------------------------------------------
    def outputs_on(self) -> bool:
        return self.b1500 is not None and bool(self.b1500.enabled)

    def line_channels(self) -> dict[tuple[str, int], int]:
        """Array line -> instrument channel, through every closed relay."""
        return self._wired()[1]

    def _wired(self) -> tuple[tuple, dict[tuple[str, int], int], dict[int, list[tuple[bool, int]]]]:
        """:attr:`_wiring`, rebuilt when a relay changed (compared by value: a test may close one by hand)."""
        closed = tuple(frozenset(sw.closed) for sw in self.switches.values())
        if closed != self._wiring[0]:
            lines = {}
            for name, switch in self.switches.items():
                for card, inp, pin in switch.closed:
                    line = self.map.line_at(name, card, pin)
                    channel = self.map.channel_at(name, inp)
                    if line is not None and channel is not None:
                        lines[line] = channel
            by_channel: dict[int, list[tuple[bool, int]]] = {}
            for (kind, index), channel in lines.items():
                by_channel.setdefault(channel, []).append((kind == "row", index))
            self._wiring = (closed, lines, by_channel)
        return self._wiring

    def potentials(self, levels: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Row and column potentials when each enabled channel sits at ``levels[channel]``."""
        rows, cols = np.zeros(self.chip.shape[0]), np.zeros(self.chip.shape[1])
        for channel, lines in self._wired()[2].items():
            if channel in levels:
                for is_row, index in lines:
                    (rows if is_row else cols)[index] = levels[channel]
        return rows, cols

    # -- physics -----------------------------------------------------------------------------------
    def pulse(self, base: dict[int, float], peak: dict[int, float], width_s: float, rise_s: float,
              fall_s: float, count: int) -> None:
        """A counted SPGU run: every device sees (peak difference - base difference) ``count`` times."""
        self._sync_chip()
        r0, c0 = self.potentials(base)
        r1, c1 = self.potentials(peak)
        amplitude = (r1[:, None] - c1[None, :]) - (r0[:, None] - c0[None, :])
        self.outputs.append(Output("pulse", float(np.abs(amplitude).max()), width_s, rise_s, fall_s, count))
        for value in np.unique(amplitude[amplitude != 0]):
            spec = PulseSpec(float(value), width_s, rise_s, fall_s, limits=CHIP_LIMITS)
            self.chip.apply_pulses(amplitude == value, spec, count)

    def currents(self, dc: dict[int, float], sense: list[int]) -> list[float]:
        """Current out of each ``sense`` SMU (A) with every enabled SMU at its DC level."""
        self._sync_chip()
        rows, cols = self.potentials(dc)
        dv = rows[:, None] - cols[None, :]
        self.outputs.append(Output("read", float(np.abs(dv).max())))
        lines = self._wired()[2]
        touched = np.zeros(self.chip.shape, dtype=bool)
        for channel in set(sense):
            for is_row, index in lines.get(channel, ()):
                if is_row:
                    touched[index, :] = True
                else:
                    touched[:, index] = True
        touched &= dv != 0
        g = self.chip.read(touched, READ_PROBE) if touched.any() else np.full(self.chip.shape, np.nan)
        i = np.where(touched, np.nan_to_num(g) * dv, 0.0)
        out = []
        for channel in sense:
            total = 0.0
            for is_row, index in lines.get(channel, ()):
                total += i[index].sum() if is_row else -i[:, index].sum()
            out.append(float(total))
        return out

    def sweep(self, gate: int, gate_v: np.ndarray, dc: dict[int, float], sense: list[int]) -> np.ndarray:
        """Staircase sweep of the ``gate`` SMU; drain current out of each ``sense`` SMU, ``(len(sense), points)``."""
        self._sync_chip()
        lines = self.line_channels()
        gate_rows = [i for (k, i), ch in lines.items() if ch == gate and k == "row"]
        self.outputs.append(Output("gate", float(np.abs(gate_v).max())))
        self.outputs.append(Output("drain", max((abs(v) for ch, v in dc.items() if ch in sense), default=0.0)))
        out = np.zeros((len(sense), gate_v.size))
        for s, channel in enumerate(sense):
            cols = [i for (k, i), ch in lines.items() if ch == channel and k == "col"]
            if not gate_rows or not cols:
                continue
            mask = np.zeros(self.chip.shape, dtype=bool)
            mask[np.ix_(gate_rows, cols)] = True
            out[s] = self.chip.sweep_transfer(mask, gate_v, dc.get(channel, 0.0)).sum(axis=0)
        return out
