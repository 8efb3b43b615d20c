"""A simulated Keysight B1500A: parses FLEX messages through a dispatch table and keeps module state.

Ranges (SPGU period, levels, edge minimum by swing; SMU pulse timing; ADC integration) are the
instrument's documented ones from :data:`labctl.specs.DEFAULT_LIMITS`, the same numbers the drivers
check, so the simulator refuses what the bench would. Where the simulation differs from the instrument: a refused command stops the rest of its message
(the manual leaves partial execution unspecified); pulsed SMU measurements (``MM 3``/``MM 4``) are
refused as not simulated; error codes are this fake's own (the texts name the command). Each SMU
refuses a voltage or compliance beyond its module's rating (``labctl.instruments.modules``), as the
real module does; ``UNT?`` reports a CMU with its adapter (``B1520A/N1301A``), as a real one does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from labctl.errors import SafetyLimitError
from labctl.instruments.ascii_data import Reading, format_reading
from labctl.instruments.modules import models_of, rating
from labctl.specs import DEFAULT_LIMITS

from .adapter import FakeInstrument

SMU_MODELS = tuple(sorted(models_of("SMU")))
UNT_SUFFIX = {"B1520A": "/N1301A"}
"""What ``UNT?`` appends to a model with its accessory attached (the CMU's N1301A adapter)."""
UNDEFINED, BAD_PARAMETER, BAD_STATE = 100, 120, 150
"""This fake's error codes: unknown mnemonic, bad argument, command not allowed in this state."""


class CommandError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


class FakeB1500(FakeInstrument):
    """Stateful B1500A with SMUs and SPGUs in the given slots."""

    def __init__(self, world, modules: dict[int, str], idn: str = "Agilent Technologies,B1500A,0,A.06.00") -> None:
        super().__init__()
        self.world = world
        self.modules = dict(modules)
        self.idn = idn
        world.b1500 = self
        self.reset()
        self.handlers = {
            "*IDN?": lambda a: self.output.append(self.idn), "*RST": lambda a: self.reset(),
            "*OPC?": lambda a: self.output.append("1"), "UNT?": self._unt, "ERRX?": self._errx,
            "FMT": self._fmt, "CN": self._cn, "CL": self._cl, "DV": self._dv, "MM": self._mm,
            "CMM": self._cmm, "RI": self._range, "RV": self._range, "AAD": self._aad, "AIT": self._ait,
            "TI": self._ti, "WT": self._wt, "WV": self._wv, "PT": self._pt, "PV": self._pv,
            "XE": self._xe, "SIM": self._sim, "SPM": self._spm, "SPPER": self._spper, "SPRM": self._sprm,
            "SPV": self._spv, "SPT": self._spt, "SER": self._ser, "SPUPD": self._spupd, "SRP": self._srp,
            "SPP": lambda a: None, "SPST?": lambda a: self.output.append("0"),
        }

    def reset(self) -> None:
        """Power-on state: outputs off, ASCII with header, no measurement set."""
        self.enabled: set[int] = set()
        self.dc: dict[int, float] = {}
        self.format = (1, 0)
        self.mode: tuple[int, list[int]] | None = None
        self.integration_s = 1e-4
        self.sweep: tuple | None = None
        self.hold_s = (0.0, 0.0)
        self.spgu = {"period_s": 1e-6, "count": 1, "shapes": {}, "applied": False, "pg_mode": False}

    def settings(self) -> dict:
        """Outputs, levels, measurement and SPGU setup (JSON-ready), for a bench snapshot."""
        spgu = {**self.spgu, "shapes": [[ch, s] for ch, s in self.spgu["shapes"].items()]}
        return {"enabled": sorted(self.enabled), "dc": [[ch, v] for ch, v in self.dc.items()], "format": self.format,
                "mode": self.mode, "integration_s": self.integration_s, "sweep": self.sweep, "hold_s": self.hold_s,
                "spgu": spgu}

    def adopt(self, settings: dict) -> None:
        """Return to :meth:`settings` (queues cleared, as at a point boundary)."""
        self.enabled = set(settings["enabled"])
        self.dc = {int(ch): float(v) for ch, v in settings["dc"]}
        self.format = tuple(settings["format"])
        self.mode = None if settings["mode"] is None else (settings["mode"][0], list(settings["mode"][1]))
        self.integration_s = float(settings["integration_s"])
        self.sweep = None if settings["sweep"] is None else tuple(settings["sweep"])
        self.hold_s = tuple(settings["hold_s"])
        self.spgu = {**settings["spgu"], "shapes": {int(ch): dict(s) for ch, s in settings["spgu"]["shapes"]}}
        self.errors.clear()
        self.output.clear()

    # -- parsing -----------------------------------------------------------------------------------
    def handle(self, message: str) -> None:
        for command, head, args in _commands(message):
            handler = self.handlers.get(head)
            if handler is None:
                self.error(UNDEFINED, f"Undefined GPIB command: {command}")
                return
            try:
                handler(args)
            except CommandError as exc:
                self.error(exc.code, f"{exc}: {command}")
                return
            except (ValueError, IndexError):  # a malformed or missing argument
                self.error(BAD_PARAMETER, f"Incorrect parameter: {command}")
                return

    def _slot(self, arg: str, kinds=SMU_MODELS) -> int:
        channel = int(arg)
        slot = channel // 100 if channel > 100 else channel
        if self.modules.get(slot) not in kinds:
            raise CommandError(BAD_PARAMETER, f"No module in slot {slot} for channel {channel}")
        if channel > 100 and channel % 100 not in (1, 2):
            raise CommandError(BAD_PARAMETER, f"No channel {channel}")
        return channel

    def _any_channel(self, arg: str) -> int:
        return self._slot(arg, SMU_MODELS + ("B1525A",))

    # -- handlers ----------------------------------------------------------------------------------
    def _unt(self, args) -> None:
        models = [self.modules.get(s, "0") for s in range(1, 11)]
        self.output.append(";".join(f"{m}{UNT_SUFFIX.get(m, '')},0" for m in models))

    def _errx(self, args) -> None:
        code, text = self.errors.popleft() if self.errors else (0, "No Error.")
        self.output.append(f'{code},"{text}"')

    def _fmt(self, args) -> None:
        self.format = (int(args[0]), int(args[1]) if len(args) > 1 else 0)

    def _cn(self, args) -> None:
        chans = [self._any_channel(a) for a in args] or [s for s in self.modules if self.modules[s] in SMU_MODELS]
        for ch in chans:
            if ch > 100 and not self.spgu["applied"]:
                raise CommandError(BAD_STATE, "SPGU output enabled before SPUPD")
        self.enabled.update(chans)
        self.world.advance(self.world.timings.output_switch_s)

    def _cl(self, args) -> None:
        chans = [self._any_channel(a) for a in args] if args else list(self.enabled)
        self.enabled.difference_update(chans)
        for ch in chans:
            self.dc.pop(ch, None)
        self.world.advance(self.world.timings.output_switch_s)

    def _dv(self, args) -> None:
        ch = self._slot(args[0])
        voltage = float(args[2])
        self._rated(ch, [voltage], float(args[3]) if len(args) > 3 else 0.0)
        self.dc[ch] = voltage

    def _rated(self, ch: int, volts: list[float], compliance_a: float) -> None:
        """Refuse levels or a compliance beyond the module in ``ch``'s slot (``BAD_PARAMETER``)."""
        module = rating(self.modules[ch])
        if max(abs(v) for v in volts) > module.max_v:
            raise CommandError(BAD_PARAMETER, f"Voltage {max(volts, key=abs):g} V beyond the {module.name}'s "
                                              f"{module.max_v:g} V")
        if abs(compliance_a) > module.max_a:
            raise CommandError(BAD_PARAMETER, f"Compliance {compliance_a:g} A beyond the {module.name}'s "
                                              f"{module.max_a:g} A")

    def _mm(self, args) -> None:
        mode = int(args[0])
        if mode not in (1, 2):
            raise CommandError(BAD_PARAMETER, f"MM {mode} is not simulated")
        self.mode = (mode, [self._slot(a) for a in args[1:]])

    def _cmm(self, args) -> None:
        self._slot(args[0])
        if int(args[1]) not in (0, 1, 2, 3, 4):
            raise CommandError(BAD_PARAMETER, "Bad CMM mode")

    def _range(self, args) -> None:
        self._slot(args[0])
        int(args[1])

    def _aad(self, args) -> None:
        self._slot(args[0])
        if int(args[1]) not in (0, 1, 2):
            raise CommandError(BAD_PARAMETER, "Bad ADC type")

    def _ait(self, args) -> None:
        value = float(args[2])
        if int(args[1]) == 3:
            _within("AIT time", value, "adc_min_integration_s", "adc_max_integration_s")
        self.integration_s = value if int(args[1]) == 3 else value / 50.0

    def _wt(self, args) -> None:
        self.hold_s = (float(args[0]), float(args[1]) if len(args) > 1 else 0.0)

    def _wv(self, args) -> None:
        ch = self._slot(args[0])
        points = int(args[5])
        self._rated(ch, [float(args[3]), float(args[4])], float(args[6]) if len(args) > 6 else 0.0)
        if not 1 <= points <= 10001:
            raise CommandError(BAD_PARAMETER, "Sweep points outside 1..10001")
        self.sweep = (ch, float(args[3]), float(args[4]), points)

    def _pt(self, args) -> None:
        """Pulse timing is accepted and range-checked; pulsed measurements themselves are not simulated."""
        width, period = float(args[1]), float(args[2]) if len(args) > 2 else 5e-3
        _within("PT width", width, "smu_min_pulse_width_s", "smu_max_pulse_width_s")
        _within("PT period", period, "smu_min_pulse_period_s", "smu_max_pulse_period_s")

    def _pv(self, args) -> None:
        self._rated(self._slot(args[0]), [float(args[2]), float(args[3])], float(args[4]) if len(args) > 4 else 0.0)

    def _ti(self, args) -> None:
        ch = self._slot(args[0])
        self._require_on([ch])
        self._emit([ch], np.array([self._spot([ch])]).T)

    def _xe(self, args) -> None:
        if self.mode is None:
            raise CommandError(BAD_STATE, "No measurement mode set (MM)")
        mode, chans = self.mode
        self._require_on(chans)
        if mode == 1:
            self._emit(chans, np.array([self._spot(chans)]).T)
            return
        if self.sweep is None:
            raise CommandError(BAD_STATE, "No staircase source set (WV)")
        gate, start, stop, points = self.sweep
        self._require_on([gate])
        gate_v = np.linspace(start, stop, points)
        dc = {ch: v for ch, v in self.dc.items() if ch in self.enabled}
        currents = self.world.sweep(gate, gate_v, dc, chans)
        self.world.advance(points * (sum(self.hold_s) + self.world.timings.sweep_hold_s + self.integration_s))
        self._emit(chans, currents, (gate, gate_v) if self.format[1] == 1 else None)

    def _require_on(self, chans: list[int]) -> None:
        off = [ch for ch in chans if ch not in self.enabled]
        if off:
            raise CommandError(BAD_STATE, f"Channel {off[0]} output is off")

    def _spot(self, chans: list[int]) -> list[float]:
        dc = {ch: v for ch, v in self.dc.items() if ch in self.enabled}
        self.world.advance(len(chans) * self.integration_s)
        return self.world.currents(dc, chans)

    def _emit(self, chans: list[int], currents: np.ndarray, source: tuple[int, np.ndarray] | None = None) -> None:
        """Queue one data block: point-major, channel-minor, as the B1500 orders multi-channel data; with
        ``source`` (``FMT x,1`` in a sweep) each point ends with the source value, status ``W`` or ``E`` (last)."""
        tokens = []
        points = currents.shape[1]
        for k in range(points):
            readings = [Reading("N", ch, "I", float(currents[s, k])) for s, ch in enumerate(chans)]
            if source is not None:
                readings.append(Reading("E" if k == points - 1 else "W", source[0], "V", float(source[1][k])))
            for reading in readings:
                tokens.append(format_reading(reading) if self.format[0] == 1 else f"{reading.value:+.5E}")
        self.output.append(",".join(tokens))

    # -- SPGU --------------------------------------------------------------------------------------
    def _sim(self, args) -> None:
        if int(args[0]) != 0:
            raise CommandError(BAD_PARAMETER, "Only PG mode (SIM 0) is simulated")
        self.spgu["pg_mode"] = True

    def _spm(self, args) -> None:
        self._slot(args[0], ("B1525A",))
        if int(args[1]) not in (0, 1, 2, 3):
            raise CommandError(BAD_PARAMETER, "Bad SPM mode")

    def _spper(self, args) -> None:
        period = float(args[0])
        _within("SPPER", period, "spgu_min_period_s", "spgu_max_period_s")
        self.spgu["period_s"] = period

    def _sprm(self, args) -> None:
        if int(args[0]) != 1 or not 1 <= int(args[1]) <= DEFAULT_LIMITS.max_pulse_count:
            raise CommandError(BAD_PARAMETER, "SPRM count outside 1..1000000")
        self.spgu["count"] = int(args[1])

    def _shape(self, args) -> dict:
        ch = self._slot(args[0], ("B1525A",))
        self.spgu["applied"] = False
        return self.spgu["shapes"].setdefault(ch, {"base": 0.0, "peak": 0.0, "width": 1e-7, "rise": 2e-8,
                                                   "fall": 2e-8})

    def _spv(self, args) -> None:
        shape = self._shape(args)
        base, peak = float(args[2]), float(args[3])
        if max(abs(base), abs(peak)) > DEFAULT_LIMITS.spgu_max_level_v:
            raise CommandError(BAD_PARAMETER, f"SPV outside +/-{DEFAULT_LIMITS.spgu_max_level_v:g} V")
        shape.update(base=base, peak=peak)

    def _spt(self, args) -> None:
        shape = self._shape(args)
        delay, width, rise, fall = (float(a) for a in args[2:6])
        if width < 10e-9 or width > self.spgu["period_s"] - 10e-9:
            raise CommandError(BAD_PARAMETER, "SPT width outside 10 ns..period-10 ns")
        shape.update(width=width, rise=rise, fall=fall)

    def _ser(self, args) -> None:
        self._slot(args[0], ("B1525A",))
        float(args[1])

    def _spupd(self, args) -> None:
        for a in args:
            ch = self._slot(a, ("B1525A",))
            shape = self.spgu["shapes"].get(ch)
            if shape is not None:
                try:
                    DEFAULT_LIMITS.check_spgu_output(f"channel {ch}", shape["peak"] - shape["base"], shape["rise"],
                                                     shape["fall"])
                except SafetyLimitError as exc:
                    raise CommandError(BAD_PARAMETER, f"SPT edge too short: {exc}") from None
        self.spgu["applied"] = True

    def _srp(self, args) -> None:
        spgu = self.spgu
        if not spgu["pg_mode"] or not spgu["applied"]:
            raise CommandError(BAD_STATE, "SPGU not set up (SIM 0 ... SPUPD)")
        on = {ch: s for ch, s in spgu["shapes"].items() if ch in self.enabled}
        if on:
            first = next(iter(on.values()))
            base = {ch: s["base"] for ch, s in on.items()}
            peak = {ch: s["peak"] for ch, s in on.items()}
            for ch, v in self.dc.items():
                if ch in self.enabled:
                    base[ch] = peak[ch] = v
            self.world.pulse(base, peak, first["width"], first["rise"], first["fall"], spgu["count"])
        self.world.advance(spgu["count"] * spgu["period_s"])


@lru_cache(maxsize=4096)
def _commands(message: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(command, upper-case mnemonic, arguments) of each ``;``-joined command of a message: parsed once per
    text (a run repeats its few set-up and trigger messages thousands of times; handlers only read them)."""
    out = []
    for command in filter(None, (c.strip() for c in message.split(";"))):
        head, _, rest = command.partition(" ")
        out.append((command, head.upper(), tuple(a.strip() for a in rest.split(",")) if rest.strip() else ()))
    return tuple(out)


def _within(what: str, value: float, low: str, high: str) -> None:
    """Refuse as the instrument would (``BAD_PARAMETER``) a value outside the documented range."""
    lo, hi = getattr(DEFAULT_LIMITS, low), getattr(DEFAULT_LIMITS, high)
    if not lo <= value <= hi:
        raise CommandError(BAD_PARAMETER, f"{what} {value:g} outside {lo:g}..{hi:g}")
