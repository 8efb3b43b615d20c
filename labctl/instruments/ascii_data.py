"""Parse the B1500 ASCII data output (``FMT 1``: 12 digits with a 3-character header per value).

Programming Guide, chapter 1 "Data Output Format": each value is ``ABC<number>`` where A is the
status, B the channel and C the data type (``I`` current, ``V`` voltage, ``T`` time, ...). Values are
separated by ``,`` and the block ends with the terminator. Channels: ``A``..``J`` the first channel
of the module in slot 1..10 (channel 1..10, or 101..1001 on a module with two channels), ``a``..``j``
the second channel of that module (102, 202, ..., 1002: the slot's number, then 02; not 101..110),
``V`` the ground unit, ``Z`` no channel (a time stamp, invalid data); any other letter is refused
naming it. Every status letter the guide lists is decoded (:data:`STATUS`); one it
does not list is refused naming it. Written here because PyMeasure's ``read_data`` relies on
``DataFrame.applymap`` (gone in pandas 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labctl.errors import InstrumentError, field_error

_VALUE = re.compile(r"^(\S)(\S)([A-Za-z])([+-]?\d+(?:\.\d*)?(?:[Ee][+-]?\d+)?)$")

STATUS = {
    "N": "normal", "W": "first or intermediate sweep step (source data)", "E": "last sweep step (source data)",
    "T": "another channel reached its compliance", "C": "this channel reached its compliance",
    "V": "over the measurement range", "X": "oscillating", "F": "force saturation",
    "G": "search target not found / quasi-pulse: slew rate too slow", "S": "search stopped / quasi-pulse: "
    "settling detection failed", "U": "CMU null loop unbalanced", "D": "CMU IV amplifier saturated",
}
"""Status letters of FMT 1 data and what they mean (Programming Guide, "Data Output Format")."""
OK_STATUS = frozenset("NWE")
"""Statuses of a valid reading (normal; a sweep step of source data); any other is refused, not averaged in."""
GNDU_SLOT = -1
"""Slot of a reading from the ground unit (channel letter ``V``), which sits in no slot."""
NO_CHANNEL = 0
"""Slot of a value that names no channel (letter ``Z``)."""


@dataclass(frozen=True)
class Reading:
    """One value of a FLEX data block."""

    status: str
    """Status letter (``N`` normal; see :data:`STATUS`)."""
    slot: int
    """Module slot of the channel (``A`` = 1), :data:`NO_CHANNEL` for ``Z``, :data:`GNDU_SLOT` for ``V``."""
    kind: str
    """Data type letter: ``I`` current in A, ``V`` voltage in V, ``T`` time in s."""
    value: float
    """The number, in SI units."""
    sub: int = 1
    """Channel of the module: 1 (upper-case letter) or 2 (lower-case letter, ``<slot>02``)."""

    @property
    def channel(self) -> int:
        """B1500 channel number of a module channel: ``<slot>01`` (``A`` = 101) or ``<slot>02`` (``a`` = 102)."""
        if self.slot < 1:
            raise field_error(InstrumentError, "b1500 data channel", slot_letter(self.slot), "names no module channel")
        return 100 * self.slot + self.sub

    @property
    def source(self) -> str:
        """What sent the value, for messages: ``channel 102``, ``the ground unit`` or ``no channel``."""
        return {GNDU_SLOT: "the ground unit", NO_CHANNEL: "no channel"}.get(self.slot) or f"channel {self.channel}"

    @property
    def meaning(self) -> str:
        """What the status letter says."""
        return STATUS[self.status]


def slot_letter(slot: int, sub: int = 1) -> str:
    """Header channel letter of a slot (1 -> ``A``; its second channel -> ``a``; the ground unit ``V``)."""
    if slot == GNDU_SLOT:
        return "V"
    if slot == NO_CHANNEL:
        return "Z"
    return chr((ord("A") if sub == 1 else ord("a")) + slot - 1)


def format_reading(reading: Reading) -> str:
    """Inverse of :func:`parse_block` for one value (used by the simulated B1500)."""
    return f"{reading.status}{slot_letter(reading.slot, reading.sub)}{reading.kind}{reading.value:+.5E}"


def _channel(letter: str, token: str) -> tuple[int, int]:
    if "A" <= letter <= "J":
        return ord(letter) - ord("A") + 1, 1
    if "a" <= letter <= "j":
        return ord(letter) - ord("a") + 1, 2
    if letter == "V":
        return GNDU_SLOT, 1
    if letter == "Z":
        return NO_CHANNEL, 1
    raise field_error(InstrumentError, "b1500 data channel", letter, f"not a channel letter of FMT 1 data (in {token!r})")


def parse_block(block: str) -> list[Reading]:
    """Parse a data block into readings; a malformed value, an unknown status or channel letter raises
    ``InstrumentError`` naming it."""
    out = []
    for token in block.strip().split(","):
        match = _VALUE.match(token.strip())
        if not match:
            raise field_error(InstrumentError, "b1500 data", token, "not a FLEX ASCII value (FMT 1)")
        status, channel, kind, number = match.groups()
        if status not in STATUS:
            raise field_error(InstrumentError, "b1500 data status", status, f"not a status letter of FMT 1 data "
                              f"(in {token.strip()!r})")
        slot, sub = _channel(channel, token.strip())
        out.append(Reading(status, slot, kind, float(number), sub))
    return out


def check_status(reading: Reading) -> None:
    """Raise ``InstrumentError`` naming the slot and what the status says if the reading is flagged."""
    if reading.status not in OK_STATUS:
        raise field_error(InstrumentError, f"b1500 {reading.source} status", reading.status,
                          f"reading flagged by the instrument: {reading.meaning}")


def values(block: str, kind: str = "I") -> list[float]:
    """The ``kind`` values of a block in order; a reading with a bad status raises ``InstrumentError``."""
    out = []
    for reading in parse_block(block):
        if reading.kind != kind:
            continue
        check_status(reading)
        out.append(reading.value)
    return out
