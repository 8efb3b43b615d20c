"""Import pulse-train measurements (LTP/LTD) into one canonical table, from our procedures or other labs.

Accepted files: our procedure CSVs (pymeasure ``#Parameters:`` / ``#Data:`` header, columns
``Device row, Device col, Phase, Pulse, Amplitude (V), Width (s), Conductance (S), Time (s)``) and
generic CSV/TSV tables: the separator is sniffed, leading ``key: value`` lines (or ``#``-comments)
are kept as metadata, and columns are found by name or mapped by option. Resistance columns become
conductance (several, e.g. a bipolar read ``R_neg_ohm,R_pos_ohm``, are averaged as conductances); a
current column divided by ``read_voltage`` does too.

The canonical table has one row per reading after a write pulse: ``device``, ``segment`` (one train
of one phase on one device), ``phase`` ("LTP" raises G, "LTD" lowers it), ``pulse`` (index in the
segment, from 0), ``amplitude_v`` (signed, NaN if unknown), ``width_s`` (NaN if unknown),
``conductance_s``, ``line`` (file line). A new segment starts where the phase or device changes
or the pulse-number column restarts. Every problem is a ``DataError`` naming the column and the file line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError

PROCEDURE_COLUMNS = ("Device row", "Device col", "Phase", "Pulse", "Amplitude (V)", "Width (s)",
                     "Conductance (S)", "Time (s)")
"""Columns of the pulse-train procedure's CSV (pymeasure Results format)."""
MIN_PULSES = 3
"""Fewest readings a segment needs to contribute a step."""
POLARITIES = ("auto", "positive", "negative")
"""``polarity`` option: which amplitude sign raises G ("auto" detects it from the data)."""

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
    """Read voltage in V, if given or found in the metadata."""


def load_measurement(path: str | Path, pulse_col: str | None = None, amplitude_col: str | None = None,
                     conductance_col: str | None = None, resistance_col: str | None = None,
                     current_col: str | None = None, width_col: str | None = None,
                     read_voltage: float | None = None, polarity: str = "auto",
                     width_s: float | None = None) -> Measurement:
    """Import one measurement file; ``*_col`` options name its columns (comma-separated to average).

    ``polarity`` says which amplitude sign raises G ("positive", "negative" or "auto" to detect
    it); ``width_s`` gives the pulse width when the file has no width column.
    """
    path = Path(path)
    if polarity not in POLARITIES:
        raise DataError(f"polarity={polarity!r}: choose one of {', '.join(POLARITIES)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    metadata, header, rows, lines = _split(text, path)
    columns = _Columns(header, rows, lines, path)
    n = len(rows)
    if n == 0:
        raise DataError(f"{path}: no data rows after the header line {columns.header_line}")

    cond = _conductance(columns, conductance_col, resistance_col, current_col, read_voltage, metadata)
    keep = np.isfinite(cond)
    if not keep.any():
        raise DataError(f"{path}: the conductance has no numeric value in any row")
    amp_names = columns.pick("amplitude", amplitude_col, required=False)
    amplitude = columns.numeric(amp_names[0]) if amp_names else np.full(n, np.nan)
    width_names = columns.pick("width", width_col, required=False)
    width = columns.numeric(width_names[0]) if width_names else np.full(n, np.nan if width_s is None else width_s)
    device = _device_ids(columns)
    pulse_names = columns.pick("pulse", pulse_col, required=False)
    pulse = columns.numeric(pulse_names[0]) if pulse_names else np.arange(n, dtype=float)
    phase_names = columns.pick("phase", None, required=False)
    phase_text = np.array([r[columns.index(phase_names[0])].strip().upper() for r in rows]) if phase_names else None

    table = pd.DataFrame({"device": device, "amplitude_v": amplitude, "width_s": width,
                          "conductance_s": cond, "number": pulse, "line": lines})[keep]
    # readings of many devices may interleave (all devices read after each pulse): one device at a time
    order = pd.factorize(table.device)[0]
    table = table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    if phase_text is not None:
        phase_text = phase_text[keep][np.argsort(order, kind="stable")]
        bad = ~np.isin(phase_text, ("LTP", "LTD"))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(f"{path}: column {phase_names[0]!r}, line {table.line[i]}: "
                            f"{phase_text[i]!r} is neither LTP nor LTD")
    _check_spread(table, path)
    sign = _polarity(table, polarity, phase_text)
    table["phase"] = _phases(table, sign, phase_text)
    table = _segments(table, path)
    meta_v = _metadata_float(metadata, ("read voltage", "read_voltage", "v_read", "vread"))
    return Measurement(table, path, hashlib.sha256(raw).hexdigest(), metadata,
                       "positive" if sign > 0 else "negative", read_voltage if read_voltage else meta_v)


class _Columns:
    """The header and the string cells of a table, with lookups that name the file line on error."""

    def __init__(self, header: list[str], rows: list[list[str]], lines: list[int], path: Path) -> None:
        self.header, self.rows, self.lines, self.path = header, rows, lines, path
        self.header_line = lines[0] - 1 if lines else "?"

    def index(self, name: str) -> int:
        return self.header.index(name)

    def pick(self, role: str, option: str | None, required: bool = True) -> list[str]:
        """Column names for ``role``: from the option (comma-separated) or guessed from the header."""
        if option:
            names = [n.strip() for n in option.split(",") if n.strip()]
            for name in names:
                if name not in self.header:
                    raise DataError(f"{self.path}: no column {name!r} (the {role} column); "
                                    f"columns are {', '.join(map(repr, self.header))}")
            return names
        for pattern in _GUESS.get(role, ()):
            found = [h for h in self.header if re.search(pattern, h.strip().lower())]
            if found:
                return found
        if required:
            raise DataError(f"{self.path}: no {role} column found among {', '.join(map(repr, self.header))}; "
                            f"name it with --{role}-col")
        return []

    def numeric(self, name: str) -> np.ndarray:
        """The column as floats; empty cells and NaN become NaN, any other text is an error."""
        k = self.index(name)
        out = np.empty(len(self.rows))
        for i, row in enumerate(self.rows):
            cell = row[k].strip() if k < len(row) else ""
            if cell.lower() in ("", "nan", "na", "n/a", "-"):
                out[i] = np.nan
                continue
            try:
                out[i] = float(cell)
            except ValueError:
                raise DataError(f"{self.path}: column {name!r}, line {self.lines[i]}: {cell!r} is not a number") from None
        if not np.isfinite(out).any():
            raise DataError(f"{self.path}: column {name!r} has no numeric value (all empty or NaN)")
        return out


def _split(text: str, path: Path) -> tuple[dict, list[str], list[list[str]], list[int]]:
    """Metadata lines, the header, the data rows and each row's 1-based file line number."""
    metadata: dict[str, str] = {}
    lines = text.splitlines()
    start = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = re.match(r"#\s*([^:]+?)\s*:\s*(.*)$", stripped)
            if m and m.group(2):
                metadata[m.group(1)] = m.group(2).strip()
            continue
        m = re.match(r"^([^:\t,;]+?)\s*[:=]\s*(.*)$", stripped)
        if m and start is None and not re.search(r"[\t,;]", m.group(1)):
            metadata[m.group(1)] = m.group(2).strip()
            continue
        start = i
        break
    if start is None:
        raise DataError(f"{path}: no table found (only header or comment lines)")
    sample = "\n".join(lines[start:start + 20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = None
    if delimiter is None:
        reader = (ln.split() for ln in lines[start:])
    else:
        reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=delimiter)
    header: list[str] = []
    rows, numbers = [], []
    for k, row in enumerate(reader):
        if not header:
            header = [c.strip() for c in row]
            continue
        if not any(c.strip() for c in row):
            continue
        rows.append(row)
        numbers.append(start + k + 1)
    if len(set(header)) != len(header):
        raise DataError(f"{path}: line {start + 1}: repeated column names in {header}")
    return metadata, header, rows, numbers


def _conductance(cols: _Columns, conductance_col, resistance_col, current_col, read_voltage, metadata) -> np.ndarray:
    """Conductance in S per row, from conductance, resistance (averaged as 1/R) or current / read voltage."""
    if current_col:
        if not read_voltage:
            raise DataError(f"{cols.path}: --current-col needs --read-voltage (V) to give a conductance")
        stack = [cols.numeric(n) / read_voltage for n in cols.pick("current", current_col)]
        return np.abs(np.nanmean(np.vstack(stack), axis=0))
    if resistance_col or not (conductance_col or cols.pick("conductance", None, required=False)):
        names = cols.pick("resistance", resistance_col, required=False)
        if not names:
            raise DataError(f"{cols.path}: no conductance or resistance column found among "
                            f"{', '.join(map(repr, cols.header))}; name one with --conductance-col or --resistance-col")
        stack = []
        for name in names:
            r = np.abs(cols.numeric(name))
            with np.errstate(divide="ignore"):
                stack.append(np.where(r > 0, 1.0 / r, np.nan))
    else:
        stack = [np.abs(cols.numeric(n)) for n in cols.pick("conductance", conductance_col)]
    with np.errstate(all="ignore"):
        return np.nanmean(np.vstack(stack), axis=0) if len(stack) > 1 else stack[0]


def _device_ids(cols: _Columns) -> np.ndarray:
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


def _polarity(table: pd.DataFrame, option: str, phase_text) -> int:
    """+1 if positive amplitudes raise G, -1 if they lower it: the option, or the data's verdict."""
    if option != "auto":
        return 1 if option == "positive" else -1
    amp = table.amplitude_v.to_numpy()
    dg = np.diff(table.conductance_s.to_numpy(), prepend=np.nan)
    same = np.r_[False, table.device.to_numpy()[1:] == table.device.to_numpy()[:-1]]
    ok = same & np.isfinite(dg) & np.isfinite(amp) & (amp != 0)
    if phase_text is not None:
        up = phase_text == "LTP"
        pos = amp > 0
        agree = np.mean(up[ok] == pos[ok]) if ok.any() else 1.0
        return 1 if agree >= 0.5 else -1
    if not ok.any() or np.all(amp[ok] > 0) or np.all(amp[ok] < 0):
        return 1
    pos, neg = np.median(dg[ok & (amp > 0)]), np.median(dg[ok & (amp < 0)])
    return 1 if pos >= neg else -1


def _phases(table: pd.DataFrame, sign: int, phase_text) -> np.ndarray:
    """LTP/LTD per row: the file's phase column, the sign of the amplitude, or turning points of G."""
    if phase_text is not None:
        return phase_text
    amp = table.amplitude_v.to_numpy()
    if np.isfinite(amp).all() and (amp > 0).any() and (amp < 0).any():
        return np.where(sign * amp > 0, "LTP", "LTD")
    out = np.empty(len(table), dtype=object)
    for _, idx in table.groupby("device", sort=False).indices.items():
        out[idx] = _turning_point_phases(table.conductance_s.to_numpy()[idx])
    return out.astype(str)


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


def _metadata_float(metadata: dict, keys: tuple[str, ...]) -> float | None:
    for name, value in metadata.items():
        if name.strip().lower() in keys:
            m = re.match(r"\s*([-+0-9.eE]+)\s*(m?)V", value + "V")
            if m:
                try:
                    return float(m.group(1)) * (1e-3 if m.group(2) else 1.0)
                except ValueError:
                    return None
    return None
