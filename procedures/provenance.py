"""Where a run came from: git revision, instrument IDNs, chip temperature, run-folder metadata."""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


@functools.cache
def git_revision() -> str:
    """``git describe``-style revision of the code running the procedure ("unknown" outside a checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(PACKAGE_DIR), "describe", "--always", "--dirty", "--abbrev=12"],
                             capture_output=True, text=True, timeout=5, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def instrument_idns(backend) -> str:
    """The backend's instrument identities ("none" for the simulated chip).

    Instrument backends expose ``instrument_idns`` (a mapping role -> ``*IDN?`` answer, or a list).
    """
    idns = getattr(backend, "instrument_idns", None)
    if callable(idns):
        idns = idns()
    if not idns:
        return "none"
    if isinstance(idns, dict):
        return "; ".join(f"{k}={v}" for k, v in idns.items())
    return "; ".join(map(str, idns))


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
