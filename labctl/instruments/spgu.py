"""B1525A SPGU (pulse generator) operations: configure a 2-level pulse, run a counted train, wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from labctl.errors import InstrumentError, field_error
from labctl.specs import check_within

from . import flex

if TYPE_CHECKING:
    from .b1500 import B1500

POLL_LIMIT = 100_000
"""Most ``SPST?`` polls before a run is declared stuck."""


@dataclass(frozen=True)
class PulseShape:
    """One SPGU channel's 2-level pulse."""

    base_v: float
    """Level between pulses, in V."""
    peak_v: float
    """Level at the top of the pulse, in V (signed)."""
    width_s: float
    """Pulse width in s."""
    rise_s: float
    """Leading edge in s."""
    fall_s: float
    """Trailing edge in s."""
    delay_s: float = 0.0
    """Delay from the period start in s."""


class SPGU:
    """One B1525A module: two channels ``<slot>01`` and ``<slot>02`` sharing one period and run."""

    def __init__(self, mainframe: B1500, slot: int) -> None:
        self.mainframe = mainframe
        self.slot = int(slot)

    def channel(self, index: int) -> int:
        """FLEX channel number of output ``index`` (1 or 2)."""
        if index not in (1, 2):
            raise field_error(InstrumentError, "spgu channel", index, "must be 1 or 2")
        return self.slot * 100 + index

    def configure(self, period_s: float, count: int, shapes: dict[int, PulseShape],
                  load_ohm: float = 1e6) -> None:
        """Set PG mode, period, counted run and each channel's pulse, then apply them.

        Every value is checked against the mainframe's ``limits`` (BENCH.md ranges, the edge minimum
        by swing) before anything is sent.

        (``SIM``; ``SPM``; ``SPPER``; ``SPRM``; ``SER``; ``SPV``; ``SPT``; ``SPUPD``)
        """
        limits = self.mainframe.limits
        limits.check_range("SPPER period_s", period_s, "spgu_min_period_s", "spgu_max_period_s")
        check_within("SPRM count", count, 1, limits.max_pulse_count)
        commands = [flex.sim(0), flex.spper(period_s), flex.sprm(count)]
        for index, shape in sorted(shapes.items()):
            ch = self.channel(index)
            for name in ("base_v", "peak_v"):
                limits.check_spgu_level(f"SPV {name}", getattr(shape, name))
            limits.check_spgu_output(f"SPT {ch}", shape.peak_v - shape.base_v, shape.rise_s, shape.fall_s)
            check_within("SPT width_s", shape.width_s, limits.min_width_s, period_s - 10e-9)
            commands += [flex.spm(ch, 1), flex.ser(ch, load_ohm), flex.spv(ch, shape.base_v, shape.peak_v),
                         flex.spt(ch, shape.delay_s, shape.width_s, shape.rise_s, shape.fall_s)]
        commands.append(flex.spupd([self.channel(i) for i in sorted(shapes)]))
        self.mainframe.transaction(commands)

    def enable(self, indices: list[int]) -> None:
        """Connect the given outputs (``CN``)."""
        self.mainframe.transaction([flex.cn([self.channel(i) for i in indices])])

    def run(self) -> None:
        """Start the counted pulse run and return when ``SPST?`` reports it done (``SRP``; ``SPST?``)."""
        self.mainframe.transaction([flex.SRP])
        for _ in range(POLL_LIMIT):
            if self.mainframe.ask(flex.SPST).strip() in ("0", "+0"):
                return
        raise field_error(InstrumentError, "spgu SPST?", "1", "run did not finish")

