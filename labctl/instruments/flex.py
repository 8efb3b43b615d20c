"""Keysight B1500 FLEX commands as pure functions: build the exact strings, parse the replies.

One function per mnemonic (after QCoDeS' ``MessageBuilder``, without its slips listed in BENCH.md).
Numbers go out with ``%.12g`` so a 20 ns SPGU period is ``2e-08``, never ``0.000000``; channels are
slot numbers (SMU ``<slot>``, SPGU ``<slot>01``/``<slot>02``). Section numbers cite the
*Keysight B1500 Programming Guide*, chapter 4 "Command Reference".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from labctl.errors import InstrumentError, field_error

INPUT_BUFFER_CHARS = 256
"""B1500 input buffer in characters, including the terminator (Programming Guide 1-4)."""


def num(value: float) -> str:
    """Format a number for a FLEX message without losing precision (``%.12g``)."""
    return "%.12g" % float(value)


def _chans(channels: Iterable[int]) -> str:
    return ",".join(str(int(c)) for c in channels)


# -- control and status (4 "Command Reference": *RST, ERRX?, UNT?, FMT, *OPC?) -------------------
def cn(channels: Iterable[int]) -> str:
    """Enable (connect) SMU outputs (``CN``)."""
    return f"CN {_chans(channels)}"


def cl(channels: Iterable[int] = ()) -> str:
    """Disable outputs; no channel = all (``CL``)."""
    chans = _chans(channels)
    return f"CL {chans}" if chans else "CL"


def fmt(format_: int = 1, mode: int = 0) -> str:
    """Data output format: 1 = ASCII 12 digits with header, mode 0 = no source data (``FMT``)."""
    return f"FMT {format_},{mode}"


def mm(mode: int, channels: Iterable[int]) -> str:
    """Measurement mode: 1 spot, 2 staircase sweep, 3 pulsed spot, 4 pulsed sweep (``MM``)."""
    return f"MM {mode},{_chans(channels)}"


def cmm(channel: int, mode: int) -> str:
    """SMU measurement operation: 0 compliance side, 1 current, 2 voltage (``CMM``)."""
    return f"CMM {channel},{mode}"


def ri(channel: int, range_: int) -> str:
    """Current measurement range, 0 = auto (``RI``)."""
    return f"RI {channel},{range_}"


def aad(channel: int, adc: int) -> str:
    """ADC type: 0 high-speed, 1 high-resolution (``AAD``)."""
    return f"AAD {channel},{adc}"


def ait(adc: int, mode: int, value: float) -> str:
    """ADC integration: mode 3 = time in s for the high-speed ADC, 2 = PLC (``AIT``)."""
    return f"AIT {adc},{mode},{num(value)}"


def dv(channel: int, voltage_v: float, compliance_a: float, range_: int = 0) -> str:
    """Force a DC voltage with a current compliance (``DV``)."""
    return f"DV {channel},{range_},{num(voltage_v)},{num(compliance_a)}"


def ti(channel: int, range_: int = 0) -> str:
    """High-speed spot current measurement; replies one reading (``TI``)."""
    return f"TI {channel},{range_}"


def wv(channel: int, start_v: float, stop_v: float, points: int, compliance_a: float,
       mode: int = 1, range_: int = 0) -> str:
    """Staircase voltage sweep source; mode 1 linear single (``WV``)."""
    return f"WV {channel},{mode},{range_},{num(start_v)},{num(stop_v)},{int(points)},{num(compliance_a)}"


def wt(hold_s: float, delay_s: float) -> str:
    """Staircase sweep hold and step delay times (``WT``)."""
    return f"WT {num(hold_s)},{num(delay_s)}"


def pt(hold_s: float, width_s: float, period_s: float) -> str:
    """SMU pulse timing: hold, width 0.5 ms-2 s, period 5 ms-5 s (``PT``)."""
    return f"PT {num(hold_s)},{num(width_s)},{num(period_s)}"


def pv(channel: int, base_v: float, pulse_v: float, compliance_a: float, range_: int = 0) -> str:
    """SMU pulsed voltage source (``PV``)."""
    return f"PV {channel},{range_},{num(base_v)},{num(pulse_v)},{num(compliance_a)}"


def pwv(channel: int, base_v: float, start_v: float, stop_v: float, points: int, compliance_a: float,
        mode: int = 1, range_: int = 0) -> str:
    """SMU pulsed voltage sweep source (``PWV``; QCoDeS' ``pwv()`` sends ``PWI`` by mistake)."""
    return (f"PWV {channel},{mode},{range_},{num(base_v)},{num(start_v)},{num(stop_v)},{int(points)},"
            f"{num(compliance_a)}")


XE = "XE"
"""Trigger the measurement set by ``MM``; the data goes to the output buffer (``XE``)."""


# -- SPGU (4 "SPGU Control Commands") -------------------------------------------------------------
def sim(mode: int = 0) -> str:
    """SPGU operating mode: 0 = PG (pulse generator) (``SIM``)."""
    return f"SIM {mode}"


def spm(channel: int, mode: int = 1) -> str:
    """SPGU channel output mode: 1 = 2-level pulse from signal source 1 (``SPM``)."""
    return f"SPM {channel},{mode}"


def spper(period_s: float) -> str:
    """SPGU pulse period, 20 ns to 10 s (``SPPER``; pymeasure's %f sends 20 ns as 0.000000)."""
    return f"SPPER {num(period_s)}"


def sprm(count: int) -> str:
    """SPGU run mode 1 = a fixed pulse count, 1 to 1,000,000 (``SPRM``)."""
    return f"SPRM 1,{int(count)}"


def spv(channel: int, base_v: float, peak_v: float, source: int = 1) -> str:
    """SPGU base and peak voltage of signal source ``source`` (``SPV``)."""
    return f"SPV {channel},{source},{num(base_v)},{num(peak_v)}"


def spt(channel: int, delay_s: float, width_s: float, rise_s: float, fall_s: float, source: int = 1) -> str:
    """SPGU pulse delay, width and edge times (``SPT``)."""
    return f"SPT {channel},{source},{num(delay_s)},{num(width_s)},{num(rise_s)},{num(fall_s)}"


def ser(channel: int, load_ohm: float) -> str:
    """SPGU load impedance the amplitude is computed for, 0.1 ohm to 1 Mohm (``SER``)."""
    return f"SER {channel},{num(load_ohm)}"


def spupd(channels: Iterable[int]) -> str:
    """Apply the SPGU settings to the outputs (starts the output at base level) (``SPUPD``)."""
    return f"SPUPD {_chans(channels)}"


SRP = "SRP"
"""Start the SPGU pulse run (``SRP``)."""
SPP = "SPP"
"""Stop the SPGU pulse run (``SPP``)."""
SPST = "SPST?"
"""Query the SPGU run state: 0 stopped/done, 1 busy (``SPST?``)."""


# -- batching and parsing -------------------------------------------------------------------------
def batches(commands: Sequence[str], limit: int = INPUT_BUFFER_CHARS) -> list[str]:
    """Join commands with ``;`` into messages that fit the input buffer (terminator counted)."""
    out: list[str] = []
    current = ""
    for cmd in commands:
        if len(cmd) + 1 > limit:
            raise field_error(InstrumentError, "command", cmd, f"longer than the {limit}-character buffer")
        joined = f"{current};{cmd}" if current else cmd
        if len(joined) + 1 > limit:
            out.append(current)
            joined = cmd
        current = joined
    if current:
        out.append(current)
    return out


def parse_errx(reply: str) -> tuple[int, str]:
    """``ERRX?`` reply ``code,"message"`` -> (code, message)."""
    code, _, message = reply.strip().partition(",")
    try:
        return int(code), message.strip().strip('"')
    except ValueError:
        raise field_error(InstrumentError, "ERRX?", reply, "unparseable error reply") from None


def parse_unt(reply: str) -> dict[int, str]:
    """``UNT?`` reply ``model,rev;model,rev;...`` (one per slot) -> {slot: model} of installed modules."""
    modules = {}
    for slot, entry in enumerate(reply.strip().split(";"), start=1):
        model = entry.split(",")[0].strip()
        if model and model != "0":
            modules[slot] = model
    return modules
