"""``labctl fit --runs QUERY``: the data files of the cataloged runs a query selects.

A model has one operating point, so runs measured with different pulses (width, or amplitude range)
are pooled only when asked (``--pool``); either way the fit says what it pooled.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .query import parse_query, select_runs
from .store import Catalog


def files_of_query(text: str, catalog: Catalog | None = None, pool: bool = False) -> tuple[list[Path], str]:
    """CSV files of the complete procedure runs matching ``text``, oldest first, and what they pool.

    Only complete runs count unless the query names a status; a query matching nothing is refused
    (a fit of zero files would fail later with a less useful message), and so are runs of different
    pulses unless ``pool``. The text is ``"pooled N run(s): K at <width>, <amplitudes>; ..."``.
    """
    from labctl.errors import ConfigError, field_error

    filters = {"kind": "procedure", "status": "complete", **parse_query(text)}
    rows = select_runs(catalog or Catalog(), filters)
    paths = [Path(r["folder"]) / r["primary_file"] for r in reversed(rows)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise field_error(ConfigError, "--runs", text, f"run file gone: {missing[0]} (`labctl runs reindex` drops "
                          "the rows of deleted runs)")
    if not paths:
        raise field_error(ConfigError, "--runs", text, "no complete procedure run matches")
    groups = Counter(applied_pulses(p) for p in paths)
    described = "; ".join(f"{n} at {pulses}" for pulses, n in groups.items())
    if len(groups) > 1 and not pool:
        raise field_error(ConfigError, "--runs", text, f"runs of different pulses ({described}): narrow the query "
                          "(e.g. width=2e-6) or pass --pool to fit them as one device")
    return paths, f"pooled {len(paths)} run(s): {described}"


def applied_pulses(csv: Path) -> str:
    """The pulses a procedure CSV records as applied: ``"2 us, 3.41 V..3.77 V"`` (widths, amplitude magnitudes)."""
    import pandas as pd

    from labctl.errors import DataError, field_error
    from labctl.units import si

    try:
        data = pd.read_csv(csv, comment="#", usecols=["Amplitude (V)", "Width (s)"])
    except ValueError:
        raise field_error(DataError, "--runs", str(csv), "not a pulse-train run (no Amplitude (V) and Width (s) "
                          "columns)") from None
    widths = "/".join(si(w, "s") for w in sorted({float(f"{w:.3g}") for w in data["Width (s)"]}))
    amplitude = data["Amplitude (V)"].abs()
    low, high = si(amplitude.min(), "V"), si(amplitude.max(), "V")
    return f"{widths}, {low if low == high else f'{low}..{high}'}"
