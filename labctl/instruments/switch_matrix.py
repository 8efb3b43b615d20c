"""Keysight B2200A/B2201A and E5250A switch matrix: SCPI routing with validated channel lists.

A channel is ``CIIOO``: card (1 digit), input port (2 digits), output pin (2 digits); a list is
``(@10101,10203)``. B2200A User's Guide, "SCPI Command Reference": ``:ROUT:CLOS``, ``:ROUT:OPEN``,
``:ROUT:OPEN:CARD``, ``:ROUT:CLOS:CARD?``, ``:ROUT:CONN:RULE`` (``FREE``/``SROU``),
``:ROUT:CONN:SEQ`` (``BBM``/``MBBR``/``NSEQ``), ``:ROUT:FUNC`` (``NCON``/``ACON``), ``:SYST:ERR?``.
Cards 1-4 address outputs 01-12 in the normal configuration (``NCON``), which the probe-card map
assumes; a matrix left in auto configuration (``ACON``) numbers them card 0, outputs 01-48, so the
connect sets ``NCON`` and reads it back.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from functools import lru_cache

from labctl.errors import InstrumentError, field_error

from .plain import PlainInstrument

MAX_CARDS = 4
"""Cards per mainframe."""
MAX_INPUTS = 14
"""Input ports per card (B2200A: 8 SMU + 6 AUX; the E5250A has 10)."""
MAX_OUTPUTS = 12
"""Output pins per card."""
MIN_ROUTED_WIDTH_S = 100e-9
"""Shortest pulse the matrix passes faithfully (30 MHz bandwidth, ~145 pF guard capacitance; BENCH.md)."""

Channel = tuple[int, int, int]
"""(card, input port, output pin), all 1-based."""

_CHANNEL = re.compile(r"^(\d)(\d\d)(\d\d)$")


def to_channel(card: int, input_port: int, output_pin: int) -> str:
    """``CIIOO`` for one crosspoint, refusing ports out of range."""
    text = _CHANNEL_TEXT.get((card, input_port, output_pin))
    if text is not None and type(card) is type(input_port) is type(output_pin) is int:  # not 1.0, True, numpy
        return text
    for name, value, top in (("card", card, MAX_CARDS), ("input", input_port, MAX_INPUTS),
                             ("output", output_pin, MAX_OUTPUTS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise field_error(InstrumentError, f"switch {name}", value, f"must be an integer in 1..{top}")
    return f"{card}{input_port:02d}{output_pin:02d}"


def to_channel_list(channels: Iterable[Channel]) -> str:
    """``(@CIIOO,...)`` for the crosspoints, sorted; at most one input per output pin."""
    chans = sorted(set(channels))
    owner: dict[tuple[int, int], int] = {}
    for card, inp, out in chans:
        if owner.setdefault((card, out), inp) != inp:
            raise field_error(InstrumentError, "switch output", f"card {card} pin {out}",
                              f"would connect inputs {owner[(card, out)]} and {inp} together")
    return "(@" + ",".join(to_channel(*c) for c in chans) + ")"


_CHANNEL_TEXT = {(c, i, o): f"{c}{i:02d}{o:02d}" for c in range(1, MAX_CARDS + 1) for i in range(1, MAX_INPUTS + 1)
                 for o in range(1, MAX_OUTPUTS + 1)}
"""Every valid crosspoint's ``CIIOO``: each relay change writes and parses a few (both ends, simulated)."""


@lru_cache(maxsize=4096)
def parse_channel_list(text: str) -> frozenset[Channel]:
    """Parse ``(@CIIOO,...)`` (ranges ``a:b`` over outputs of one card and input too); empty ``(@)``.

    Cached: a read-back repeats the few routings of an operation (a refused text raises every time)."""
    text = text.strip()
    if not (text.startswith("(@") and text.endswith(")")):
        raise field_error(InstrumentError, "channel list", text, "must look like (@CIIOO,...)")
    body = text[2:-1].strip()
    out: set[Channel] = set()
    for item in filter(None, (p.strip() for p in body.split(","))):
        first, _, last = item.partition(":")
        a, b = _parse_one(first, text), _parse_one(last or first, text)
        if a[0] != b[0] or a[1] != b[1] or b[2] < a[2]:
            raise field_error(InstrumentError, "channel range", item, "must run over outputs of one card and input")
        out.update((a[0], a[1], o) for o in range(a[2], b[2] + 1))
    return frozenset(out)


def _parse_one(item: str, text: str) -> Channel:
    match = _CHANNEL.match(item)
    if not match:
        raise field_error(InstrumentError, "channel", item, f"not CIIOO in {text}")
    card, inp, out = (int(g) for g in match.groups())
    to_channel(card, inp, out)
    return card, inp, out


class SwitchMatrix(PlainInstrument):
    """One B2200A/E5250A mainframe; every routing change is followed by ``:SYST:ERR?``."""

    def __init__(self, adapter, name: str = "Keysight B2200A", **kwargs) -> None:
        kwargs.setdefault("read_termination", "\n")
        kwargs.setdefault("write_termination", "\n")
        super().__init__(adapter, name, includeSCPI=False, **kwargs)

    @property
    def idn(self) -> str:
        """Get the identification string (``*IDN?``)."""
        return self.ask("*IDN?").strip()

    def next_error(self) -> tuple[int, str]:
        """Get the oldest queued error as (code, text) (``:SYST:ERR?``)."""
        reply = self.ask(":SYST:ERR?").strip()
        code, _, text = reply.partition(",")
        try:
            return int(code), text.strip().strip('"')
        except ValueError:
            raise field_error(InstrumentError, ":SYST:ERR?", reply, "unparseable error reply") from None

    def check(self, sent: str) -> None:
        """Raise ``InstrumentError`` naming ``sent`` if the matrix queued an error (``:SYST:ERR?``)."""
        code, text = self.next_error()
        if code:
            raise InstrumentError(f"switch refused {sent!r}: error {code}: {text}")

    def clear_errors(self) -> list[tuple[int, str]]:
        """Drain the error queue (``*CLS`` then ``:SYST:ERR?`` until 0)."""
        drained = []
        for _ in range(32):
            code, text = self.next_error()
            if code == 0:
                return drained
            drained.append((code, text))
        raise field_error(InstrumentError, "switch error queue", drained[-1], "does not empty")

    def send(self, command: str) -> None:
        """Write one command and check the error queue."""
        self.write(command)
        self.check(command)

    def close_channels(self, channels: Iterable[Channel]) -> None:
        """Close the crosspoints (``:ROUT:CLOS``)."""
        self.send(f":ROUT:CLOS {to_channel_list(channels)}")

    def open_channels(self, channels: Iterable[Channel]) -> None:
        """Open the crosspoints (``:ROUT:OPEN``)."""
        self.send(f":ROUT:OPEN {to_channel_list(channels)}")

    def reroute(self, opened: Iterable[Channel], closed: Iterable[Channel],
                cards: Iterable[int]) -> dict[int, frozenset[Channel]]:
        """Open ``opened``, then close ``closed``, and read back the closed crosspoints of each of ``cards``,
        in one message (``:ROUT:OPEN (@..);:ROUT:CLOS (@..);:ROUT:CLOS:CARD? c;...``; SCPI answers the
        queries of a message in one reply, ``;``-separated). Returns {card: closed crosspoints}.

        The error queue is not read here: a change that did not take shows in the read-back, and the
        caller reads the queue once per operation (:meth:`check`). A refused command ends the message
        (IEEE 488.2), so its reply never comes: the error then names the queue's entry.
        """
        cards = sorted(set(cards))
        if not cards:
            raise field_error(InstrumentError, "switch read-back", cards, "name at least one card")
        for card in cards:
            to_channel(card, 1, 1)
        opened, closed = set(opened), set(closed)
        parts = ([f":ROUT:OPEN {to_channel_list(opened)}"] if opened else []) + \
            ([f":ROUT:CLOS {to_channel_list(closed)}"] if closed else []) + [f":ROUT:CLOS:CARD? {c}" for c in cards]
        message = ";".join(parts)
        try:
            replies = self.ask(message).strip().split(";")
        except InstrumentError as exc:  # no reply: a lost link, or a command the matrix refused
            code = 0
            with contextlib.suppress(Exception):
                code, text = self.next_error()
            if code:
                raise InstrumentError(f"switch refused {message!r}: error {code}: {text}") from exc
            raise
        if len(replies) != len(cards):
            raise field_error(InstrumentError, "switch read-back", ";".join(replies), f"expected {len(cards)} channel lists")
        return {card: parse_channel_list(reply) for card, reply in zip(cards, replies)}

    def open_all(self) -> None:
        """Open every relay of every card (``:ROUT:OPEN:CARD ALL``)."""
        self.send(":ROUT:OPEN:CARD ALL")

    def closed_channels(self, card: int) -> frozenset[Channel]:
        """Get the closed crosspoints of ``card`` (``:ROUT:CLOS:CARD?``)."""
        to_channel(card, 1, 1)
        return parse_channel_list(self.ask(f":ROUT:CLOS:CARD? {card}"))

    def set_function(self, function: str) -> None:
        """Set the channel configuration, ``NCON`` (normal: cards 1-4) or ``ACON`` (auto: card 0) (``:ROUT:FUNC``)."""
        if function not in ("NCON", "ACON"):
            raise field_error(InstrumentError, "configuration", function, "must be NCON or ACON")
        self.send(f":ROUT:FUNC {function}")

    def function(self) -> str:
        """Get the channel configuration, ``NCON`` or ``ACON`` (``:ROUT:FUNC?``)."""
        return self.ask(":ROUT:FUNC?").strip().upper()

    def set_rule(self, rule: str) -> None:
        """Set the connection rule of all cards, ``FREE`` or ``SROU`` (``:ROUT:CONN:RULE``)."""
        if rule not in ("FREE", "SROU"):
            raise field_error(InstrumentError, "connection rule", rule, "must be FREE or SROU")
        self.send(f":ROUT:CONN:RULE ALL,{rule}")

    def rule(self, card: int) -> str:
        """Get the connection rule of ``card`` (``:ROUT:CONN:RULE?``)."""
        to_channel(card, 1, 1)
        return self.ask(f":ROUT:CONN:RULE? {card}").strip()

    def set_sequence(self, sequence: str) -> None:
        """Set the connection sequence of all cards: ``BBM``, ``MBBR`` or ``NSEQ`` (``:ROUT:CONN:SEQ``)."""
        if sequence not in ("BBM", "MBBR", "NSEQ"):
            raise field_error(InstrumentError, "connection sequence", sequence, "must be BBM, MBBR or NSEQ")
        self.send(f":ROUT:CONN:SEQ ALL,{sequence}")

    def sequence(self, card: int) -> str:
        """Get the connection sequence of ``card`` (``:ROUT:CONN:SEQ?``)."""
        to_channel(card, 1, 1)
        return self.ask(f":ROUT:CONN:SEQ? {card}").strip()
