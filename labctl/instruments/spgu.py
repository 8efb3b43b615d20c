"""B1525A SPGU (pulse generator) operations: configure a 2-level pulse, run a counted train, wait."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from labctl.errors import InstrumentError, SafetyLimitError, field_error

from . import flex

if TYPE_CHECKING:
    from .b1500 import B1500

PERIOD_RANGE_S = (20e-9, 10.0)
"""SPGU period range in s (BENCH.md)."""
AMPLITUDE_RANGE_V = (-20.0, 20.0)
"""SPGU output range in V into 50 ohm (BENCH.md)."""
MIN_WIDTH_S = 10e-9
"""Shortest SPGU pulse width in s; the longest is period - 10 ns (BENCH.md)."""
EDGE_RANGE_S = (8e-9, 400e-3)
"""SPGU rise/fall range in s (BENCH.md)."""
COUNT_RANGE = (1, 1_000_000)
"""SPGU pulses per run (BENCH.md)."""
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

        (``SIM``; ``SPM``; ``SPPER``; ``SPRM``; ``SER``; ``SPV``; ``SPT``; ``SPUPD``)
        """
        _check("SPPER period_s", period_s, PERIOD_RANGE_S)
        _check("SPRM count", count, COUNT_RANGE)
        commands = [flex.sim(0), flex.spper(period_s), flex.sprm(count)]
        for index, shape in sorted(shapes.items()):
            ch = self.channel(index)
            for name in ("base_v", "peak_v"):
                _check(f"SPV {name}", getattr(shape, name), AMPLITUDE_RANGE_V)
            _check("SPT width_s", shape.width_s, (MIN_WIDTH_S, period_s - 10e-9))
            for name in ("rise_s", "fall_s"):
                _check(f"SPT {name}", getattr(shape, name), EDGE_RANGE_S)
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


def _check(name: str, value: float, bounds: tuple[float, float]) -> None:
    if not bounds[0] <= value <= bounds[1]:
        raise field_error(SafetyLimitError, name, value, f"outside [{bounds[0]!r}, {bounds[1]!r}]")
