"""The bench file (``bench.yaml``): VISA resources, B1500 module slots, probe-card map, limits, timings.

Example (``labctl/benches/sim-instruments.yaml`` is the one ``--backend sim-instruments`` uses)::

    b1500:
      resource: GPIB0::17::INSTR
      modules: {1: B1525A, 2: B1517A, 3: B1517A}   # slot -> model, as UNT? must report it
      reset_on_connect: false                       # *RST wipes what another program set up
    switches:
      swA: {resource: GPIB0::22::INSTR}
      swB: {resource: GPIB0::23::INSTR}
    probe_card: probecard.yaml                      # relative to this file
    direct_path: false                              # true: SPGU wired past the matrix (< 100 ns pulses)
    limits: {max_write_v: 6.0}                      # SafetyLimits fields, narrowed only (see below)
    timings: {round_trip_s: 0.02, relay_settle_s: 0.005}

Every limit has a ceiling from what the file declares (:func:`ceilings`): the SMUs the probe card
wires (compliance, read, gate and drain voltage), the SPGU (write amplitude, levels, timing), the
switch matrix (no pulse under 100 ns without ``direct_path``). A file may only narrow them; a limit
it leaves out defaults to the narrower of ``SafetyLimits``' default and the ceiling. Unknown keys at
every level are errors naming the nearest known key (a misspelt ``limits:`` would drop the limits).
Timings the data sheets do not publish (relay actuation) are configurable assumptions here, never
hidden constants. Errors name the file line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError
from .instruments.modules import MODULES, models_of, rating
from .instruments.switch_matrix import MIN_ROUTED_WIDTH_S
from .probecard import ProbeCardMap, load_probecard
from .specs import WRITE_OUTPUTS, SafetyLimits
from .yamlfile import load_located

SMU_MODELS = models_of("SMU")
"""B1500 module models that are SMUs."""
SPGU_MODELS = models_of("SPGU")
"""B1500 module models that are SPGUs."""
TOP_KEYS = ("b1500", "switches", "probe_card", "direct_path", "limits", "timings")
"""Keys of a bench file."""
B1500_KEYS = ("resource", "modules", "reset_on_connect")
"""Keys of its ``b1500`` section."""


@dataclass(frozen=True)
class BenchTimings:
    """Times of bench operations, in s; the estimate and the simulated instruments both use them."""

    round_trip_s: float = 0.02
    """One VISA message (write or query), in s: GPIB ~20 ms (BENCH.md); measure it with ``bench check``."""
    relay_settle_s: float = 5e-3
    """Relay actuation + break-before-make wait per routing change, in s (not published: an assumption)."""
    output_switch_s: float = 100e-6
    """SPGU/SMU output relay switching time per ``CN``/``CL``, in s (SPGU supplemental data)."""
    sweep_hold_s: float = 1e-3
    """Hold time before each staircase-sweep point, in s (``WT``)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"BenchTimings.{f.name}={value!r}: must be a number >= 0")


@dataclass(frozen=True)
class BenchConfig:
    """A validated bench file."""

    b1500_resource: str
    """VISA resource of the B1500A (``sim://...`` for the simulated instruments)."""
    modules: dict[int, str]
    """Expected modules {slot: model}; connect refuses a mainframe that reports otherwise."""
    switches: dict[str, str]
    """Switch-matrix mainframe name -> VISA resource."""
    probecard: ProbeCardMap
    """The probe-card map."""
    limits: SafetyLimits = field(default_factory=SafetyLimits)
    """Safety limits of this chip on this bench."""
    timings: BenchTimings = field(default_factory=BenchTimings)
    """Bench timings for the estimate (and the simulated instruments)."""
    direct_path: bool = False
    """The SPGU reaches the array without the matrix, so pulses < 100 ns are allowed (BENCH.md)."""
    reset_on_connect: bool = False
    """Send ``*RST`` to the B1500 on connect (off by default: it clears another user's setup)."""
    path: Path | None = None
    """The file this came from."""

    def channel_slot(self, channel: int) -> int:
        """Module slot of a FLEX channel (SMU ``2`` -> 2, SPGU ``101`` -> 1)."""
        return channel // 100 if channel > 100 else channel


def load_bench(path: str | Path) -> BenchConfig:
    """Load and validate a bench file and its probe-card map; ``ConfigError`` names the line and field."""
    doc = load_located(path)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), data, "must be a mapping with b1500, switches, probe_card")
    doc.check_keys((), data, TOP_KEYS)
    for key in ("b1500", "switches", "probe_card"):
        if key not in data:
            raise doc.error((key,), None, "missing")
    b1500 = data["b1500"]
    if isinstance(b1500, dict):
        doc.check_keys(("b1500",), b1500, B1500_KEYS)
    if not isinstance(b1500, dict) or not isinstance(b1500.get("resource"), str):
        raise doc.error(("b1500", "resource"), (b1500 or {}).get("resource") if isinstance(b1500, dict) else b1500,
                        "must be a VISA resource string")
    modules = b1500.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise doc.error(("b1500", "modules"), modules, "must map slot -> model")
    for slot, model in modules.items():
        if isinstance(slot, bool) or not isinstance(slot, int) or not 1 <= slot <= 10 or model not in MODULES:
            raise doc.error(("b1500", "modules", str(slot)), model,
                            f"slot must be 1-10 and model one of {sorted(MODULES)}")
    switches = data["switches"]
    if not isinstance(switches, dict) or not switches:
        raise doc.error(("switches",), switches, "must map mainframe name -> {resource}")
    resources = {}
    for name, spec in switches.items():
        if isinstance(spec, dict):
            doc.check_keys(("switches", name), spec, ("resource",))
        if not isinstance(spec, dict) or not isinstance(spec.get("resource"), str):
            raise doc.error(("switches", name, "resource"), spec, "must be a VISA resource string")
        resources[str(name)] = spec["resource"]
    if not isinstance(data["probe_card"], str) or not data["probe_card"]:
        raise doc.error(("probe_card",), data["probe_card"], "must be the path of the probe-card map")
    map_path = Path(data["probe_card"])
    if not map_path.is_absolute():
        map_path = doc.path.parent / map_path
    if not map_path.is_file():
        raise doc.error(("probe_card",), str(map_path), "no such probe-card map file")
    probecard = load_probecard(map_path)
    for name in probecard.cards:
        if name not in resources:
            raise doc.error(("switches",), sorted(resources), f"probe-card mainframe {name!r} has no resource")
    for port in probecard.inputs:
        slot = port.channel // 100 if port.channel > 100 else port.channel
        want = SPGU_MODELS if port.channel > 100 else SMU_MODELS
        if modules.get(slot) not in want:
            raise doc.error(("b1500", "modules"), modules.get(slot),
                            f"probe card wires channel {port.channel} ({port.role}) but slot {slot} holds no "
                            f"{'SPGU' if port.channel > 100 else 'SMU'}")
    direct = data.get("direct_path", False)
    if not isinstance(direct, bool):
        raise doc.error(("direct_path",), direct, "must be true or false")
    limits = _limits(doc, ceilings(modules, probecard, direct))
    timings = _section(doc, "timings", BenchTimings)
    reset = b1500.get("reset_on_connect", False)
    if not isinstance(reset, bool):
        raise doc.error(("b1500", "reset_on_connect"), reset, "must be true or false")
    return BenchConfig(b1500["resource"], dict(modules), resources, probecard, limits, timings, direct, reset,
                       doc.path)


def ceilings(modules: dict[int, str], probecard: ProbeCardMap, direct_path: bool) -> dict[str, tuple[float, str]]:
    """Limit field -> (the most the declared bench can do, which part sets it).

    ``min_width_s`` is a floor (the smallest allowed); every other entry is a ceiling.
    """
    drive, sense = probecard.inputs_for("row_drive"), probecard.inputs_for("col_sense")
    out = {"compliance_a": _weakest(drive + sense, modules, "max_a"), "max_read_v": _weakest(drive, modules, "max_v"),
           "max_gate_v": _weakest(drive, modules, "max_v"), "max_drain_v": _weakest(sense, modules, "max_v")}
    pulse = next(iter(probecard.inputs_for("row_pulse")), None)
    if pulse is not None:
        spgu = rating(modules[pulse.channel // 100])
        out["max_write_v"] = (WRITE_OUTPUTS * spgu.max_v,
                              f"the SPGU in slot {pulse.channel // 100} ({WRITE_OUTPUTS} outputs of {spgu.max_v:g} V)")
    if not direct_path:
        out["min_width_s"] = (MIN_ROUTED_WIDTH_S, "the switch matrix (30 MHz, ~145 pF; declare direct_path: true "
                                                  "for an SPGU wired past it)")
    return out


def _weakest(ports, modules: dict[int, str], attr: str) -> tuple[float, str]:
    """The smallest rating ``attr`` among the SMUs wired to ``ports``, and which module it is."""
    port = min(ports, key=lambda p: getattr(rating(modules[p.channel]), attr))
    model = modules[port.channel]
    return getattr(rating(model), attr), f"the {rating(model).name} ({model}) in slot {port.channel}"


def _limits(doc, bounds: dict[str, tuple[float, str]]) -> SafetyLimits:
    """The file's limits, each checked against its ceiling; fields it leaves out narrowed to the ceiling."""
    values = doc.data.get("limits") or {}
    if not isinstance(values, dict):
        raise doc.error(("limits",), values, "must be a mapping")
    doc.check_keys(("limits",), values, [f.name for f in fields(SafetyLimits)])
    values = {k: _yaml11_number(v) for k, v in values.items()}
    merged = dict(values)
    for name, (bound, source) in bounds.items():
        floor = name == "min_width_s"
        if name in values:
            value = values[name]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and (
                    value < bound if floor else value > bound):
                raise doc.error(("limits", name), value, f"{'below' if floor else 'beyond'} {bound!r}, the most "
                                f"{source} allows (a bench file may only narrow it)")
        else:
            default = getattr(SafetyLimits, name)
            merged[name] = max(default, bound) if floor else min(default, bound)
    limits = _build(doc, "limits", SafetyLimits, merged)
    try:
        limits.check_narrows()
    except ConfigError as exc:
        name = str(exc).split("=")[0].split(".")[-1]
        raise doc.error(("limits", name), getattr(limits, name), str(exc)) from None
    return limits


def _section(doc, key: str, cls):
    values = doc.data.get(key) or {}
    if not isinstance(values, dict):
        raise doc.error((key,), values, "must be a mapping")
    doc.check_keys((key,), values, [f.name for f in fields(cls)])
    return _build(doc, key, cls, values)


def _build(doc, key: str, cls, values: dict):
    # YAML 1.1 reads 1e-7 (no dot) as text: take it as the number the user wrote
    values = {k: _yaml11_number(v) for k, v in values.items()}
    try:
        return cls(**values)
    except ConfigError as exc:
        name = str(exc).split("=")[0].split(".")[-1]
        raise doc.error((key, name), values.get(name), str(exc)) from None


def _yaml11_number(value):
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value
