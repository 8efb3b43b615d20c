"""``HardwareArray``: the ``ArrayBackend`` seam on the bench (B1500A + switch matrices + probe card).

Safety order, always: outputs off -> open relays -> close relays (read back) -> source. Every
instrument error, timeout or Ctrl-C ends with outputs off and every relay open. Vector operations
are one routing and one SPGU pulse train (V/2 scheme: selected rows +V/2 on one SPGU channel,
selected columns -V/2 on the other, unselected lines at 0 V). ``apply_pulses`` with per-device
counts groups rows sharing the same (columns, count) into one such crossing train, so half-selected
devices see V/2 there too (unlike SimulatedArray's ideal per-device pulses). ``PulseReport.transactions``
counts VISA writes and queries (relay changes included); ``stats`` keeps running totals and the
bench-time estimate from the bench file's timings. What the bench measures:

- ``read``: one routing per row and chunk of N column SMUs (by rows, or by columns when that moves
  fewer relays: the column SMUs stay while the drive steps down the rows); the row SMU forces +V
  (and -V if bipolar) while the N column SMUs, held at 0 V, are measured by one multi-channel spot
  trigger per polarity (``MM 1``; ``XE``); G = -I / V. A routing costs one matrix message (relays
  changed, and read back only on the cards that changed) and three B1500 messages (both polarities,
  then one error check that also confirms the outputs went off); each matrix's error queue is read
  once per operation. A 30 x 20 block: 90 routings, ~364 messages, ~8 s on GPIB.
- ``read_mvm``: row-by-row drive and column current measurement, summed by superposition over
  the rows with a non-zero input (the matrix cannot give 30 rows 30 distinct potentials at once:
  14 inputs at most). A cell's sparsity gating (weight in series with its sparsity device) is
  composed from the two measured conductances.
- ``sweep_transfer``: the row SMU is the gate (staircase ``WV``, one per linear segment), column SMUs
  the drains at ``drain_v`` (``MM 2``), N devices of a row per routing.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
from pymeasure.adapters import Adapter

from device_models import load_model, physics
from device_models.params import ChipModel

from .backend import BackendBase, BackendDescription, PulseReport, Simulation
from .benchfile import BenchConfig
from .benchplan import READ_ORDERS, linear_segments, pulse_groups, read_chunks, read_steps, spgu_period_s
from .errors import ConfigError, InstrumentError, LabctlError, SafetyLimitError, field_error
from .instruments import B1500, SwitchMatrix, flex
from .instruments.modules import same_model
from .instruments.smu import routed_spot_currents, setup_commands
from .instruments.spgu import PulseShape
from .instruments.switch_matrix import MIN_ROUTED_WIDTH_S, Channel
from .journal import BenchSession, recover_unclean
from .layout import CellLayout, Role
from .specs import PulseSpec, ReadSpec
from .visalog import Clock, LoggedAdapter, VisaLog

SWEEP_INTEGRATION_S = 100e-6
"""High-speed ADC integration per staircase point, in s (``AIT``)."""


BENCH_TIME_PARTS = ("reads", "routings", "pulses", "waits")
"""What a bench's time goes to (``BenchStats.split_s``)."""


@dataclass
class BenchStats:
    """Running totals of what the bench did."""

    messages: int = 0
    """VISA writes and queries sent."""
    routings: int = 0
    """Relay changes (each ``:ROUT:OPEN``/``:ROUT:CLOS``)."""
    estimated_s: float = 0.0
    """Bench time estimated from the timings in the bench file, in s."""
    split_s: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BENCH_TIME_PARTS, 0.0))
    """Bench time on the bench clock by part (:data:`BENCH_TIME_PARTS`), in s: ``routings`` (outputs off,
    relays changed and read back), ``reads`` (spot and sweep measurements), ``pulses`` (SPGU set-up and
    trains), ``waits`` (``wait``)."""


class HardwareArray(BackendBase):
    """The FeFET array on the bench, reached through ``adapters`` ({VISA resource: pymeasure Adapter})."""

    def __init__(self, config: BenchConfig, model: str | ChipModel = "ning-mos2-fefet",
                 layout: CellLayout | None = None, adapters: dict[str, Adapter] | None = None,
                 clock: Clock | None = None, visa_log=None, simulation: Simulation | None = None,
                 source: str | None = None, seed: int | None = None) -> None:
        from .visalog import WallClock

        self.model = load_model(model)
        if layout is None:
            rows, cols = config.probecard.shape
            layout = CellLayout.sparse(rows, cols) if self.model.sparsity is not None else CellLayout.dense(rows, cols)
        if layout.shape != config.probecard.shape:
            raise field_error(ConfigError, "layout.shape", layout.shape, f"probe card wires {config.probecard.shape}")
        super().__init__(layout, config.limits)
        self.config = config
        self.simulation = simulation
        """What is simulated behind the instruments (:mod:`sim_backend.simulation`); None on a real bench."""
        self.source, self.seed = source or str(config.path), seed
        self.idns: dict[str, str] = {}
        """``*IDN?`` answer of each instrument, read at connect."""
        self.clock = clock or WallClock()
        self.log = VisaLog(visa_log, self.clock)
        self.stats = BenchStats()
        adapters = adapters or visa_adapters(config)
        self.b1500 = B1500(self._adapter(adapters, config.b1500_resource, "b1500"), limits=config.limits)
        self.switches = {name: SwitchMatrix(self._adapter(adapters, res, "switch"))
                         for name, res in config.switches.items()}
        pc = config.probecard
        self.drive = pc.inputs_for("row_drive")[0].channel
        self.sense = list(dict.fromkeys(p.channel for p in pc.inputs_for("col_sense")))
        self.pulse_channels = (pc.inputs_for("row_pulse")[0].channel, pc.inputs_for("col_pulse")[0].channel)
        if self.pulse_channels[0] // 100 != self.pulse_channels[1] // 100:
            raise field_error(ConfigError, "probe_card.inputs", self.pulse_channels,
                              "row_pulse and col_pulse must be the two channels of one SPGU (one shared run)")
        self._ports: dict[tuple[int, str], int] = {}
        for p in pc.inputs:
            self._ports.setdefault((p.channel, p.mainframe), p.input)
        """(instrument channel, matrix) -> matrix input port."""
        self._closed: dict[str, set[Channel]] = {name: set() for name in self.switches}
        self._rerouted: set[str] = set()
        """Matrices routed in this operation: their error queue is read once at its end."""
        self._on = True  # unknown until the first outputs_off
        self._active_s, self._output_events, self._routing_s = 0.0, 0, 0.0
        self._t0 = self.clock.now()
        try:
            with self._guard():
                self.unclean = recover_unclean(config.path, self._safe_state) if config.path else []
                self._connect()
        except BaseException:
            self.log.close()
            raise
        self.session = BenchSession.begin(config.path) if config.path else None
        """Marker of this open bench (removed on close; see :mod:`labctl.journal`)."""

    # -- connection --------------------------------------------------------------------------------
    def _adapter(self, adapters, resource: str, instrument: str) -> Adapter:
        if resource not in adapters:
            raise field_error(ConfigError, f"{instrument}.resource", resource, "no such instrument connected")
        return LoggedAdapter(adapters[resource], instrument, resource, self.log)

    def _connect(self) -> None:
        """Defensive connect: clear errors, outputs off, relays open, check modules and connection rule."""
        self.b1500.prepare(reset=self.config.reset_on_connect)
        self._on = False
        found = self.b1500.modules()
        for slot, model in self.config.modules.items():
            if not same_model(model, found.get(slot)):
                raise field_error(ConfigError, f"b1500.modules.{slot}", model,
                                  f"the B1500 reports {found.get(slot) or 'no module'} in slot {slot}")
        for name, sw in self.switches.items():
            sw.clear_errors()
            sw.set_function("NCON")  # the probe-card map addresses cards 1-4
            if sw.function() != "NCON":
                raise field_error(InstrumentError, f"switch {name} configuration", sw.function(), "NCON did not take")
            sw.open_all()
            sw.set_rule("FREE")  # row/column-parallel pulses fan one input out to many lines
            sw.set_sequence("BBM")
            for card in range(1, self.config.probecard.cards[name] + 1):
                if sw.rule(card) != "FREE" or sw.sequence(card) != "BBM":
                    raise field_error(InstrumentError, f"switch {name} card {card}", sw.rule(card),
                                      "connection rule/sequence did not take")
                if sw.closed_channels(card):
                    raise field_error(InstrumentError, f"switch {name} card {card}", "closed", "relays stay closed")
        self.idns = {"b1500": self.b1500.idn, **{f"switch {name}": sw.idn for name, sw in self.switches.items()}}

    @contextlib.contextmanager
    def _guard(self):
        """Any exception (or Ctrl-C): outputs off, relays open, then re-raise (non-labctl errors wrapped)."""
        try:
            yield
        except BaseException as exc:
            self._safe_state()
            if isinstance(exc, (LabctlError, KeyboardInterrupt)):
                raise
            raise InstrumentError(f"bench operation failed: {type(exc).__name__}: {exc}") from exc

    def _safe_state(self) -> None:
        """Best effort, never raising: every output off, then every relay open."""
        with contextlib.suppress(Exception):
            self.b1500.outputs_off()
            self._on = False
        for name, sw in self.switches.items():
            with contextlib.suppress(Exception):
                sw.open_all()
                self._closed[name] = set()

    # -- building blocks ---------------------------------------------------------------------------
    def _outputs_off(self) -> None:
        if self._on:
            self.b1500.outputs_off()
            self._on = False
            self._output_events += 1

    def _wanted(self, lines: dict[int, tuple[list[int], list[int]]]) -> dict[str, set[Channel]]:
        """The crosspoints that connect each input channel to its (rows, cols)."""
        pc = self.config.probecard
        want: dict[str, set[Channel]] = {name: set() for name in self.switches}
        for channel, (rows, cols) in lines.items():
            if len(rows) + len(cols) > 1 and channel not in self.pulse_channels:
                raise field_error(ConfigError, "route", channel,
                                  "only the SPGU pulse inputs may drive several array lines at once")
            for kind, indices in (("row", rows), ("col", cols)):
                for index in indices:
                    pin = pc.pin(kind, int(index))
                    port = self._ports.get((channel, pin.mainframe))
                    if port is None:
                        raise field_error(ConfigError, "probe_card.inputs", channel,
                                          f"channel {channel} has no input on {pin.mainframe} for {kind}{index}")
                    want[pin.mainframe].add((pin.card, port, pin.output))
        return want

    def _route(self, lines: dict[int, tuple[list[int], list[int]]]) -> None:
        """Connect each input channel to its (rows, cols): sources off, then per matrix one message that
        opens the stale relays, closes the new ones and reads back the cards whose relays changed;
        a read-back that differs raises before any source turns on."""
        want = self._wanted(lines)
        if want == self._closed:
            return
        start = self.clock.now()
        self._outputs_off()
        for name, sw in self.switches.items():
            stale, new = self._closed[name] - want[name], want[name] - self._closed[name]
            if not stale and not new:
                continue
            cards = sorted({c for c, _, _ in stale | new})
            self._rerouted.add(name)
            got = sw.reroute(stale, new, cards)
            self.stats.routings += bool(stale) + bool(new)
            self._closed[name] = want[name]
            for card in cards:
                expect = {ch for ch in want[name] if ch[0] == card}
                if got[card] != expect:
                    raise InstrumentError(f"switch {name} card {card}: read-back differs: not closed "
                                          f"{sorted(expect - got[card])[:4]}, unexpectedly closed "
                                          f"{sorted(got[card] - expect)[:4]} (relay did not close)")
        self._routing_s += self.clock.now() - start

    def _read_cost_s(self, steps, messages: int) -> float:
        """Bench seconds of read ``steps`` (``messages`` B1500 messages each) and their relay changes from
        the present relays, on the bench file's timings."""
        t = self.config.timings
        closed, cost = dict(self._closed), len(steps) * messages * t.round_trip_s
        for row, cols in steps:
            want = self._wanted(self._read_lines(row, cols))
            for name in self.switches:
                stale, new = closed[name] - want[name], want[name] - closed[name]
                if stale or new:
                    cost += t.round_trip_s + (bool(stale) + bool(new)) * t.relay_settle_s
            closed = want
        return cost

    def _read_lines(self, row: int, cols) -> dict[int, tuple[list[int], list[int]]]:
        return {self.drive: ([row], []), **{s: ([], [int(c)]) for s, c in zip(self.sense, cols)}}

    def _read_schedule(self, mask: np.ndarray, volts: int) -> list[tuple[int, np.ndarray]]:
        """The (row, columns) routings of a read of ``mask`` at ``volts`` drive levels: by rows or by
        columns (:func:`labctl.benchplan.read_steps`), whichever costs less bench time."""
        plans = [read_steps(mask, len(self.sense), by) for by in READ_ORDERS]
        return min(plans, key=lambda steps: self._read_cost_s(steps, volts + 1))

    def _measure_steps(self, steps, volts: list[float], integration_s: float) -> list[np.ndarray]:
        """For each (row, cols) routing, the currents of its column SMUs at each drive voltage
        (:func:`~labctl.instruments.smu.routed_spot_currents`: both polarities under one routing)."""
        comp = self.limits.compliance_a
        setup = [flex.mm(1, self.sense), *(flex.cmm(s, 1) for s in self.sense), flex.ait(0, 3, integration_s),
                 *(flex.aad(ch, 0) for ch in self.sense)]
        out = []
        for row, cols in steps:
            self._route(self._read_lines(row, cols))
            self._on = True  # until the CL that ends the measurement is confirmed
            i = routed_spot_currents(self.b1500, self.drive, volts, self.sense, comp, setup,
                                     expected_s=len(self.sense) * integration_s)
            self._on, setup = False, []
            self._output_events += 2
            self._active_s += len(volts) * len(self.sense) * integration_s
            out.append(i[:, :len(cols)])
        return out

    def _read_conductance(self, mask: np.ndarray, read: ReadSpec) -> np.ndarray:
        volts = [read.voltage_v, -read.voltage_v] if read.bipolar else [read.voltage_v]
        steps = self._read_schedule(mask, len(volts))
        currents = self._measure_steps(steps, volts, read.integration_s)
        g = np.full(self.shape, np.nan)
        for (row, cols), i in zip(steps, currents):
            keep = mask[row, cols]
            g[row, cols[keep]] = np.mean([-i[k] / v for k, v in enumerate(volts)], axis=0)[keep]
        return g

    # -- hooks -------------------------------------------------------------------------------------
    def _do_apply_pulses(self, counts: np.ndarray, pulse: PulseSpec) -> PulseReport:
        self._check_routable(pulse)
        return self._operation(lambda: [self._train(r, c, pulse, n) for r, c, n in pulse_groups(counts)],
                               int(counts.sum()))

    def _do_apply_vector_update(self, rows, cols, pulse: PulseSpec, count: int) -> PulseReport:
        self._check_routable(pulse)
        return self._operation(lambda: self._train(rows, cols, pulse, count), int(rows.sum() * cols.sum() * count))

    def _check_routable(self, pulse: PulseSpec) -> None:
        """Refuse (before sending anything) a pulse the matrix cannot pass faithfully."""
        if pulse.width_s < MIN_ROUTED_WIDTH_S and not self.config.direct_path:
            raise field_error(SafetyLimitError, "PulseSpec.width_s", pulse.width_s,
                              f"below {MIN_ROUTED_WIDTH_S!r} s through the matrix; declare direct_path in the bench file")

    def _train(self, rows: np.ndarray, cols: np.ndarray, pulse: PulseSpec, count: int) -> None:
        row_ch, col_ch = self.pulse_channels
        self._route({row_ch: (np.flatnonzero(rows), []), col_ch: ([], np.flatnonzero(cols))})
        half = pulse.amplitude_v / 2
        shape = dict(width_s=pulse.width_s, rise_s=pulse.rise_s, fall_s=pulse.fall_s)
        spgu = self.b1500.spgu(row_ch // 100)
        spgu.configure(spgu_period_s(**shape), count, {row_ch % 100: PulseShape(0.0, half, **shape),
                                                        col_ch % 100: PulseShape(0.0, -half, **shape)})
        spgu.enable([row_ch % 100, col_ch % 100])
        self._on = True
        self._output_events += 1
        spgu.run()
        self._active_s += count * spgu_period_s(**shape)
        self._outputs_off()

    def _run(self, action, part: str = "reads"):
        """Run ``action`` under the safety guard; returns (result, messages sent, elapsed s) and updates
        stats (its routings' time to ``routings``, the rest to ``part``)."""
        messages, routings, t0 = self.log.messages, self.stats.routings, self.clock.now()
        self._active_s, self._output_events, self._routing_s = 0.0, 0, 0.0
        self._rerouted.clear()
        with self._guard():
            result = action()
            for name in sorted(self._rerouted):
                self.switches[name].check("the routing of this operation")
        sent = self.log.messages - messages
        t = self.config.timings
        self.stats.messages += sent
        self.stats.estimated_s += (sent * t.round_trip_s + (self.stats.routings - routings) * t.relay_settle_s
                                   + self._output_events * t.output_switch_s + self._active_s)
        elapsed = self.clock.now() - t0
        self.stats.split_s["routings"] += self._routing_s
        self.stats.split_s[part] += elapsed - self._routing_s
        return result, sent, elapsed

    def _operation(self, action, pulses: int) -> PulseReport:
        _, sent, elapsed = self._run(action, "pulses")
        return PulseReport(pulses, sent, elapsed)

    def _do_read(self, mask: np.ndarray, read: ReadSpec) -> np.ndarray:
        return self._run(lambda: self._read_conductance(mask, read))[0]

    def _do_read_mvm(self, inputs: np.ndarray, read: ReadSpec) -> np.ndarray:
        x = np.atleast_2d(inputs)
        lay = self.layout
        rows = np.flatnonzero(np.any(x != 0, axis=0))
        mask = np.zeros(self.shape, dtype=bool)
        cols = list(lay.weight_cols) + ([] if lay.partner_cols is None else list(lay.partner_cols))
        mask[np.ix_(rows, cols)] = True
        g = np.nan_to_num(self._run(lambda: self._read_conductance(mask, read))[0])
        g_cell = lay.to_cells(g)
        if lay.partner is Role.SPARSITY:
            g_cell = physics.series_conductance(g_cell, lay.to_cells(g, Role.SPARSITY))
        elif lay.partner is Role.REFERENCE:
            g_cell = physics.differential_conductance(g_cell, lay.to_cells(g, Role.REFERENCE))
        out = (x * read.voltage_v) @ g_cell
        return out[0] if inputs.ndim == 1 else out

    def _do_sweep_transfer(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float) -> np.ndarray:
        return self._run(lambda: self._sweep(mask, gate_v, drain_v))[0]

    def _sweep(self, mask: np.ndarray, gate_v: np.ndarray, drain_v: float) -> np.ndarray:
        chunks = read_chunks(mask, len(self.sense))
        segments = linear_segments(gate_v)
        out = np.full((int(mask.sum()), gate_v.size), np.nan)
        position = {(r, c): k for k, (r, c) in enumerate(zip(*np.nonzero(mask)))}
        comp = self.limits.compliance_a
        hold = self.config.timings.sweep_hold_s
        for row, cols in chunks:
            sense = self.sense[:len(cols)]
            self._route({self.drive: ([row], []), **{s: ([], [c]) for s, c in zip(sense, cols)}})
            self.b1500.transaction(setup_commands([(self.drive, 0.0), *((s, drain_v) for s in sense)], comp,
                                                  [self.drive, *sense], SWEEP_INTEGRATION_S, sense))
            self._on = True
            self._output_events += 1
            gate = self.b1500.smu(self.drive)
            for start, stop in segments:
                seg = gate_v[start:stop]
                point_s = hold + SWEEP_INTEGRATION_S
                i = gate.sweep_current(seg[0], seg[-1], seg.size, comp, [self.b1500.smu(s) for s in sense],
                                       expected_s=seg.size * point_s)
                self._active_s += seg.size * point_s
                for k, c in enumerate(cols):
                    out[position[(row, c)], start:stop] = i[k]
            self._outputs_off()
        return out

    def assume_relays(self, closed: dict[str, set[Channel]]) -> None:
        """Take ``closed`` as the relays now closed and every output as off, sending nothing: after a
        simulated bench was restored to a snapshot (:mod:`procedures.replay`), the driver's routing
        cache must match the restored switch matrices."""
        self._closed = {name: set(closed.get(name, ())) for name in self.switches}
        self._on = False

    def _do_wait(self, duration_s: float) -> None:
        self.clock.sleep(duration_s)
        self.stats.split_s["waits"] += duration_s

    def _do_close(self) -> None:
        self._safe_state()
        self.log.close()
        if self.session is not None:
            self.session.end()
        if self.config.path and self.simulation is None:
            from .journal import release_bench

            release_bench(self.config.path)  # held by open_bench_link for a real bench

    def describe(self) -> BackendDescription:
        return BackendDescription("bench" if self.simulation is None else "sim-instruments", self.source,
                                  f"{self.source}-seed{self.seed}" if self.seed is not None else self.source,
                                  self.model.name, self.seed, tuple(self.idns.items()))

    @property
    def messages_sent(self) -> int:
        return self.stats.messages

    @property
    def last_command(self) -> str:
        if self.log.last is None:
            return f"{self.source}: no command sent yet"
        return f"{self.log.last[0]}: last command {self.log.last[1]!r}"

    def note_run(self, **info: str | bool) -> None:
        if self.session is not None:
            self.session.note(**info)

    @property
    def bench_time_split_s(self) -> dict[str, float]:
        return dict(self.stats.split_s)

    @property
    def time_s(self) -> float:
        return self.clock.now() - self._t0

    @property
    def temperature_k(self) -> float:
        """Chuck temperature in K: the bench has no thermometer wired here, so room temperature."""
        return 300.0


def visa_adapters(config: BenchConfig) -> dict[str, Adapter]:
    """Open a VISA session per resource; a failure names the resource."""
    from pymeasure.adapters import VISAAdapter

    out = {}
    for resource in [config.b1500_resource, *config.switches.values()]:
        try:
            out[resource] = VISAAdapter(resource)
        except Exception as exc:
            raise field_error(InstrumentError, "resource", resource, f"cannot open: {exc}") from exc
    return out
