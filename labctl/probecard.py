"""The probe-card map: which switch-matrix pin reaches which array line, which instrument feeds which input.

A YAML file (see ``labctl/benches/sim-instruments-probecard.yaml``)::

    shape: [30, 30]
    mainframes: {swA: {cards: 3}, swB: {cards: 3}}
    inputs:   # instrument channel -> matrix input port, with the role HardwareArray gives it
      - {role: row_drive, channel: 2, mainframe: swA, input: 1}
    pins:     # matrix output pin -> array line (row<i> or col<j>)
      - {line: row0, mainframe: swA, card: 1, output: 1}

Validated on load: every row and column line exactly once, no pin used twice, ports in range, every
role present on each mainframe that holds lines of its side. Errors name the file line and field.
One mainframe has at most 48 outputs, so a 30x30 array (60 lines) spans two mainframes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from .instruments.switch_matrix import MAX_CARDS, MAX_INPUTS, MAX_OUTPUTS, Channel
from .yamlfile import Located, load_located, read_text

ROLES = {
    "row_drive": "row",
    "row_pulse": "row",
    "col_sense": "col",
    "col_pulse": "col",
}
"""Input roles and the side they serve: a row SMU (read drive, gate sweep), the SPGU channel that
pulses rows, the column SMUs that hold columns at a potential and measure their current, and the
SPGU channel that pulses columns. Pulse inputs fan out to many lines (row/column-parallel)."""
FANOUT_ROLES = frozenset({"row_pulse", "col_pulse"})
"""Roles whose input may drive several array lines at once (one shared potential)."""

_LINE = re.compile(r"^(row|col)(\d+)$")


@dataclass(frozen=True)
class Pin:
    """One matrix output wired to an array line."""

    kind: str
    """``row`` or ``col``."""
    index: int
    """Row or column index, 0-based."""
    mainframe: str
    """Switch-matrix mainframe name (a key of the bench file's ``switches``)."""
    card: int
    """Card 1-4 of that mainframe."""
    output: int
    """Output pin 1-12 of that card."""


@dataclass(frozen=True)
class InputPort:
    """One instrument channel wired to a matrix input port."""

    role: str
    """What HardwareArray uses it for (a key of :data:`ROLES`)."""
    channel: int
    """B1500 FLEX channel: SMU slot (e.g. 2) or SPGU channel (e.g. 101)."""
    mainframe: str
    """Mainframe name."""
    input: int
    """Input port 1-14."""


@dataclass(frozen=True)
class ProbeCardMap:
    """A validated probe-card map; build it with :func:`load_probecard`."""

    shape: tuple[int, int]
    """Array shape (rows, columns)."""
    cards: dict[str, int]
    """Cards installed per mainframe, as the map expects them."""
    pins: tuple[Pin, ...]
    """Every array line's pin."""
    inputs: tuple[InputPort, ...]
    """Every wired input port."""

    def pin(self, kind: str, index: int) -> Pin:
        """The pin of line ``kind``/``index``."""
        return self._pins[(kind, index)]

    def inputs_for(self, role: str) -> list[InputPort]:
        """Input ports of ``role``, in file order."""
        return [p for p in self.inputs if p.role == role]

    def port(self, role: str, mainframe: str) -> InputPort:
        """The (first) input of ``role`` on ``mainframe``."""
        return next(p for p in self.inputs if p.role == role and p.mainframe == mainframe)

    def crosspoint(self, port: InputPort, kind: str, index: int) -> tuple[str, Channel]:
        """(mainframe, (card, input, output)) that connects ``port`` to a line on the port's mainframe."""
        pin = self.pin(kind, index)
        return pin.mainframe, (pin.card, port.input, pin.output)

    def line_at(self, mainframe: str, card: int, output: int) -> tuple[str, int] | None:
        """Array line wired to an output pin, or None."""
        return self._lines.get((mainframe, card, output))

    def channel_at(self, mainframe: str, input_port: int) -> int | None:
        """Instrument channel wired to an input port, or None."""
        return self._channels.get((mainframe, input_port))

    @cached_property
    def _pins(self) -> dict[tuple[str, int], Pin]:
        return {(p.kind, p.index): p for p in self.pins}

    @cached_property
    def _channels(self) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = {}
        for p in self.inputs:
            out.setdefault((p.mainframe, p.input), p.channel)
        return out

    @cached_property
    def _lines(self) -> dict[tuple[str, int, int], tuple[str, int]]:
        return {(p.mainframe, p.card, p.output): (p.kind, p.index) for p in self.pins}


def load_probecard(path: str | Path) -> ProbeCardMap:
    """Load and validate a probe-card map; ``ConfigError`` names the file line and field."""
    path = Path(path)
    return _validated(path, read_text(path))


@lru_cache(maxsize=16)
def _validated(path: Path, text: str) -> ProbeCardMap:
    """The map of ``text`` (read from ``path``), parsed once per content: every bench opened loads its probe card
    again (3 ms with libyaml, 20 ms without; opening the simulated instruments is 2 ms more). A changed file is
    parsed anew (its text is the key); a refused one raises every time (nothing cached)."""
    doc = load_located(path, text)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), data, "must be a mapping with shape, mainframes, inputs, pins")
    doc.check_keys((), data, ("shape", "mainframes", "inputs", "pins"))
    for key in ("shape", "mainframes", "inputs", "pins"):
        if key not in data:
            raise doc.error((key,), None, "missing")
    shape = data["shape"]
    if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(n, int) and n > 0 for n in shape)):
        raise doc.error(("shape",), shape, "must be [rows, cols] of positive integers")
    cards = _mainframes(doc)
    pins = _pins(doc, cards, tuple(shape))
    inputs = _inputs(doc, cards)
    for kind in ("row", "col"):
        for mainframe in sorted({p.mainframe for p in pins if p.kind == kind}):
            for role, side in ROLES.items():
                if side == kind and not any(p.role == role and p.mainframe == mainframe for p in inputs):
                    raise doc.error(("inputs",), None, f"no {role} input on {mainframe}, which holds {kind} lines")
    return ProbeCardMap(tuple(shape), cards, tuple(pins), tuple(inputs))


def _mainframes(doc: Located) -> dict[str, int]:
    frames = doc.data["mainframes"]
    if not isinstance(frames, dict) or not frames:
        raise doc.error(("mainframes",), frames, "must map mainframe names to {cards: N}")
    cards = {}
    for name, spec in frames.items():
        if isinstance(spec, dict):
            doc.check_keys(("mainframes", name), spec, ("cards",))
        n = spec.get("cards") if isinstance(spec, dict) else None
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_CARDS:
            raise doc.error(("mainframes", name, "cards"), n, f"must be an integer in 1..{MAX_CARDS}")
        cards[str(name)] = n
    return cards


def _port(doc: Located, where: tuple, entry: dict, key: str, top: int) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise doc.error(where + (key,), value, f"must be an integer in 1..{top}")
    return value


def _mainframe(doc: Located, where: tuple, entry: dict, cards: dict[str, int]) -> str:
    name = entry.get("mainframe")
    if not isinstance(name, str) or name not in cards:
        raise doc.error(where + ("mainframe",), name, f"not one of {sorted(cards)}")
    return name


def _pins(doc: Located, cards: dict[str, int], shape: tuple[int, int]) -> list[Pin]:
    entries = doc.data["pins"]
    if not isinstance(entries, list):
        raise doc.error(("pins",), type(entries).__name__, "must be a list")
    pins, seen_lines, seen_pins = [], {}, {}
    for i, entry in enumerate(entries):
        where = ("pins", i)
        if not isinstance(entry, dict):
            raise doc.error(where, entry, "must be {line, mainframe, card, output}")
        doc.check_keys(where, entry, ("line", "mainframe", "card", "output"))
        match = _LINE.match(str(entry.get("line", "")))
        if not match:
            raise doc.error(where + ("line",), entry.get("line"), "must be row<i> or col<j>")
        kind, index = match.group(1), int(match.group(2))
        if index >= shape[0 if kind == "row" else 1]:
            raise doc.error(where + ("line",), entry["line"], f"outside the {shape[0]}x{shape[1]} array")
        if (kind, index) in seen_lines:
            raise doc.error(where + ("line",), entry["line"], f"already wired at pins[{seen_lines[(kind, index)]}]")
        mainframe = _mainframe(doc, where, entry, cards)
        card = _port(doc, where, entry, "card", cards[mainframe])
        output = _port(doc, where, entry, "output", MAX_OUTPUTS)
        if (mainframe, card, output) in seen_pins:
            raise doc.error(where + ("output",), output,
                            f"{mainframe} card {card} pin {output} already used by pins[{seen_pins[(mainframe, card, output)]}]")
        seen_lines[(kind, index)] = i
        seen_pins[(mainframe, card, output)] = i
        pins.append(Pin(kind, index, mainframe, card, output))
    for kind, count in zip(("row", "col"), shape):
        missing = [f"{kind}{k}" for k in range(count) if (kind, k) not in seen_lines]
        if missing:
            raise doc.error(("pins",), missing[:5], f"{len(missing)} {kind} line(s) not wired")
    return pins


def _inputs(doc: Located, cards: dict[str, int]) -> list[InputPort]:
    entries = doc.data["inputs"]
    if not isinstance(entries, list):
        raise doc.error(("inputs",), type(entries).__name__, "must be a list")
    ports, seen = [], {}
    for i, entry in enumerate(entries):
        where = ("inputs", i)
        if not isinstance(entry, dict):
            raise doc.error(where, entry, "must be {role, channel, mainframe, input}")
        doc.check_keys(where, entry, ("role", "channel", "mainframe", "input"))
        role = entry.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise doc.error(where + ("role",), role, f"not one of {sorted(ROLES)}")
        channel = entry.get("channel")
        if isinstance(channel, bool) or not isinstance(channel, int) or not (1 <= channel <= 10 or 101 <= channel <= 1002):
            raise doc.error(where + ("channel",), channel, "must be an SMU slot 1-10 or an SPGU channel <slot>01/<slot>02")
        mainframe = _mainframe(doc, where, entry, cards)
        port = _port(doc, where, entry, "input", MAX_INPUTS)
        if (mainframe, port) in seen:
            raise doc.error(where + ("input",), port, f"{mainframe} input {port} already used by inputs[{seen[(mainframe, port)]}]")
        seen[(mainframe, port)] = i
        ports.append(InputPort(role, channel, mainframe, port))
    return ports
