"""Keysight B1500A mainframe driver: FLEX transactions with an error check after each one.

Every batch of ``;``-joined commands is followed by ``ERRX?``; a non-zero code raises
``InstrumentError`` naming the batch and the instrument's own text, so no rejected command passes
silently (a slip peer drivers share). Modules are addressed by slot as ``UNT?`` reports them.
SMU and SPGU helpers live in :mod:`.smu` and :mod:`.spgu`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from labctl.errors import InstrumentError, field_error
from labctl.specs import DEFAULT_LIMITS, SafetyLimits

from . import flex
from .ascii_data import OK_STATUS, Reading, parse_block
from .plain import PlainInstrument
from .smu import SMU
from .spgu import SPGU

MAX_ERRORS_DRAINED = 32
"""Most queued errors read when clearing the queue before giving up (a stuck queue is an error)."""


class B1500(PlainInstrument):
    """Keysight B1500A semiconductor device analyzer (FLEX command set, ASCII data ``FMT 1``)."""

    def __init__(self, adapter, name: str = "Keysight B1500A", limits: SafetyLimits = DEFAULT_LIMITS,
                 **kwargs) -> None:
        self.limits = limits
        """Ranges the SMU and SPGU helpers check before sending (the bench file's, narrowed)."""
        kwargs.setdefault("read_termination", "\r\n")
        kwargs.setdefault("write_termination", "\n")
        super().__init__(adapter, name, includeSCPI=False, **kwargs)

    # -- identity and modules ----------------------------------------------------------------------
    @property
    def idn(self) -> str:
        """Get the identification string (``*IDN?``)."""
        return self.ask("*IDN?").strip()

    def modules(self) -> dict[int, str]:
        """Get the installed modules as {slot: model}, e.g. {1: 'B1525A', 2: 'B1517A'} (``UNT?``)."""
        return flex.parse_unt(self.ask("UNT?"))

    def smu(self, slot: int) -> SMU:
        """The SMU in ``slot`` (no message is sent)."""
        return SMU(self, slot)

    def spgu(self, slot: int) -> SPGU:
        """The SPGU module in ``slot`` (channels ``<slot>01`` and ``<slot>02``; no message is sent)."""
        return SPGU(self, slot)

    # -- transactions ------------------------------------------------------------------------------
    def next_error(self) -> tuple[int, str]:
        """Get the oldest queued error as (code, text); (0, 'No Error.') when empty (``ERRX?``)."""
        return flex.parse_errx(self.ask("ERRX?"))

    def clear_errors(self) -> list[tuple[int, str]]:
        """Drain the error queue left by another program; returns what was queued (``ERRX?``)."""
        drained = []
        for _ in range(MAX_ERRORS_DRAINED):
            code, text = self.next_error()
            if code == 0:
                return drained
            drained.append((code, text))
        raise field_error(InstrumentError, "b1500 error queue", drained[-1], "does not empty")

    def check(self, sent: str) -> None:
        """Raise ``InstrumentError`` naming ``sent`` if the instrument queued an error (``ERRX?``)."""
        code, text = self.next_error()
        if code:
            raise InstrumentError(f"b1500 refused {sent!r}: error {code}: {text}")

    def transaction(self, commands: Sequence[str]) -> int:
        """Send commands joined into buffer-sized messages, checking errors after each; returns messages sent."""
        messages = flex.batches(commands)
        for message in messages:
            self.write(message)
            self.check(message)
        return len(messages)

    def measure(self, commands: Sequence[str], expected_s: float = 0.0, trigger: str = flex.XE) -> list[Reading]:
        """Send the setup ``commands``, trigger (``XE``, or a spot ``TI``), read and parse the data block.

        The read timeout is the expected measurement time plus a margin, not a guess.
        """
        self.transaction(commands)
        return self.measure_blocks([[trigger]], expected_s)[0]

    def measure_blocks(self, blocks: Sequence[Sequence[str]], expected_s: float = 0.0) -> list[list[Reading]]:
        """Send each block (commands holding one trigger, ``XE``, maybe commands after it such as ``CL``)
        in as few messages as the input buffer allows and read its data block; read the error queue once
        after the last (``ERRX?``): n blocks that fit the buffer cost n + 1 messages.

        An error queued by any of the commands raises ``InstrumentError`` before the data is returned,
        so a reading taken after a refused command never passes. ``expected_s`` is one block's
        measurement time (the read timeout).
        """
        self._set_timeout(expected_s)
        out, sent = [], ""
        for block in blocks:
            for sent in flex.batches(block):
                self.write(sent)
            try:
                data = self.read()
            except Exception as exc:  # a VISA timeout, a closed link, or a command the instrument refused
                detail = ""
                with contextlib.suppress(Exception):
                    code, text = self.next_error()
                    detail = f"; instrument error {code}: {text}" if code else ""
                raise InstrumentError(f"b1500 {sent!r}: no data ({exc}){detail}") from exc
            out.append(parse_block(data))
        self.check(sent)
        for readings in out:
            flagged = next((r for r in readings if r.status not in OK_STATUS), None)
            if flagged is not None:
                raise InstrumentError(f"b1500 {sent!r}: {flagged.source} reading status {flagged.status!r} "
                                      f"({flagged.meaning})")
        return out

    def outputs_off(self) -> None:
        """Stop any SPGU run and disable every output (``SPP``; ``CL``)."""
        self.write(f"{flex.SPP};{flex.cl()}")
        self.check("SPP;CL")

    def prepare(self, reset: bool = False) -> list[tuple[int, str]]:
        """Defensive connect: optional ``*RST``, drain errors, outputs off, ASCII format (``FMT 1,0``).

        Returns the errors another program had left queued.
        """
        if reset:
            self.write("*RST")
        left = self.clear_errors()
        self.outputs_off()
        self.transaction([flex.fmt(1, 0)])
        return left

    def wait_complete(self) -> None:
        """Block until pending operations are done (``*OPC?``)."""
        reply = self.ask("*OPC?").strip()
        if reply not in ("1", "+1"):
            raise field_error(InstrumentError, "b1500 *OPC?", reply, "expected 1")

    def _set_timeout(self, expected_s: float) -> None:
        connection = getattr(self.adapter, "connection", None)
        if connection is not None and hasattr(connection, "timeout"):
            connection.timeout = int(1000 * (2 * expected_s + TIMEOUT_MARGIN_S))


TIMEOUT_MARGIN_S = 2.0
"""Margin added to the computed measurement time for the read timeout, in s (bus and ADC overhead)."""
