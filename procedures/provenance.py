"""Where a run came from: git revision, instrument IDNs, chip temperature, run-folder metadata."""

from __future__ import annotations

import json
from pathlib import Path

from labctl.provenance import git_revision

__all__ = ["git_revision", "instrument_idns", "write_run_json"]


def instrument_idns(backend) -> str:
    """The instruments' ``*IDN?`` answers as one header line ("none" for the simulated chip)."""
    return backend.describe().idns_text


def write_run_json(path: Path, record: dict) -> Path:
    """Write the run's metadata (parameters, status, summary) as JSON next to its CSV."""
    path.write_text(json.dumps(record, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(value)
