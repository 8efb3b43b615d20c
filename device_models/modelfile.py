"""Model files: versioned JSON <-> ``ChipModel``, and the shipped presets.

A model file is ``{"schema_version": 1, "name": ..., "weight": {...}, "sparsity": {...} | null,
"operating_point": {...}, "sparsity_point": {...} | null, "description": ..., "provenance": {...}}``
with the fields of the dataclasses in :mod:`device_models.params`. Every problem is a ``ModelError``
naming the JSON path of the bad field.

Presets are JSON files in ``device_models/presets/``. A family file (``garg-hzo.json``) holds one
material and a table of operating points; ``garg-hzo-20ns`` is that material at the 20 ns point.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from pathlib import Path

from .errors import ModelError, field_error
from .params import ChipModel, OperatingPoint

SCHEMA_VERSION = 1
PRESET_DIR = Path(__file__).with_name("presets")


def model_to_dict(model: ChipModel) -> dict:
    """The JSON-ready dict of a model, with its schema version."""
    return {"schema_version": SCHEMA_VERSION, **dataclasses.asdict(model)}


def model_from_dict(data: dict, source: str = "model") -> ChipModel:
    """Build a model from a parsed model file, checking every field."""
    if not isinstance(data, dict):
        raise field_error(ModelError, source, type(data).__name__, "a model file holds a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise field_error(ModelError, f"{source}.schema_version", version, f"this labctl reads version {SCHEMA_VERSION}")
    body = {k: v for k, v in data.items() if k != "schema_version"}
    return _build(ChipModel, body, source)


def save_model(model: ChipModel, path: str | Path) -> Path:
    """Write ``model`` as JSON to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model_to_dict(model), indent=2) + "\n")
    return path


def load_model(spec: str | Path | ChipModel) -> ChipModel:
    """A model from a preset name, a model-file path, or a model (returned as is)."""
    if isinstance(spec, ChipModel):
        return spec
    path = Path(spec)
    if path.suffix == ".json" or path.exists():
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise field_error(ModelError, "model", str(spec), "no such model file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise field_error(ModelError, "model", str(spec), f"not valid JSON ({exc})") from None
        return model_from_dict(data, source=path.name)
    return load_preset(str(spec))


def preset_names() -> list[str]:
    """Every preset name that :func:`load_preset` accepts."""
    names = []
    for file in sorted(PRESET_DIR.glob("*.json")):
        data = json.loads(file.read_text())
        points = data.get("operating_points")
        names += [f"{file.stem}-{p}" for p in points] if points else [file.stem]
    return names


def load_preset(name: str) -> ChipModel:
    """A shipped preset by name, e.g. ``ning-mos2-fefet`` or ``garg-hzo-20ns``."""
    file = PRESET_DIR / f"{name}.json"
    point = None
    if not file.exists() and "-" in name:
        family, point = name.rsplit("-", 1)
        file = PRESET_DIR / f"{family}.json"
    if not file.exists():
        raise field_error(ModelError, "preset", name, f"unknown; choose one of {', '.join(preset_names())}")
    data = json.loads(file.read_text())
    points = data.pop("operating_points", None)
    if points is not None:
        if point not in points:
            raise field_error(ModelError, "preset", name, f"unknown; choose one of {', '.join(preset_names())}")
        data["operating_point"] = points[point]
        data["name"] = name
    return model_from_dict(data, source=f"preset {name}")


_hints = functools.cache(typing.get_type_hints)
"""A dataclass's resolved field types, once per class (a model file is built from 19 of them at every load)."""


def _build(cls, data, path: str):
    """Recursively build dataclass ``cls`` from ``data``, naming ``path.field`` in every error."""
    if not isinstance(data, dict):
        raise field_error(ModelError, path, data, f"expected an object for {cls.__name__}")
    hints = _hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise field_error(ModelError, f"{path}.{sorted(unknown)[0]}", data[sorted(unknown)[0]], f"unknown field of {cls.__name__}")
    kwargs = {}
    for name, f in known.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise field_error(ModelError, f"{path}.{name}", None, "is required")
            continue
        kwargs[name] = _value(hints[name], data[name], f"{path}.{name}")
    try:
        return cls(**kwargs)
    except ModelError:
        raise
    except (TypeError, ValueError) as exc:
        raise field_error(ModelError, path, data, str(exc)) from None


def _value(hint, value, path: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise field_error(ModelError, path, value, "must be a number")
        return float(value)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise field_error(ModelError, path, value, "must be a list of numbers")
        return tuple(float(v) for v in value)
    if hint is str and not isinstance(value, str):
        raise field_error(ModelError, path, value, "must be a string")
    if hint is dict and not isinstance(value, dict):
        raise field_error(ModelError, path, value, "must be an object")
    return value


__all__ = ["SCHEMA_VERSION", "OperatingPoint", "load_model", "load_preset", "model_from_dict",
           "model_to_dict", "preset_names", "save_model"]
