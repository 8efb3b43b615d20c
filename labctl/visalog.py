"""``--visa-log FILE``: one line per instrument message, and the adapter wrapper that writes it.

Line format: ``<t_seconds>\\t<instrument>\\t<write|query|read>\\t<message>`` where instrument is
``b1500`` or ``switch`` and ``t_seconds`` is the bench clock (simulated on ``sim-instruments``).
A write ending a query (``?`` in the message) is logged as ``query``. The same wrapper counts the
messages (the transaction count of ``PulseReport``) and turns a VISA failure (timeout, dropped link)
into an ``InstrumentError`` naming the resource.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Protocol, TextIO

from pymeasure.adapters import Adapter

from .errors import ConfigError, InstrumentError, field_error


class Clock(Protocol):
    """The bench clock: wall time on a real bench, simulated time on ``sim-instruments``."""

    def now(self) -> float:
        """Seconds since the clock started."""

    def sleep(self, duration_s: float) -> None:
        """Let ``duration_s`` pass."""


class WallClock:
    """Monotonic wall time since construction; ``sleep`` really sleeps."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def sleep(self, duration_s: float) -> None:
        time.sleep(duration_s)


HOUSEKEEPING = ("ERRX?", ":SYST:ERR?", "SPP;CL", "CL")
"""Error-queue queries and outputs-off, sent after every operation: never the command an error is about."""


def open_log(path: str | Path) -> TextIO:
    """``path`` opened for writing, its folder created (``--visa-log`` inside an ``--out`` made later);
    ``ConfigError`` naming it if it cannot be."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by VisaLog.close)
    except OSError as exc:
        raise field_error(ConfigError, "--visa-log", str(path), f"cannot write: {exc.strerror or exc}") from None


class VisaLog:
    """Counts instrument messages and, when given a path, writes one line per message."""

    def __init__(self, path: str | Path | None, clock: Clock) -> None:
        self.clock = clock
        self.messages = 0
        """Writes and queries sent so far."""
        self.last: tuple[str, str] | None = None
        """(instrument, message) of the last write or query other than :data:`HOUSEKEEPING`: what an error names."""
        self._file: TextIO | None = open_log(path) if path else None

    def record(self, instrument: str, kind: str, message: str) -> None:
        """Log one message; writes and queries count as transactions, reads (their replies) do not."""
        self.messages += kind != "read"
        if kind != "read" and message not in HOUSEKEEPING:
            self.last = (instrument, message)
        if self._file is not None:
            self._file.write(f"{self.clock.now():.9f}\t{instrument}\t{kind}\t{message}\n")

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def read_log(path: str | Path) -> list[tuple[float, str, str, str]]:
    """Parse a visa log into (t_s, instrument, kind, message) tuples."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        t, instrument, kind, message = line.split("\t", 3)
        out.append((float(t), instrument, kind, message))
    return out


def audit(entries: list[tuple[float, str, str, str]]) -> tuple[list[str], set[str]]:
    """Replay a log: (relay changes sent while a B1500 output was on, outputs still on at the end).

    Tracks ``CN``/``CL`` in every ``;``-joined command written to the b1500; any switch
    ``:ROUT:CLOS``/``:ROUT:OPEN`` while a channel is on is reported as a readable line.
    """
    on: set[str] = set()
    found = []
    for t, instrument, kind, message in entries:
        if instrument == "b1500" and kind == "write":
            for command in message.split(";"):
                head, _, args = command.strip().partition(" ")
                chans = {a.strip() for a in args.split(",") if a.strip()}
                if head == "CN":
                    on |= chans
                elif head == "CL":
                    on = on - chans if chans else set()
                elif head == "*RST":
                    on = set()
        elif instrument == "switch" and message.startswith((":ROUT:CLOS ", ":ROUT:OPEN")) and on:
            found.append(f"{t:.6f}s {message} while {sorted(on)} on")
    return found, on


class LoggedAdapter(Adapter):
    """Wraps another pymeasure adapter: logs and counts every message, names the resource on failure."""

    def __init__(self, inner: Adapter, instrument: str, resource: str, log: VisaLog) -> None:
        super().__init__()
        self.inner = inner
        self.instrument = instrument
        self.resource = resource
        self.visa_log = log
        self.last_sent = ""
        """The last message written (named when its reply fails)."""

    @property
    def connection(self):
        return getattr(self.inner, "connection", None)

    def _write(self, command: str, **kwargs) -> None:
        self.visa_log.record(self.instrument, "query" if "?" in command else "write", command)
        self.last_sent = command
        try:
            self.inner.write(command, **kwargs)
        except Exception as exc:
            raise InstrumentError(f"{self.instrument} at {self.resource}: write {command!r} failed: {exc}") from exc

    def _read(self, **kwargs) -> str:
        try:
            reply = self.inner.read(**kwargs)
        except Exception as exc:
            raise InstrumentError(f"{self.instrument} at {self.resource}: no reply to {self.last_sent!r}: {exc}") from exc
        self.visa_log.record(self.instrument, "read", reply.strip())
        return reply

    def close(self) -> None:
        self.inner.close()
