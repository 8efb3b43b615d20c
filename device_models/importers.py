"""Import pulse-train measurements (LTP/LTD) into one canonical table, from our procedures or other labs.

Accepted files: our procedure CSVs (pymeasure ``#Parameters:`` / ``#Data:`` header, columns
``Device row, Device col, Phase, Pulse, Amplitude (V), Width (s), Conductance (S), Time (s)``) and
generic CSV/TSV tables as :mod:`device_models.tablefile` reads them (header row, ``# `` header, or
none; ``key: value`` header lines); columns are found by name or mapped by option (a name or a
0-based number). Resistance columns become conductance (several, e.g. a bipolar read
``R_neg_ohm,R_pos_ohm``, are averaged as conductances); current columns divided by the read voltage
(an option, a per-row column, or the header) do too. Non-physical rows are dropped and counted.

The canonical table has one row per reading after a write pulse: ``device``, ``segment`` (one train
of one phase on one device), ``phase`` ("LTP" raises G, "LTD" lowers it), ``pulse`` (index in the
segment, from 0), ``amplitude_v`` (signed, NaN if unknown), ``width_s`` (NaN if unknown),
``conductance_s``, ``line`` (file line). A new segment starts where the phase or device changes
or the pulse-number column restarts. Every problem is a ``DataError`` naming the column and the file line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .tablefile import Columns, load_columns, metadata_quantity

PROCEDURE_COLUMNS = ("Device row", "Device col", "Phase", "Pulse", "Amplitude (V)", "Width (s)",
                     "Conductance (S)", "Time (s)")
"""Columns of the pulse-train procedure's CSV (pymeasure Results format)."""
MIN_PULSES = 3
"""Fewest readings a segment needs to contribute a step."""
POLARITIES = ("auto", "positive", "negative")
"""``polarity`` option: which amplitude sign raises G ("auto" detects it from the data)."""
BRANCHES = ("both", "ltp", "ltd")
"""``branch`` option: fit both phases, or one (the other comes from the base model)."""
MAX_CURRENT_A = 1.0
"""Largest read current magnitude in A taken as a reading (beyond: a placeholder or an overflow)."""
MAX_CONDUCTANCE_S = 1.0
"""Largest conductance in S taken as a reading (R < 1 ohm: a short or a placeholder such as 2e-30 ohm)."""
_LTP_KEYS = (r"(^|\W)set.*(volt|amp|\(v\))", r"ltp.*(volt|amp)", r"potentiat.*(volt|amp)", r"^v_?set")
_LTD_KEYS = (r"reset.*(volt|amp|\(v\))", r"ltd.*(volt|amp)", r"depress.*(volt|amp)", r"^v_?reset")
_WRITE_KEYS = (r"(write|pulse|program).*(volt|amp)", r"^amplitude", r"^v_?(write|pulse)")
_WIDTH_KEYS = (r"width", r"^t_?(pulse|write)", r"pulse.?(time|duration|length)")

_GUESS = {
    "pulse": (r"^pulse(?!.*(width|amp|volt|\(v\)|\(s\)))", r"pulse.?(no|num|index|#)", r"^n$"),
    "amplitude": (r"^amplitude", r"write.?v", r"^v.?(write|pulse|set|prog)", r"pulse.?(amp|v)"),
    "width": (r"^width", r"pulse.?width", r"^t.?(pulse|write)"),
    "conductance": (r"^conductance", r"^g(_|\s|\(|$)", r"^g.?s$"),
    "resistance": (r"^resistance", r"^r(_|\s|\(|$)"),
    "phase": (r"^phase$",),
}


@dataclass
class Measurement:
    """One imported file: the canonical pulse table and what the file says about itself."""

    table: pd.DataFrame
    """Canonical columns (see module docstring), in file order."""
    path: Path
    """The file it came from."""
    sha256: str
    """Hex digest of the file's bytes (provenance)."""
    metadata: dict = field(default_factory=dict)
    """``key: value`` header lines and ``#`` parameters, as strings."""
    polarity: str = "positive"
    """Which amplitude sign raises G ("positive" or "negative"), detected or given."""
    read_voltage_v: float | None = None
    """Read voltage in V (the median magnitude of a per-row column), if known."""
    dropped: dict = field(default_factory=dict)
    """Rows left out, by reason (never fitted): not matching ``--rows``, non-physical, truncated."""
    decisions: list = field(default_factory=list)
    """What the import decided and where each value came from (column, header, option), one line each."""


def load_measurement(path: str | Path, pulse_col: str | None = None, amplitude_col: str | None = None,
                     conductance_col: str | None = None, resistance_col: str | None = None,
                     current_col: str | None = None, width_col: str | None = None,
                     read_voltage: float | None = None, polarity: str = "auto",
                     width_s: float | None = None, columns: str | list | None = None, rows: str | None = None,
                     read_voltage_col: str | None = None, branch: str = "both") -> Measurement:
    """Import one measurement file; every ``*_col`` option takes a column name or a 0-based number
    (comma-separated to average several).

    ``columns`` names the columns of a header-less file; ``rows`` keeps the rows where a pandas
    query is true (backticks around names with spaces). ``polarity`` says which amplitude sign
    raises G ("positive", "negative" or "auto" to detect it); ``width_s`` gives the pulse width when
    the file has no width column; ``branch`` "ltp" or "ltd" reads a one-sided file as that phase.
    """
    path = Path(path)
    if polarity not in POLARITIES:
        raise DataError(f"polarity={polarity!r}: choose one of {', '.join(POLARITIES)}")
    if branch not in BRANCHES:
        raise DataError(f"branch={branch!r}: choose one of {', '.join(BRANCHES)}")
    cols, table_file, sha256, dropped = load_columns(path, _GUESS, columns, rows)
    decisions = [f"columns: {table_file.header_from}: " + ", ".join(f"{i}={n!r}" for i, n in enumerate(table_file.names))]
    n = len(cols.rows)

    cond, reasons, source, vread = _conductance(cols, conductance_col, resistance_col, current_col, read_voltage,
                                                read_voltage_col, table_file.metadata)
    decisions.append(f"conductance: {source}")
    for reason, count in reasons.items():
        dropped[reason] = dropped.get(reason, 0) + count
    keep = np.isfinite(cond)
    if not keep.any():
        raise DataError(f"{path}: no row has a physical reading ({'; '.join(f'{k}: {v}' for k, v in reasons.items())})")
    amplitude, amp_note, header_amps = _amplitudes(cols, amplitude_col, table_file.metadata)
    width, width_note = _widths(cols, width_col, width_s, table_file.metadata)
    device = _device_ids(cols)
    pulse_names = cols.pick("pulse", pulse_col, required=False)
    pulse = cols.numeric(pulse_names[0]) if pulse_names else np.arange(n, dtype=float)
    decisions.append(f"pulse number: {f'column {pulse_names[0]!r}' if pulse_names else 'row order'}"
                     " (a restart starts a new train)")
    phase_names = cols.pick("phase", None, required=False)
    phase_text = np.array([v.upper() for v in cols.text(phase_names[0])]) if phase_names else None

    table = pd.DataFrame({"device": device, "amplitude_v": amplitude, "width_s": width,
                          "conductance_s": cond, "number": pulse, "line": cols.lines})[keep]
    # readings of many devices may interleave (all devices read after each pulse): one device at a time
    order = np.argsort(pd.factorize(table.device)[0], kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    if phase_text is not None:
        phase_text = phase_text[keep][order]
        bad = ~np.isin(phase_text, ("LTP", "LTD"))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{path}: column {phase_names[0]!r}, line {table.line[i]}: "
                            f"{phase_text[i]!r} is neither LTP nor LTD")
    _check_spread(table, path)
    sign, pol_note = _polarity(table, polarity, phase_text)
    table["phase"], phase_note = _phases(table, sign, phase_text, branch)
    if header_amps:  # amplitudes from the header: per phase, signed by the polarity
        ltp_v, ltd_v = header_amps
        table["amplitude_v"] = np.where(table.phase == "LTP", sign * ltp_v, -sign * ltd_v)
    table = _segments(table, path)
    decisions += [f"amplitude: {amp_note}", f"width: {width_note}", f"polarity: {pol_note}", f"phases: {phase_note}"]
    if vread:
        decisions.append(f"read voltage: {vread[0]:g} V from {vread[1]}")
    decisions.append("rows dropped: " + (", ".join(f"{v} {k}" for k, v in dropped.items()) if dropped else "none"))
    return Measurement(table, path, sha256, table_file.metadata,
                       "positive" if sign > 0 else "negative", vread[0] if vread else None, dropped, decisions)


def _conductance(cols: Columns, conductance_col, resistance_col, current_col, read_voltage, read_voltage_col,
                 metadata):
    """(conductance in S per row with NaN for dropped rows, drop counts by reason, source, (read V, source)).

    Non-physical rows are dropped, never fitted: no reading (empty/NaN), R <= 0, |I| > 1 A, and any
    conductance above ``MAX_CONDUCTANCE_S`` (placeholders of a preallocated array such as R = 2e-30 ohm).
    """
    reasons: dict[str, int] = {}
    if read_voltage:
        vread = (float(read_voltage), "--read-voltage")
    elif read_voltage_col is not None:
        name = cols.resolve(str(read_voltage_col), "read-voltage")[0]
        per_row = cols.numeric(name)
        vread = (float(np.nanmedian(np.abs(per_row))), f"column {name!r} (per row)")
    else:
        found = metadata_quantity(metadata, (r"read.?(volt|v\b|bias)", r"^v.?read", r"^vread"), "V")
        vread = (abs(found[0]), f"header {found[1]!r}") if found else None
    if current_col is not None and str(current_col) != "":
        names = cols.pick("current", current_col)
        if vread is None:
            raise DataError(f"{cols.path}: --current-col needs the read voltage: --read-voltage V, "
                            "--read-voltage-col COL or a 'Read voltage' header line")
        v = per_row if read_voltage_col is not None and not read_voltage else vread[0]
        currents = np.vstack([cols.numeric(nm) for nm in names])
        huge = (np.abs(currents) > MAX_CURRENT_A).any(axis=0)
        with np.errstate(all="ignore"):
            g = np.abs(np.nanmean(currents, axis=0) / v)
        bad = huge
        _count(reasons, "non-physical |I| > 1 A", huge)
        source = f"current {', '.join(map(repr, names))}{' averaged' if len(names) > 1 else ''} / read voltage"
    elif resistance_col is not None or not (conductance_col is not None or cols.pick("conductance", None, False)):
        names = cols.pick("resistance", resistance_col, required=False)
        if not names:
            raise DataError(f"{cols.path}: no conductance or resistance column found among "
                            f"{', '.join(map(repr, cols.header))}; name one with --conductance-col, "
                            "--resistance-col or --current-col")
        r = np.vstack([cols.numeric(nm) for nm in names])
        bad = (r <= 0).any(axis=0)
        with np.errstate(all="ignore"):
            g = np.nanmean(1.0 / np.abs(r), axis=0)
        _count(reasons, "non-physical R <= 0", bad)
        source = f"1 / resistance {', '.join(map(repr, names))}{' averaged' if len(names) > 1 else ''}"
    else:
        names = cols.pick("conductance", conductance_col)
        gs = np.vstack([cols.numeric(nm) for nm in names])
        bad = (gs <= 0).any(axis=0)
        with np.errstate(all="ignore"):
            g = np.nanmean(gs, axis=0)
        _count(reasons, "non-physical G <= 0", bad)
        source = f"conductance {', '.join(map(repr, names))}{' averaged' if len(names) > 1 else ''}"
    huge = ~bad & np.isfinite(g) & (g > MAX_CONDUCTANCE_S)
    _count(reasons, f"non-physical G > {MAX_CONDUCTANCE_S:g} S (R < 1 ohm)", huge)
    _count(reasons, "no reading (empty or NaN)", ~bad & ~np.isfinite(g))
    g[bad | huge] = np.nan
    return g, {k: v for k, v in reasons.items() if v}, source, vread


def _count(reasons: dict, reason: str, mask) -> None:
    reasons[reason] = reasons.get(reason, 0) + int(np.sum(mask))


def _amplitudes(cols: Columns, amplitude_col, metadata):
    """(signed amplitude per row or NaN, where it came from, (LTP V, LTD V) from the header or None)."""
    names = cols.pick("amplitude", amplitude_col, required=False)
    n = len(cols.rows)
    if names:
        return cols.numeric(names[0]), f"column {names[0]!r} (signed, per row)", None
    ltp = metadata_quantity(metadata, _LTP_KEYS, "V")
    ltd = metadata_quantity(metadata, _LTD_KEYS, "V")
    both = metadata_quantity(metadata, _WRITE_KEYS, "V")
    ltp, ltd = ltp or both, ltd or both
    if ltp and ltd:
        return (np.full(n, np.nan), f"header: LTP {abs(ltp[0]):g} V ({ltp[1]!r}), LTD {abs(ltd[0]):g} V ({ltd[1]!r})",
                (abs(ltp[0]), abs(ltd[0])))
    return np.full(n, np.nan), "unknown (no column or header): the base model's", None


def _widths(cols: Columns, width_col, width_s, metadata):
    """(width per row in s or NaN, where it came from)."""
    names = cols.pick("width", width_col, required=False)
    n = len(cols.rows)
    if names:
        return cols.numeric(names[0]), f"column {names[0]!r}"
    if width_s is not None:
        return np.full(n, float(width_s)), f"{width_s:g} s from --width-s"
    found = metadata_quantity(metadata, _WIDTH_KEYS, "s")
    if found:
        return np.full(n, found[0]), f"{found[0]:g} s from header {found[1]!r}"
    return np.full(n, np.nan), "unknown (no column, option or header): the base model's"


def _device_ids(cols: Columns) -> np.ndarray:
    """A device label per row: ``row,col`` from our procedure's columns, a device column, or one device."""
    if "Device row" in cols.header and "Device col" in cols.header:
        r, c = cols.numeric("Device row"), cols.numeric("Device col")
        return np.array([f"{int(a)},{int(b)}" for a, b in zip(r, c)])
    found = [h for h in cols.header if h.strip().lower() in ("device", "device id", "device_id", "dut")]
    if found:
        k = cols.index(found[0])
        return np.array([row[k].strip() for row in cols.rows])
    return np.array(["0"] * len(cols.rows))


def _check_spread(table: pd.DataFrame, path: Path) -> None:
    g = table.conductance_s.to_numpy()
    if len(g) < 2:
        raise DataError(f"{path}: only {len(g)} reading: a step fit needs at least {MIN_PULSES} pulses per train")
    if np.ptp(g) <= 1e-9 * np.max(np.abs(g)):
        raise DataError(f"{path}: the conductance is constant ({g[0]:.4g} S in every row): nothing to fit")


def _polarity(table: pd.DataFrame, option: str, phase_text) -> tuple[int, str]:
    """(+1 if positive amplitudes raise G, -1 if they lower it; why): the option, or the data's verdict."""
    if option != "auto":
        return (1 if option == "positive" else -1), f"{option} (--polarity)"
    amp = table.amplitude_v.to_numpy()
    dg = np.diff(table.conductance_s.to_numpy(), prepend=np.nan)
    same = np.r_[False, table.device.to_numpy()[1:] == table.device.to_numpy()[:-1]]
    ok = same & np.isfinite(dg) & np.isfinite(amp) & (amp != 0)
    if phase_text is not None:
        agree = np.mean((phase_text == "LTP")[ok] == (amp > 0)[ok]) if ok.any() else 1.0
        return (1, "positive (phase column)") if agree >= 0.5 else (-1, "negative (phase column)")
    if not ok.any() or np.all(amp[ok] > 0) or np.all(amp[ok] < 0):
        return 1, "positive (assumed: the amplitudes have one sign or are unknown)"
    pos, neg = np.median(dg[ok & (amp > 0)]), np.median(dg[ok & (amp < 0)])
    return (1, "positive (detected: positive pulses raise G)") if pos >= neg else (
        -1, "negative (detected: negative pulses raise G)")


def _phases(table: pd.DataFrame, sign: int, phase_text, branch: str) -> tuple[np.ndarray, str]:
    """(LTP/LTD per row, why): the file's phase column, the sign of the amplitude, the one branch asked for,
    or turning points of G."""
    if phase_text is not None:
        return phase_text, "phase column"
    amp = table.amplitude_v.to_numpy()
    if np.isfinite(amp).all() and (amp > 0).any() and (amp < 0).any():
        return np.where(sign * amp > 0, "LTP", "LTD"), "amplitude sign"
    if branch != "both":
        return np.full(len(table), branch.upper()), f"every row {branch.upper()} (--branch {branch}, one-signed data)"
    out = np.empty(len(table), dtype=object)
    for _, idx in table.groupby("device", sort=False).indices.items():
        out[idx] = _turning_point_phases(table.conductance_s.to_numpy()[idx])
    return out.astype(str), "turning points of G (no phase column, amplitudes of one sign or unknown)"


def _turning_point_phases(g: np.ndarray) -> np.ndarray:
    """LTP where a smoothed G rises, LTD where it falls; runs shorter than the window join neighbours."""
    window = max(3, min(15, len(g) // 10) | 1)
    smooth = pd.Series(g).rolling(window, center=True, min_periods=1).median().to_numpy()
    trend = np.sign(np.gradient(smooth))
    for i in range(1, len(trend)):
        if trend[i] == 0:
            trend[i] = trend[i - 1]
    trend[trend == 0] = 1
    # noise on a plateau flips the trend for a few readings: fold runs shorter than 2 windows into
    # the run before them
    starts = np.flatnonzero(np.r_[True, trend[1:] != trend[:-1]])
    ends = np.r_[starts[1:], len(trend)]
    for a, b in zip(starts[1:], ends[1:]):
        if b - a < 2 * window:
            trend[a:b] = trend[a - 1]
    return np.where(trend > 0, "LTP", "LTD")


def _segments(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Number contiguous runs of one phase on one device; drop runs too short to show a step."""
    key = table.device.astype(str) + "|" + table.phase.astype(str)
    restart = table.number.diff().fillna(1).to_numpy() <= 0
    seg = ((key != key.shift()).to_numpy() | restart).cumsum() - 1
    table = table.assign(segment=seg)
    table["pulse"] = table.groupby("segment").cumcount()
    sizes = table.groupby("segment").size()
    good = sizes.index[sizes >= MIN_PULSES]
    if len(good) == 0:
        raise DataError(f"{path}: no LTP or LTD train has {MIN_PULSES} pulses or more "
                        f"(longest has {int(sizes.max())}): a step fit needs a train, not single pulses")
    table = table[table.segment.isin(good)].copy()
    table["segment"] = pd.factorize(table.segment)[0]
    return table.drop(columns="number").reset_index(drop=True)
