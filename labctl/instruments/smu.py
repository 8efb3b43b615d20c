"""B1500 SMU (B1511B/B1517A class) operations: DC force and spot, staircase sweep, pulsed spot."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labctl.errors import InstrumentError, field_error

from . import flex
from .ascii_data import check_status

if TYPE_CHECKING:
    from .b1500 import B1500


def setup_commands(forced: list[tuple[int, float]], compliance_a: float, connect: list[int] = (),
                   integration_s: float | None = None, adc: list[int] = ()) -> list[str]:
    """The FLEX commands that force DC voltages on several SMUs, connect them and set their ADC, in one
    transaction (``DV``...; ``CN``; ``AIT``; ``AAD``...): one bus round trip for a row read or a sweep
    set-up instead of one per SMU and setting. ``forced``: (slot, volts) in the order sent."""
    commands = [flex.dv(slot, volts, compliance_a) for slot, volts in forced]
    if connect:
        commands.append(flex.cn(connect))
    if integration_s is not None:
        commands.append(flex.ait(0, 3, integration_s))
    return commands + [flex.aad(slot, 0) for slot in adc]


class SMU:
    """One SMU, addressed by its slot (the channel number of an SMU is its slot)."""

    def __init__(self, mainframe: B1500, slot: int) -> None:
        self.mainframe = mainframe
        self.slot = int(slot)

    def enable(self) -> None:
        """Connect the output (``CN``)."""
        self.mainframe.transaction(setup_commands([], 0.0, connect=[self.slot]))

    def disable(self) -> None:
        """Disconnect the output (``CL``)."""
        self.mainframe.transaction([flex.cl([self.slot])])

    def force_voltage(self, voltage_v: float, compliance_a: float) -> None:
        """Force a DC voltage in V with a current compliance in A, auto range (``DV``)."""
        self.mainframe.transaction(setup_commands([(self.slot, voltage_v)], compliance_a))

    def set_integration(self, time_s: float) -> None:
        """Use the high-speed ADC with an integration time in s, 2 us to 20 ms (``AAD``; ``AIT``)."""
        self.mainframe.limits.check_range("AIT time_s", time_s, "adc_min_integration_s", "adc_max_integration_s")
        self.mainframe.transaction(setup_commands([], 0.0, integration_s=time_s, adc=[self.slot]))

    def spot_current(self) -> float:
        """Measure the current in A once (``TI``)."""
        return _by_slot(self.mainframe.measure([], trigger=flex.ti(self.slot)), [self.slot], 1)[0, 0]

    def sweep_current(self, start_v: float, stop_v: float, points: int, compliance_a: float,
                      sense: list[SMU], hold_s: float = 0.0, delay_s: float = 0.0,
                      expected_s: float = 0.0) -> np.ndarray:
        """Staircase-sweep this SMU's voltage and measure the current of each ``sense`` SMU (``WV``; ``MM 2``).

        Returns ``(len(sense), points)`` currents in A.
        """
        slots = [s.slot for s in sense]
        readings = self.mainframe.measure(
            [flex.wt(hold_s, delay_s), flex.wv(self.slot, start_v, stop_v, points, compliance_a),
             flex.mm(2, slots)] + [flex.cmm(s, 1) for s in slots], expected_s)
        return _by_slot(readings, slots, points)

    def pulsed_spot_current(self, base_v: float, pulse_v: float, width_s: float, period_s: float,
                            compliance_a: float, expected_s: float = 0.0) -> float:
        """Apply one SMU voltage pulse and measure the current during it (``PT``; ``PV``; ``MM 3``)."""
        limits = self.mainframe.limits
        limits.check_range("PT width_s", width_s, "smu_min_pulse_width_s", "smu_max_pulse_width_s")
        limits.check_range("PT period_s", period_s, "smu_min_pulse_period_s", "smu_max_pulse_period_s")
        readings = self.mainframe.measure(
            [flex.pt(0.0, width_s, period_s), flex.pv(self.slot, base_v, pulse_v, compliance_a),
             flex.mm(3, [self.slot]), flex.cmm(self.slot, 1)], expected_s)
        return _by_slot(readings, [self.slot], 1)[0, 0]


def routed_spot_currents(mainframe: B1500, drive: int, volts: list[float], sense: list[int], compliance_a: float,
                         setup: list[str] = (), expected_s: float = 0.0) -> np.ndarray:
    """One routing's read: every ``sense`` SMU at 0 V and measured by one multi-channel spot trigger per
    ``volts`` value the ``drive`` SMU forces in turn, then every output off; ``(len(volts), len(sense))`` A.

    ``CN``; ``DV`` (sense at 0 V, drive at the first level); ``XE``; then ``DV``; ``XE`` per further level,
    the last followed by ``CL``; one ``ERRX?`` at the end (:meth:`B1500.measure_blocks`): a bipolar read
    of up to 8 sense SMUs is three messages. ``setup`` (``MM 1`` over ``sense``, ``CMM``, ADC) goes first
    when the measurement mode is not set yet; it persists while outputs are switched (``*RST`` clears it).
    """
    last = len(volts) - 1
    blocks = [([*setup, flex.cn([drive, *sense]), *(flex.dv(s, 0.0, compliance_a) for s in sense)] if k == 0 else [])
              + [flex.dv(drive, v, compliance_a), flex.XE] + ([flex.cl()] if k == last else [])
              for k, v in enumerate(volts)]
    readings = mainframe.measure_blocks(blocks, expected_s)
    return np.array([_by_slot(r, sense, 1)[:, 0] for r in readings])


def _by_slot(readings, slots: list[int], points: int) -> np.ndarray:
    out = np.full((len(slots), points), np.nan)
    currents = [r for r in readings if r.kind == "I"]
    for r in currents:
        check_status(r)
    for k, slot in enumerate(slots):
        mine = [r.value for r in currents if r.slot == slot]
        if len(mine) != points:
            raise field_error(InstrumentError, f"b1500 slot {slot} data", len(mine),
                              f"expected {points} current readings")
        out[k] = mine
    return out

