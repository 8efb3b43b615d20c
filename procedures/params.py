"""Procedure parameters as dataclasses whose fields carry label, unit and limits.

One declaration serves three readers: the plain ``run_x`` functions (typed attributes), the pymeasure
``Procedure`` wrappers (a Parameter is generated per field, see :mod:`procedures.wrapper`) and
``labctl run --list`` / ``--param name=value`` (labels, units, defaults, parsing). A numeric default of
0 on an amplitude or width means "take it from the model's operating point" (documented per field).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field, fields

import numpy as np

from labctl.errors import ConfigError, SafetyLimitError, field_error
from labctl.layout import CellLayout, Role
from labctl.specs import PulseSpec, ReadSpec, SafetyLimits


def param(default, label: str, units: str | None = None, minimum: float | None = None,
          maximum: float | None = None, choices: tuple | None = None):
    """A dataclass field with its GUI label, unit and allowed range (checked by :func:`validate`)."""
    meta = {"label": label, "units": units, "minimum": minimum, "maximum": maximum, "choices": choices}
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamInfo:
    """What ``--list`` and the GUI show about one parameter."""

    name: str
    """Python field name, as used by ``--param name=value``."""
    label: str
    """Human label (the pymeasure Parameter name, written in the CSV header)."""
    kind: type
    """float, int, bool or str."""
    default: object
    """Default value."""
    units: str | None
    """SI unit, or None."""
    minimum: float | None
    """Smallest allowed value, or None."""
    maximum: float | None
    """Largest allowed value, or None."""
    choices: tuple | None
    """Allowed values of a choice parameter, or None."""


_hints = functools.cache(typing.get_type_hints)
"""A params dataclass's resolved field types, once per class (described at every build and validation)."""


def describe(params_cls) -> list[ParamInfo]:
    """Every parameter of a params dataclass, in declaration order."""
    hints = _hints(params_cls)
    out = []
    for f in fields(params_cls):
        m = f.metadata
        out.append(ParamInfo(f.name, m.get("label", f.name), hints[f.name], f.default, m.get("units"),
                             m.get("minimum"), m.get("maximum"), m.get("choices")))
    return out


def convert(info: ParamInfo, value):
    """Cast a string or number to the parameter's type, raising ``ConfigError`` naming it."""
    try:
        if info.kind is bool:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if info.kind is int:
            as_float = float(value)
            if as_float != round(as_float):
                raise ValueError(value)
            return int(round(as_float))
        return info.kind(value)
    except (TypeError, ValueError):
        raise field_error(ConfigError, info.name, value, f"expected {info.kind.__name__}") from None


def build(params_cls, values: dict):
    """A params instance from ``values`` (strings or numbers), checked against labels' limits."""
    infos = {i.name: i for i in describe(params_cls)}
    unknown = set(values) - set(infos)
    if unknown:
        name = sorted(unknown)[0]
        raise field_error(ConfigError, name, values[name], f"unknown parameter; choose from {', '.join(infos)}")
    converted = {k: convert(infos[k], v) for k, v in values.items()}
    instance = params_cls(**converted)
    validate(instance)
    return instance


def validate(params) -> None:
    """Raise ``ConfigError`` naming the first field outside its range or choices."""
    for info in describe(type(params)):
        value = getattr(params, info.name)
        if info.kind in (int, float):
            if not math.isfinite(value):
                raise field_error(ConfigError, info.name, value, "must be finite")
            if info.minimum is not None and value < info.minimum:
                raise field_error(ConfigError, info.name, value, f"below the minimum {info.minimum!r} {info.units or ''}")
            if info.maximum is not None and value > info.maximum:
                raise field_error(ConfigError, info.name, value, f"above the maximum {info.maximum!r} {info.units or ''}")
        if info.choices is not None and value not in info.choices:
            raise field_error(ConfigError, info.name, value, f"choose one of {', '.join(map(str, info.choices))}")
    for low, high in ordered_pairs(type(params)):
        if getattr(params, low) > getattr(params, high):
            raise field_error(ConfigError, low, getattr(params, low), f"above {high}={getattr(params, high)!r}")


def ordered_pairs(params_cls) -> list[tuple[str, str]]:
    """Fields that bound a range, (``x_min``, ``x_max``) or (``min_x``, ``max_x``): the first may not exceed the second."""
    names = {i.name for i in describe(params_cls)}
    pairs = [(n, n[:-4] + "_max") for n in names if n.endswith("_min")]
    pairs += [(n, "max_" + n[4:]) for n in names if n.startswith("min_")]
    return sorted((low, high) for low, high in pairs if high in names)


def to_dict(params) -> dict:
    """Field name -> value."""
    return dataclasses.asdict(params)


def checked_pulse(limits: SafetyLimits, name: str, amplitude_v: float, width_s: float) -> PulseSpec:
    """A pulse the backend's limits allow; otherwise ``SafetyLimitError`` naming the parameter ``name``.

    Procedures call this for every pulse they will send before they send the first one (a dry run).
    """
    amplitude_v, width_s = float(amplitude_v), float(width_s)
    with _as_parameter(name, f"{amplitude_v!r} V, {width_s!r} s"):
        return PulseSpec(amplitude_v, width_s, limits=limits)  # validated against ``limits`` on construction


def checked_read(limits: SafetyLimits, name: str, voltage_v: float, bipolar: bool = True) -> ReadSpec:
    """A read the backend's limits allow; otherwise ``SafetyLimitError`` naming the parameter."""
    voltage_v = float(voltage_v)
    with _as_parameter(name, f"{voltage_v!r} V"):
        return ReadSpec(voltage_v, bipolar, limits=limits)


@contextmanager
def _as_parameter(name: str, shown: str):
    """Re-raise a spec's refusal as one naming the procedure parameter it came from."""
    try:
        yield
    except SafetyLimitError as exc:
        raise SafetyLimitError(f"parameter {name}={shown} refused: {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"parameter {name}={shown} invalid: {exc}") from None


def device_set(layout: CellLayout, spec: str, n_default: int, role: Role = Role.WEIGHT) -> np.ndarray:
    """Device mask from ``spec``: "" (``n_default`` ``role`` devices spread over the array),
    "all" (every ``role`` device) or "r:c,r:c,..." (explicit devices)."""
    mask = np.zeros(layout.shape, dtype=bool)
    candidates = np.argwhere(layout.role_mask(role))
    spec = spec.strip()
    if spec == "all":
        return layout.role_mask(role)
    if not spec:
        pick = np.linspace(0, len(candidates) - 1, min(n_default, len(candidates))).round().astype(int)
        mask[tuple(candidates[pick].T)] = True
        return mask
    for item in spec.split(","):
        try:
            r, c = (int(x) for x in item.split(":"))
        except ValueError:
            raise field_error(ConfigError, "devices", spec, 'expected "", "all" or "row:col,row:col,..."') from None
        if not (0 <= r < layout.shape[0] and 0 <= c < layout.shape[1]):
            raise field_error(ConfigError, "devices", item, f"outside the {layout.shape} array")
        mask[r, c] = True
    return mask


def device_ids(mask: np.ndarray) -> str:
    """The devices of a mask as "r:c,r:c" (the header's device id)."""
    return ",".join(f"{r}:{c}" for r, c in np.argwhere(mask))


def branch_ramp(op, potentiate: bool) -> tuple[float, float]:
    """(first, last) amplitude magnitude in V of a branch's train by default: the model's measured ramp (a
    fitted model's operating point keeps one per branch), else 0.95 to 1.05 x the branch's amplitude."""
    measured = op.ltp_ramp_v if potentiate else op.ltd_ramp_v
    amp = op.amplitude_v(potentiate)
    return (float(measured[0]), float(measured[-1])) if measured else (0.95 * amp, 1.05 * amp)


OPERATING_POINT_DEFAULTS = {
    "width_s": lambda op, p: op.write_width_s,
    "amplitude_v": lambda op, p: op.write_amplitude_v,
    "start_amplitude_v": lambda op, p: branch_ramp(op, True)[0],
    "stop_amplitude_v": lambda op, p: branch_ramp(op, True)[1],
    # the LTD train: the LTP train's amplitudes where they were given, else the model's LTD branch
    "ltd_start_amplitude_v": lambda op, p: p.start_amplitude_v or branch_ramp(op, False)[0],
    "ltd_stop_amplitude_v": lambda op, p: p.stop_amplitude_v or branch_ramp(op, False)[1],
}
"""Pulse parameters whose 0 means "from the model's operating point", and the value it stands for (given
the operating point and the parameters as set)."""


def applied(params, model):
    """``params`` with every pulse parameter left at 0 replaced by the value the procedure applies, so
    the plans and the CSV header (what was sent, not ``Pulse width: 0 s``) read the same numbers."""
    op = model.operating_point
    filled = {name: default(op, params) for name, default in OPERATING_POINT_DEFAULTS.items()
              if getattr(params, name, None) == 0}
    return dataclasses.replace(params, **filled) if filled else params


def write_plan(backend, params, model) -> dict:
    """Write pulses (``up``, ``down``), the ``read``, and the sparsity pulses (``s_on``, ``s_off``) when the
    layout has sparsity devices, each checked against the limits; nothing is sent.

    ``params`` needs ``amplitude_v`` and ``width_s`` (0 = the model's operating point) and ``read_v``.
    """
    params = applied(params, model)
    amp, width = params.amplitude_v, params.width_s
    out = {"up": checked_pulse(backend.limits, "amplitude_v", amp, width),
           "down": checked_pulse(backend.limits, "amplitude_v", -amp, width),
           "read": checked_read(backend.limits, "read_v", params.read_v)}
    if backend.layout.partner is Role.SPARSITY and model.sparsity_point is not None:
        sp = model.sparsity_point
        out["s_on"] = checked_pulse(backend.limits, "sparsity pulse", sp.write_amplitude_v, sp.write_width_s)
        out["s_off"] = checked_pulse(backend.limits, "sparsity pulse", -sp.write_amplitude_v, sp.write_width_s)
    return out

