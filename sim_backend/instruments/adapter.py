"""``SimAdapter``: a pymeasure Adapter whose far end is a simulated instrument, not a VISA session."""

from __future__ import annotations

from collections import deque

import pyvisa
from pymeasure.adapters import Adapter


class FakeInstrument:
    """Base of the fakes: an error queue, an output queue, and a dispatch table of handlers."""

    def __init__(self) -> None:
        self.errors: deque[tuple[int, str]] = deque()
        self.output: deque[str] = deque()

    def handle(self, message: str) -> None:
        """Process one message (may hold several ``;``-joined commands)."""
        raise NotImplementedError

    def error(self, code: int, text: str) -> None:
        """Queue an error, as the instrument's error queue would."""
        self.errors.append((code, text))


class SimAdapter(Adapter):
    """Deliver writes to ``fake.handle`` and reads from its output queue; advance the bench clock.

    An empty output queue on read raises pyvisa's timeout error, as a real session would.
    """

    def __init__(self, fake: FakeInstrument, world) -> None:
        super().__init__()
        self.fake = fake
        self.world = world

    def _write(self, command: str, **kwargs) -> None:
        self.world.bus()
        self.fake.handle(command.strip())

    def _read(self, **kwargs) -> str:
        if not self.fake.output:
            raise pyvisa.errors.VisaIOError(pyvisa.constants.StatusCode.error_timeout)
        return self.fake.output.popleft()

    def flush_read_buffer(self) -> None:
        self.fake.output.clear()
