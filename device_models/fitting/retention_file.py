"""Read a retention log (conductance, resistance or read current vs time after programming) for a fit.

The file is read as the pulse importer reads any table (:mod:`device_models.tablefile`: header or
none, ``--columns``, ``--rows``, names or 0-based numbers) and its readings become conductances by
the same rules, dropping and counting non-physical rows (NaN, R <= 0, |I| > 1 A, G > 1 S: the
placeholders of a preallocated array such as R = 2e-30 ohm or I = -5e28 A never reach the fit). The
time unit comes from the time column's name (``Time (min)``, ``t_h``, ``elapsed [ms]``), else seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..importers import _conductance
from ..tablefile import load_columns

_GUESS = {
    "time": (r"^elapsed", r"^(time|t)(_|\s|\(|\[|$)", r"time"),
    "conductance": (r"^conductance", r"^g(_|\s|\(|$)"),
    "resistance": (r"^resistance", r"^r(_|\s|\(|$)"),
    "level": (r"^level$",),
}
_TIME_UNITS = {"ms": 1e-3, "us": 1e-6, "s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hr": 3600.0,
               "hour": 3600.0, "hours": 3600.0, "d": 86400.0, "day": 86400.0, "days": 86400.0}


@dataclass
class RetentionData:
    """One retention log: readings in SI units and what the import decided."""

    time_s: np.ndarray
    """Time after programming of each kept row in s."""
    conductance_s: np.ndarray
    """Conductance of each kept row in S."""
    path: Path
    sha256: str
    dropped: dict = field(default_factory=dict)
    """Rows left out, by reason (never fitted)."""
    decisions: list = field(default_factory=list)
    """Columns used and where each unit came from, one line each."""


def load_retention(path: str | Path, time_col: str | None = None, conductance_col: str | None = None,
                   resistance_col: str | None = None, current_col: str | None = None,
                   read_voltage: float | None = None, read_voltage_col: str | None = None,
                   columns: str | list | None = None, rows: str | None = None) -> RetentionData:
    """Import a retention log; every ``*_col`` takes a column name or a 0-based number (comma-separated
    to average several readings)."""
    cols, table, sha256, dropped = load_columns(Path(path), _GUESS, columns, rows)
    decisions = [f"columns: {table.header_from}: " + ", ".join(f"{i}={n!r}" for i, n in enumerate(table.names))]
    level = cols.pick("level", None, required=False)
    if level and not rows and len(set(cols.text(level[0]))) > 1:
        values = sorted(set(cols.text(level[0])))
        raise DataError(f"{cols.path}: column {level[0]!r} holds {len(values)} programmed levels "
                        f"({', '.join(values[:6])}); fit one at a time, e.g. --rows \"`{level[0]}` == {values[-1]}\"")
    time_name = cols.pick("time", time_col)[0]
    factor, unit = _time_unit(time_name)
    t = cols.numeric(time_name) * factor
    decisions.append(f"time: column {time_name!r} in {unit}")
    g, reasons, source, vread = _conductance(cols, conductance_col, resistance_col, current_col, read_voltage,
                                             read_voltage_col, table.metadata)
    decisions.append(f"conductance: {source}" + (f" ({vread[0]:g} V from {vread[1]})" if current_col and vread else ""))
    for reason, count in reasons.items():
        dropped[reason] = dropped.get(reason, 0) + count
    decisions.append("rows dropped: " + (", ".join(f"{v} {k}" for k, v in dropped.items()) if dropped else "none"))
    keep = np.isfinite(g)
    return RetentionData(t[keep], g[keep], Path(path), sha256, dropped, decisions)


def _time_unit(name: str) -> tuple[float, str]:
    """(factor to s, unit) from a time column's name; seconds when the name carries no unit."""
    m = re.search(r"[\(\[_ ]\s*([a-z]+)\s*[\)\]]?\s*$", name.strip().lower())
    if m and m.group(1) in _TIME_UNITS:
        return _TIME_UNITS[m.group(1)], m.group(1)
    return 1.0, "s (the column name gives no unit)"
