"""A simulated B2200A switch matrix: SCPI routing through a dispatch table, relay state per card.

Where the simulation differs from the instrument: it refuses a relay change while a B1500 output is
on (the real matrix cannot know; here it is the test oracle for hot switching, logged in
``BenchWorld.hot_switches`` and queued as error -221); ``stuck_open`` relays silently fail to close,
a fault only the read-back (``:ROUT:CLOS:CARD?``) can detect. It powers on in auto configuration
(``ACON``, card 0 addresses outputs 01-48), where a channel on cards 1-4 is refused, so a driver that
forgets ``:ROUT:FUNC NCON`` fails here.
"""

from __future__ import annotations

from labctl.errors import InstrumentError
from labctl.instruments.switch_matrix import parse_channel_list, to_channel_list

from .adapter import FakeInstrument

UNDEFINED_HEADER, DATA_OUT_OF_RANGE, SETTINGS_CONFLICT = -113, -222, -221
"""SCPI standard error codes this fake uses."""


class FakeSwitchMatrix(FakeInstrument):
    """One mainframe with ``cards`` cards."""

    def __init__(self, world, name: str, cards: int, idn: str = "Agilent Technologies,B2200A,0,1.0") -> None:
        super().__init__()
        self.world = world
        self.name = name
        self.cards = cards
        self.idn = idn
        self.stuck_open: set[tuple[int, int, int]] = set()
        world.switches[name] = self
        self.reset()
        self.handlers = {
            "*IDN?": lambda a: self.output.append(self.idn), "*RST": lambda a: self.reset(),
            "*CLS": lambda a: self.errors.clear(), "*OPC?": lambda a: self.output.append("1"),
            ":SYST:ERR?": self._err, ":ROUT:CLOS": self._close, ":ROUT:OPEN": self._open,
            ":ROUT:OPEN:CARD": self._open_card, ":ROUT:CLOS:CARD?": self._closed_query,
            ":ROUT:CONN:RULE": self._rule, ":ROUT:CONN:RULE?": self._rule_query,
            ":ROUT:CONN:SEQ": self._seq, ":ROUT:CONN:SEQ?": self._seq_query,
            ":ROUT:FUNC": self._function, ":ROUT:FUNC?": lambda a: self.output.append(self.function),
        }

    def reset(self) -> None:
        """Power-on state: auto configuration, all open, free rule, break-before-make."""
        self.function = "ACON"
        self.closed: set[tuple[int, int, int]] = set()
        self.rules = {c: "FREE" for c in range(1, self.cards + 1)}
        self.sequences = {c: "BBM" for c in range(1, self.cards + 1)}

    def settings(self) -> dict:
        """Relays, rules and sequences (JSON-ready), for a bench snapshot."""
        return {"closed": sorted(self.closed), "rules": self.rules, "sequences": self.sequences,
                "function": self.function}

    def adopt(self, settings: dict) -> None:
        """Return to :meth:`settings` (queues cleared, as at a point boundary)."""
        self.closed = {tuple(ch) for ch in settings["closed"]}
        self.rules = {int(c): v for c, v in settings["rules"].items()}
        self.sequences = {int(c): v for c, v in settings["sequences"].items()}
        self.function = settings.get("function", "NCON")
        self.errors.clear()
        self.output.clear()

    def handle(self, message: str) -> None:
        """Run the ``;``-joined commands of one message in order; the replies of its queries form one
        ``;``-joined reply (SCPI). A refused command ends the message and its reply (IEEE 488.2)."""
        queued = len(self.output)
        for command in filter(None, (c.strip() for c in message.split(";"))):
            if not self._run(command):
                while len(self.output) > queued:
                    self.output.pop()
                return
        replies = [self.output.pop() for _ in range(len(self.output) - queued)][::-1]
        if replies:
            self.output.append(";".join(replies))

    def _run(self, command: str) -> bool:
        head, _, rest = command.partition(" ")
        handler = self.handlers.get(head.upper())
        if handler is None:
            self.error(UNDEFINED_HEADER, f"Undefined header; {command}")
            return False
        try:
            handler(rest.strip())
        except InstrumentError as exc:
            self.error(DATA_OUT_OF_RANGE, f"Data out of range; {exc}")
            return False
        except ValueError:
            self.error(DATA_OUT_OF_RANGE, f"Data out of range; {command}")
            return False
        return True

    def _err(self, arg: str) -> None:
        code, text = self.errors.popleft() if self.errors else (0, "No error")
        self.output.append(f'{code:+d},"{text}"')

    def _channels(self, arg: str) -> set[tuple[int, int, int]]:
        if self.function != "NCON":
            raise InstrumentError("auto configuration (ACON) addresses card 0: cards 1-4 need :ROUT:FUNC NCON")
        chans = parse_channel_list(arg)
        for card, _, _ in chans:
            if card > self.cards:
                raise InstrumentError(f"card {card} not installed")
        return chans

    def _relay_change_allowed(self, what: str) -> bool:
        if self.world.outputs_on():
            self.world.hot_switches.append(f"{self.name}: {what}")
            self.error(SETTINGS_CONFLICT, f"Settings conflict; relay change with a source on: {what}")
            return False
        self.world.advance(self.world.timings.relay_settle_s)
        return True

    def _close(self, arg: str) -> None:
        chans = self._channels(arg)
        new = self.closed | chans
        for card in {c for c, _, _ in chans}:
            if self.rules[card] == "SROU":
                inputs = [i for c, i, _ in new if c == card]
                if len(inputs) != len(set(inputs)):
                    raise InstrumentError("single-route rule: an input would reach two outputs")
        to_channel_list(new)  # one input per output pin
        if self._relay_change_allowed(f":ROUT:CLOS {arg}"):
            self.closed |= chans - self.stuck_open

    def _open(self, arg: str) -> None:
        chans = self._channels(arg)
        if self._relay_change_allowed(f":ROUT:OPEN {arg}"):
            self.closed -= chans

    def _cards(self, arg: str) -> list[int]:
        if arg.upper() == "ALL":
            return list(range(1, self.cards + 1))
        card = int(arg)
        if not 1 <= card <= self.cards:
            raise InstrumentError(f"card {card} not installed")
        return [card]

    def _open_card(self, arg: str) -> None:
        cards = self._cards(arg)
        if any(c in cards for c, _, _ in self.closed) and self._relay_change_allowed(f":ROUT:OPEN:CARD {arg}"):
            self.closed = {ch for ch in self.closed if ch[0] not in cards}

    def _closed_query(self, arg: str) -> None:
        card = self._cards(arg)[0]
        chans = sorted(ch for ch in self.closed if ch[0] == card)
        self.output.append("(@" + ",".join(f"{c}{i:02d}{o:02d}" for c, i, o in chans) + ")")

    def _function(self, arg: str) -> None:
        if arg.upper() not in ("NCON", "ACON"):
            raise InstrumentError(f"configuration {arg}")
        if self.closed and self._relay_change_allowed(f":ROUT:FUNC {arg}"):
            self.closed = set()  # changing the configuration opens every relay
        self.function = arg.upper()

    def _rule(self, arg: str) -> None:
        target, _, rule = arg.partition(",")
        if rule.strip().upper() not in ("FREE", "SROU"):
            raise InstrumentError(f"rule {rule}")
        for card in self._cards(target.strip()):
            self.rules[card] = rule.strip().upper()

    def _rule_query(self, arg: str) -> None:
        self.output.append(self.rules[self._cards(arg)[0]])

    def _seq(self, arg: str) -> None:
        target, _, seq = arg.partition(",")
        if seq.strip().upper() not in ("BBM", "MBBR", "NSEQ"):
            raise InstrumentError(f"sequence {seq}")
        for card in self._cards(target.strip()):
            self.sequences[card] = seq.strip().upper()

    def _seq_query(self, arg: str) -> None:
        self.output.append(self.sequences[self._cards(arg)[0]])
