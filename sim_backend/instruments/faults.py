"""Injected bench faults: ``--fault KIND@N`` (repeatable) on the simulated instruments.

Instrument faults fire at the N-th message written to any simulated instrument (1-based, counted
over the whole bench, as the ``--visa-log`` numbers writes and queries):

- ``timeout@N``: message N is delivered, but the next reply is lost (pyvisa timeout on the read).
- ``disconnect@N``: message N is not delivered, the write fails with ``VI_ERROR_CONN_LOST``; the link
  comes back for the following messages (the session is reopened), so the safe state can be sent.
- ``compliance@N``: the first data block after message N comes back flagged ``C`` (compliance).
- ``error@N``: the first message from N on that holds a command (not only queries) is refused: not
  executed, an error queued in the instrument's error queue (which the driver reads).

Device faults are physical defects of the chip (:class:`sim_backend.faults.Faults`), present from the
start: ``stuck-on@N`` / ``stuck-off@N`` the device with row-major index N, ``dead-line@N`` row line N.
They also work on ``--backend sim``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyvisa
from pymeasure.adapters import Adapter

from labctl.errors import ConfigError, field_error

from ..faults import Faults

INSTRUMENT_FAULTS = ("timeout", "disconnect", "compliance", "error")
"""Faults of the instruments and the bus (need ``sim-instruments`` or a ``sim://`` bench file)."""
DEVICE_FAULTS = ("stuck-on", "stuck-off", "dead-line")
"""Faults of the chip itself."""
FAULT_KINDS = INSTRUMENT_FAULTS + DEVICE_FAULTS
INJECTED_ERROR = -350
"""Error code the instrument queues for an ``error@N`` fault (SCPI: queue overflow range, unused here)."""
_FLEX_VALUE = re.compile(r"(^|,)N([A-Z@][A-Za-z])")


@dataclass(frozen=True)
class BenchFault:
    """One injected fault."""

    kind: str
    """One of :data:`FAULT_KINDS`."""
    at: int
    """Message number (instrument faults), device index (stuck) or row line (dead-line)."""

    def __str__(self) -> str:
        return f"{self.kind}@{self.at}"


def parse_fault(text: str) -> BenchFault:
    """``"timeout@40"`` -> ``BenchFault("timeout", 40)``; anything else is a ``ConfigError`` naming ``--fault``."""
    kind, sep, at = text.strip().partition("@")
    if not sep or kind not in FAULT_KINDS or not at.isdigit():
        raise field_error(ConfigError, "--fault", text, f"expected KIND@N with KIND one of {', '.join(FAULT_KINDS)}")
    if kind in INSTRUMENT_FAULTS and int(at) < 1:
        raise field_error(ConfigError, "--fault", text, "messages are numbered from 1")
    return BenchFault(kind, int(at))


@dataclass
class FaultPlan:
    """The faults of one simulated bench, and the message counter that fires the instrument faults."""

    faults: list[BenchFault] = field(default_factory=list)
    """Faults to inject."""
    messages: int = 0
    """Messages written to any instrument so far."""
    fired: list[str] = field(default_factory=list)
    """``"kind@N: instrument message"`` for every instrument fault that fired."""
    error_due: bool = False
    """An ``error`` fault waits for the next command that is not a query."""
    flag_data: bool = False
    """A ``compliance`` fault waits for the next data block from any instrument."""

    @classmethod
    def parse(cls, texts) -> FaultPlan:
        return cls([parse_fault(t) for t in texts])

    @property
    def instrument_faults(self) -> list[BenchFault]:
        return [f for f in self.faults if f.kind in INSTRUMENT_FAULTS]

    def chip_faults(self, shape: tuple[int, int]) -> Faults:
        """The device faults as the chip's :class:`Faults` (checked against ``shape``)."""
        out = Faults()
        for f in self.faults:
            if f.kind == "dead-line":
                out.dead_rows.append(f.at)
            elif f.kind in ("stuck-on", "stuck-off"):
                if f.at >= shape[0] * shape[1]:
                    raise field_error(ConfigError, "--fault", str(f), f"no device {f.at} in a {shape} array")
                getattr(out, f.kind.replace("-", "_")).append(divmod(f.at, shape[1]))
        out.check(shape)
        return out

    def next_message(self) -> list[str]:
        """Count one message; the kinds of the faults due now."""
        self.messages += 1
        return [f.kind for f in self.instrument_faults if f.at == self.messages]

    def take(self, due: list[str], command: str, where: str) -> list[str]:
        """The faults that act on ``command`` now (an ``error`` waits for a message holding a command, not only queries)."""
        self.error_due |= "error" in due
        act = [k for k in due if k != "error"]
        if self.error_due and any("?" not in part for part in command.split(";")):
            self.error_due = False
            act.append("error")
        self.fired += [f"{kind}@{self.messages}: {where} {command.strip()!r}" for kind in act]
        return act


class FaultyLink(Adapter):
    """Wraps a ``SimAdapter``: fires the plan's instrument faults on the way to and from the fake."""

    def __init__(self, inner, name: str, plan: FaultPlan) -> None:
        super().__init__()
        self.inner = inner
        self.name = name
        self.plan = plan
        self._lose_reply = False

    @property
    def fake(self):
        return self.inner.fake

    def _write(self, command: str, **kwargs) -> None:
        due = self.plan.take(self.plan.next_message(), command, self.name)
        if "disconnect" in due:
            raise pyvisa.errors.VisaIOError(pyvisa.constants.StatusCode.error_connection_lost)
        if "error" in due:
            self.inner.world.bus()
            self.inner.fake.error(INJECTED_ERROR, f"Injected fault; {command.strip()}")
            return
        self.inner.write(command, **kwargs)
        self._lose_reply |= "timeout" in due
        self.plan.flag_data |= "compliance" in due

    def _read(self, **kwargs) -> str:
        if self._lose_reply:
            self._lose_reply = False
            self.inner.flush_read_buffer()
        reply = self.inner.read(**kwargs)
        if self.plan.flag_data and _FLEX_VALUE.search(reply):
            self.plan.flag_data = False
            reply = _FLEX_VALUE.sub(r"\1C\2", reply)
        return reply

    def flush_read_buffer(self) -> None:
        self.inner.flush_read_buffer()


def wrap_links(adapters: dict[str, Adapter], plan: FaultPlan) -> dict[str, Adapter]:
    """Every adapter behind a :class:`FaultyLink` of ``plan`` (unchanged when it has no instrument fault)."""
    if not plan.instrument_faults:
        return adapters
    return {resource: FaultyLink(a, resource, plan) for resource, a in adapters.items()}


def backend_options(spec: str, faults: list[str], shape: tuple[int, int] | None = None) -> dict:
    """``open_backend`` options for ``--fault`` values on backend ``spec`` (empty without faults).

    ``sim`` takes only device faults (as ``faults=Faults`` for an array of ``shape``, default the
    30x30 chip); simulated instruments take a ``fault_plan``.
    A bench with real instruments takes none (refused by ``open_backend`` as an unknown option).
    """
    if not faults:
        return {}
    plan = FaultPlan.parse(faults)
    if spec == "sim":
        if plan.instrument_faults:
            raise field_error(ConfigError, "--fault", str(plan.instrument_faults[0]),
                              "instrument faults need --backend sim-instruments")
        from labctl.layout import CellLayout

        return {"faults": plan.chip_faults(shape or CellLayout.sparse().shape)}
    return {"fault_plan": plan}
