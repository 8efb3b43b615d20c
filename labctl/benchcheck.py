"""``labctl bench check``: read what the instruments report and compare it with the bench file.

Only queries are sent (``*IDN?``, ``UNT?``, ``*OPC?``, ``:ROUT:CLOS:CARD?``, ``:ROUT:CONN:RULE?``),
so the check changes nothing on the bench. The bus round trip is measured with ``*OPC?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .benchfile import BenchConfig
from .errors import ConfigError, LabctlError
from .instruments import B1500, SwitchMatrix
from .instruments.modules import same_model
from .visalog import Clock, LoggedAdapter, VisaLog

ROUND_TRIP_SAMPLES = 5
"""``*OPC?`` queries averaged to measure the bus round trip."""


@dataclass(frozen=True)
class CheckRow:
    """One line of the check table."""

    item: str
    """What was checked (``b1500 slot 2``, ``swA card 1``...)."""
    expected: str
    """What the bench file / probe-card map says."""
    found: str
    """What the instrument reported."""
    ok: bool
    """Whether they agree."""


def check_bench(config: BenchConfig, adapters: dict, clock: Clock, log: VisaLog) -> tuple[list[CheckRow], float]:
    """(rows, measured round trip in s); an instrument that does not answer is one failed row."""
    rows: list[CheckRow] = []
    b1500 = B1500(LoggedAdapter(adapters[config.b1500_resource], "b1500", config.b1500_resource, log))
    round_trip = float("nan")
    try:
        rows.append(CheckRow("b1500 identity", config.b1500_resource, b1500.idn, True))
        t0 = clock.now()
        for _ in range(ROUND_TRIP_SAMPLES):
            b1500.wait_complete()
        round_trip = (clock.now() - t0) / ROUND_TRIP_SAMPLES
        rows.append(CheckRow("bus round trip (s)", f"{config.timings.round_trip_s:g}", f"{round_trip:.3g}", True))
        found = b1500.modules()
        for slot in sorted(set(config.modules) | set(found)):
            want, got = config.modules.get(slot, "-"), found.get(slot, "-")
            rows.append(CheckRow(f"b1500 slot {slot}", want, got, same_model(want, got) or want == "-"))
        wired = sorted({p.channel for p in config.probecard.inputs})
        for channel in wired:
            slot = config.channel_slot(channel)
            rows.append(CheckRow(f"probe-card channel {channel}", "module present", found.get(slot, "-"),
                                 slot in found))
    except LabctlError as exc:
        rows.append(CheckRow("b1500", config.b1500_resource, str(exc), False))
    for name, resource in config.switches.items():
        sw = SwitchMatrix(LoggedAdapter(adapters[resource], "switch", resource, log))
        try:
            rows.append(CheckRow(f"{name} identity", resource, sw.idn, True))
            for card in range(1, config.probecard.cards[name] + 1):
                closed = sw.closed_channels(card)
                error = sw.next_error()
                rule = sw.rule(card)
                rows.append(CheckRow(f"{name} card {card}", "installed, all open",
                                     f"rule {rule}, {len(closed)} closed" if not error[0] else error[1],
                                     not error[0] and not closed))
        except LabctlError as exc:
            rows.append(CheckRow(name, resource, str(exc), False))
    return rows, round_trip


def make_safe(config: BenchConfig, adapters: dict, log: VisaLog) -> None:
    """Outputs off, then every relay of every mainframe open (``SPP;CL``, ``:ROUT:OPEN:CARD ALL``)."""
    B1500(LoggedAdapter(adapters[config.b1500_resource], "b1500", config.b1500_resource, log)).outputs_off()
    for name, resource in config.switches.items():
        SwitchMatrix(LoggedAdapter(adapters[resource], "switch", resource, log)).open_all()


_ROUND_TRIP = re.compile(r"(round_trip_s:\s*)([-+0-9.eE]+)")


def store_round_trip(path: str | Path, round_trip_s: float) -> None:
    """Write the measured round trip into the bench file's ``timings.round_trip_s`` (comments kept)."""
    path = Path(path)
    text = path.read_text()
    if _ROUND_TRIP.search(text):
        text = _ROUND_TRIP.sub(lambda m: f"{m.group(1)}{round_trip_s:.4g}", text, count=1)
    elif re.search(r"^timings:", text, re.MULTILINE):
        raise ConfigError(f"{path}: timings has no round_trip_s to update; add 'round_trip_s: 0.02' under timings")
    else:
        text = text.rstrip("\n") + f"\ntimings: {{round_trip_s: {round_trip_s:.4g}}}\n"
    path.write_text(text)
