"""Training checkpoints: one npz per run directory, rewritten atomically after every epoch.

It holds everything a run's future depends on: digital parameters, the weights as last read, the
mixed-precision accumulators, the shuffling RNG, the metrics so far and each simulated backend's
dynamic state (the simulated chip, or the whole simulated bench behind ``sim-instruments``:
:attr:`ArrayBackend.simulation`). A bench chip keeps its own state: a resumed bench run
re-reads its weights and continues from the chip as it is (the interrupted epoch's updates included).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labctl.atomic import replacing
from labctl.errors import ConfigError, field_error

from .analog import AnalogLayer

CHECKPOINT_NAME = "checkpoint.npz"


def save_checkpoint(directory: Path, config: dict, epoch: int, rows: list[dict], layers: list,
                    accumulators: list, rng: np.random.Generator, extra: dict) -> Path:
    """Write ``directory/checkpoint.npz`` (via a temporary file, so a crash leaves the previous one)."""
    arrays: dict[str, np.ndarray] = {
        "config": np.array(json.dumps(config, sort_keys=True)),
        "epoch": np.array(epoch),
        "rows": np.array(json.dumps(rows)),
        "rng": np.array(json.dumps(rng.bit_generator.state)),
        "extra": np.array(json.dumps(extra)),
    }
    for k, layer in enumerate(layers):
        arrays[f"l{k}.bias"] = layer.bias
        arrays[f"l{k}.w"] = layer.w
        if isinstance(layer, AnalogLayer):
            arrays[f"l{k}.g_reference"] = layer._g_reference
            state = layer.backend.simulation
            if state is not None:
                arrays.update({f"l{k}.backend.{key}": v for key, v in state.snapshot().items()})
            arrays.update({f"l{k}.digital.{key}": v for key, v in layer.digital_state().items()})
        if accumulators[k] is not None:
            arrays[f"l{k}.acc"] = accumulators[k]
    path = directory / CHECKPOINT_NAME
    with replacing(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)
    return path


def load_checkpoint(directory: Path, config: dict, layers: list, accumulators: list,
                    rng: np.random.Generator) -> tuple[int, list[dict], dict] | None:
    """Restore a run from ``directory``; returns (epochs done, metric rows, extra) or None if there is none.

    Raises ``ConfigError`` if the checkpoint belongs to a different run configuration.
    """
    path = directory / CHECKPOINT_NAME
    if not path.is_file():
        return None
    with np.load(path) as f:
        data = {key: f[key] for key in f.files}
    saved = json.loads(str(data["config"]))
    for key in sorted(set(saved) | set(config)):
        if key != "epochs" and saved.get(key) != config.get(key):
            raise field_error(ConfigError, f"resume.{key}", config.get(key),
                              f"the checkpoint in {directory} was made with {saved.get(key)!r}")
    rng.bit_generator.state = json.loads(str(data["rng"]))
    for k, layer in enumerate(layers):
        layer.bias[...] = data[f"l{k}.bias"]
        layer.w[...] = data[f"l{k}.w"]
        if isinstance(layer, AnalogLayer):
            layer._g_reference = data[f"l{k}.g_reference"]
            snap, digital = (_prefixed(data, f"l{k}.{part}.") for part in ("backend", "digital"))
            state = layer.backend.simulation
            if snap and state is not None:
                state.restore(snap)
                if digital:
                    layer.restore_digital(digital)
            elif state is None:  # a real chip kept its state, the interrupted epoch's updates included
                layer.refresh()
        if accumulators[k] is not None:
            accumulators[k][...] = data[f"l{k}.acc"]
    return int(data["epoch"]), json.loads(str(data["rows"])), json.loads(str(data["extra"]))


def _prefixed(data: dict, prefix: str) -> dict:
    """The entries of ``data`` under ``prefix``, keyed without it."""
    return {key[len(prefix):]: v for key, v in data.items() if key.startswith(prefix)}
