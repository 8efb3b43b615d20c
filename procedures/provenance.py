"""Where a run came from: git revision, instrument IDNs, chip temperature, run-folder metadata."""

from __future__ import annotations

import json
from pathlib import Path

from labctl.provenance import git_revision

__all__ = ["git_revision", "instrument_idns", "rewrite_parameters", "write_run_json"]


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


def rewrite_parameters(csv_path: Path, procedure) -> None:
    """Rewrite the ``Parameters:`` lines of a Results CSV header with the procedure's values now (same
    lines, same order, as pymeasure formats them): a GUI run's header is written when it is queued, before
    the backend that names the chip and the model that fills the operating point are known."""
    from types import SimpleNamespace

    from pymeasure.experiment import Results

    header = Results.header(SimpleNamespace(procedure_class=type(procedure), parameters=procedure.parameter_objects()))
    fresh = [line for line in header.splitlines(keepends=True) if line.startswith(Results.COMMENT + "\t")]
    lines = csv_path.read_text(encoding=Results.ENCODING).splitlines(keepends=True)
    start = end = lines.index(f"{Results.COMMENT}Parameters:{Results.LINE_BREAK}") + 1
    while lines[end].startswith(Results.COMMENT + "\t"):
        end += 1
    if end - start != len(fresh):  # pymeasure's Results counts the header's lines: their number must not change
        raise ValueError(f"{csv_path}: {end - start} header parameters, the procedure has {len(fresh)}")
    lines[start:end] = fresh
    csv_path.write_text("".join(lines), encoding=Results.ENCODING)
