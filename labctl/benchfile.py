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
    limits: {max_write_v: 6.0}                      # SafetyLimits fields: chip policy, and instrument
                                                    # ranges (spgu_*, smu_*, adc_*, wgfmu_*) narrowed only
    timings: {round_trip_s: 0.02, relay_settle_s: 0.005}

Timings the data sheets do not publish (relay actuation) are configurable assumptions here, never
hidden constants. Errors name the file line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError
from .probecard import ProbeCardMap, load_probecard
from .specs import SafetyLimits
from .yamlfile import load_located

SMU_MODELS = frozenset({"B1510A", "B1511A", "B1511B", "B1514A", "B1517A"})
"""B1500 module models that are SMUs."""
SPGU_MODELS = frozenset({"B1525A"})
"""B1500 module models that are SPGUs."""


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
    for key in ("b1500", "switches", "probe_card"):
        if key not in data:
            raise doc.error((key,), None, "missing")
    b1500 = data["b1500"]
    if not isinstance(b1500, dict) or not isinstance(b1500.get("resource"), str):
        raise doc.error(("b1500", "resource"), (b1500 or {}).get("resource") if isinstance(b1500, dict) else b1500,
                        "must be a VISA resource string")
    modules = b1500.get("modules")
    if not isinstance(modules, dict) or not modules:
        raise doc.error(("b1500", "modules"), modules, "must map slot -> model")
    for slot, model in modules.items():
        if not isinstance(slot, int) or not 1 <= slot <= 10 or model not in SMU_MODELS | SPGU_MODELS:
            raise doc.error(("b1500", "modules", str(slot)), model,
                            f"slot must be 1-10 and model one of {sorted(SMU_MODELS | SPGU_MODELS)}")
    switches = data["switches"]
    if not isinstance(switches, dict) or not switches:
        raise doc.error(("switches",), switches, "must map mainframe name -> {resource}")
    resources = {}
    for name, spec in switches.items():
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
    limits = _section(doc, "limits", SafetyLimits)
    try:
        limits.check_narrows()
    except ConfigError as exc:
        name = str(exc).split("=")[0].split(".")[-1]
        raise doc.error(("limits", name), getattr(limits, name), str(exc)) from None
    timings = _section(doc, "timings", BenchTimings)
    reset = b1500.get("reset_on_connect", False)
    if not isinstance(reset, bool):
        raise doc.error(("b1500", "reset_on_connect"), reset, "must be true or false")
    direct = data.get("direct_path", False)
    if not isinstance(direct, bool):
        raise doc.error(("direct_path",), direct, "must be true or false")
    return BenchConfig(b1500["resource"], dict(modules), resources, probecard, limits, timings, direct, reset,
                       doc.path)


def _section(doc, key: str, cls):
    values = doc.data.get(key) or {}
    if not isinstance(values, dict):
        raise doc.error((key,), values, "must be a mapping")
    known = {f.name for f in fields(cls)}
    for name in values:
        if name not in known:
            raise doc.error((key, name), values[name], f"unknown field; known: {sorted(known)}")
    try:
        return cls(**values)
    except ConfigError as exc:
        name = str(exc).split("=")[0].split(".")[-1]
        raise doc.error((key, name), values.get(name), str(exc)) from None
