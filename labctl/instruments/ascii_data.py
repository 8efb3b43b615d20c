"""Parse the B1500 ASCII data output (``FMT 1``: 12 digits with a 3-character header per value).

Programming Guide, chapter 1 "Data Output Format": each value is ``ABC<number>`` where A is the
status (``N`` = normal; ``C``/``T``/``V``/``X``... flag compliance, overflow, oscillation), B the
channel (``A`` = slot 1 ... ``J`` = slot 10, ``Z`` = none) and C the data type (``I`` current, ``V``
voltage, ``T`` time, ...). Values are separated by ``,`` and the block ends with the terminator.
Written here because PyMeasure's ``read_data`` relies on ``DataFrame.applymap`` (gone in pandas 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labctl.errors import InstrumentError, field_error

_VALUE = re.compile(r"^([A-Z])([A-Z@])([A-Za-z])([+-]?\d+(?:\.\d*)?(?:[Ee][+-]?\d+)?)$")

OK_STATUS = frozenset("N")
"""Statuses of a valid reading; anything else (compliance, overflow) is refused, not averaged in."""


@dataclass(frozen=True)
class Reading:
    """One value of a FLEX data block."""

    status: str
    """Status letter (``N`` normal)."""
    slot: int
    """Module slot of the channel (``A`` = 1), 0 when the header names no channel."""
    kind: str
    """Data type letter: ``I`` current in A, ``V`` voltage in V, ``T`` time in s."""
    value: float
    """The number, in SI units."""


def slot_letter(slot: int) -> str:
    """Header channel letter of a slot (1 -> ``A``)."""
    return chr(ord("A") + slot - 1)


def format_reading(reading: Reading) -> str:
    """Inverse of :func:`parse_block` for one value (used by the simulated B1500)."""
    channel = slot_letter(reading.slot) if reading.slot else "Z"
    return f"{reading.status}{channel}{reading.kind}{reading.value:+.5E}"


def parse_block(block: str) -> list[Reading]:
    """Parse a data block into readings; a malformed value raises ``InstrumentError`` naming it."""
    out = []
    for token in block.strip().split(","):
        match = _VALUE.match(token.strip())
        if not match:
            raise field_error(InstrumentError, "b1500 data", token, "not a FLEX ASCII value (FMT 1)")
        status, channel, kind, number = match.groups()
        slot = 0 if channel == "Z" else ord(channel) - ord("A") + 1
        out.append(Reading(status, slot, kind, float(number)))
    return out


def values(block: str, kind: str = "I") -> list[float]:
    """The ``kind`` values of a block in order; a reading with a bad status raises ``InstrumentError``."""
    out = []
    for reading in parse_block(block):
        if reading.kind != kind:
            continue
        if reading.status not in OK_STATUS:
            raise field_error(InstrumentError, f"b1500 slot {reading.slot} status", reading.status,
                              "reading flagged by the instrument (compliance or overflow)")
        out.append(reading.value)
    return out
