"""Read a measurement text file into a raw table: metadata, column names, string cells, file lines.

What real exports look like, and what this reads: a ``key: value`` header block (the space after the
colon optional, the unit sometimes in the key) or ``#`` comments before the table; a header row, a
``# a,b,c`` comment header (numpy.savetxt), or no header at all (the first row is numbers: columns
are then named by ``--columns`` or numbered 0, 1, ...); duplicate column names, told apart as pandas
does (``Voltage (V)``, ``Voltage (V).1``); comma, tab, semicolon or whitespace separators; and a
last line cut short by an interrupted write (fewer cells, or a last cell shorter than any before
it), which is dropped and counted rather than read as a number it never was.
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

NA_CELLS = ("", "nan", "na", "n/a", "-", "none", "null")
"""Cell texts read as a missing value."""


@dataclass
class RawTable:
    """The table of one file, cells as text, before any physics."""

    names: list[str]
    """Column names, unique (duplicates get ``.1``, ``.2`` as in pandas)."""
    rows: list[list[str]]
    """Cells per data row (each row has ``len(names)`` cells)."""
    lines: np.ndarray
    """1-based file line of each row."""
    metadata: dict[str, str] = field(default_factory=dict)
    """``key: value`` header lines and ``#`` parameters, as strings."""
    header_from: str = ""
    """Where the column names came from (for the printed decisions)."""
    dropped: dict[str, int] = field(default_factory=dict)
    """Rows left out while reading, by reason."""

    def column(self, name: str) -> np.ndarray:
        k = self.names.index(name)
        return np.array([row[k].strip() for row in self.rows], dtype=object)

    def frame(self) -> pd.DataFrame:
        """Columns whose cells are all numbers (or empty) as floats, the others as text: for ``--rows``."""
        data = {}
        for name in self.names:
            cells = self.column(name)
            values = _to_floats(cells)
            data[name] = values if not np.isnan(values[[c.lower() not in NA_CELLS for c in cells]]).any() else cells
        return pd.DataFrame(data)


class Columns:
    """The rows of a table kept so far, with lookups by name or number that name the file line on error."""

    def __init__(self, raw: RawTable, path: Path, guess: dict[str, tuple[str, ...]]) -> None:
        self.raw, self.header, self.rows, self.lines, self.path = raw, raw.names, raw.rows, raw.lines, path
        self.guess = guess
        """Regular expressions (on lower-case names) that find a role's column when no option names it."""

    def query(self, expr: str, dropped: dict) -> Columns:
        """The rows where the pandas query ``expr`` is true."""
        try:
            mask = self.raw.frame().eval(expr)
        except Exception as exc:  # pandas raises many types for a bad expression: name it in one line
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"{self.path}: --rows {expr!r}: {detail} (columns are "
                            f"{', '.join(map(repr, self.header))}; backticks around names with spaces)") from None
        if getattr(mask, "dtype", None) != bool:
            raise DataError(f"{self.path}: --rows {expr!r} is not a condition (true or false per row)")
        keep = mask.to_numpy()
        dropped["rows not matching --rows"] = int((~keep).sum())
        raw = RawTable(self.header, [r for r, k in zip(self.rows, keep) if k], self.lines[keep])
        return Columns(raw, self.path, self.guess)

    def index(self, name: str) -> int:
        return self.header.index(name)

    def resolve(self, option: str, role: str) -> list[str]:
        """Column names of an option: names or 0-based numbers, comma-separated."""
        items = [option] if option in self.header else [n.strip() for n in str(option).split(",") if n.strip()]
        names = []
        for item in items:
            if item in self.header:
                names.append(item)
            elif item.isdigit() and int(item) < len(self.header):
                names.append(self.header[int(item)])
            else:
                listing = ", ".join(f"{i}={n!r}" for i, n in enumerate(self.header))
                raise DataError(f"{self.path}: no column {item!r} (the {role} column); columns are {listing}")
        return names

    def pick(self, role: str, option: str | None, required: bool = True) -> list[str]:
        """Column names for ``role``: from the option or guessed from the header."""
        if option is not None and str(option) != "":
            return self.resolve(str(option), role)
        for pattern in self.guess.get(role, ()):
            found = [h for h in self.header if re.search(pattern, h.strip().lower())]
            if found:
                return found
        if required:
            raise DataError(f"{self.path}: no {role} column found among {', '.join(map(repr, self.header))}; "
                            f"name it with --{role}-col")
        return []

    def text(self, name: str) -> np.ndarray:
        k = self.index(name)
        return np.array([row[k].strip() for row in self.rows], dtype=object)

    def numeric(self, name: str) -> np.ndarray:
        """The column as floats; empty cells and NaN become NaN, any other text is an error."""
        out = np.empty(len(self.rows))
        for i, cell in enumerate(self.text(name)):
            if cell.lower() in NA_CELLS:
                out[i] = np.nan
                continue
            try:
                out[i] = float(cell)
            except ValueError:
                raise DataError(f"{self.path}: column {name!r}, line {self.lines[i]}: {cell!r} is not a number"
                                + (" (keep only the rows you need with --rows)" if "--rows" not in name else "")) from None
        if not np.isfinite(out).any():
            raise DataError(f"{self.path}: column {name!r} has no numeric value (all empty or NaN)")
        return out


def load_columns(path: Path, guess: dict, columns: str | list | None = None,
                 rows: str | None = None) -> tuple[Columns, RawTable, str, dict]:
    """A measurement file as a table: (its columns after the ``rows`` query, the whole table with its
    metadata, the sha256 of its bytes, rows dropped so far by reason). ``columns`` names every column
    (a list or comma-separated); an unreadable file or no row left is a one-line ``DataError``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",")]
    table = read_table(text, path, columns)
    dropped = dict(table.dropped)
    cols = Columns(table, path, guess)
    if rows:
        cols = cols.query(rows, dropped)
    if not cols.rows:
        raise DataError(f"{path}: no data rows" + (f" match --rows {rows!r}" if rows else ""))
    return cols, table, hashlib.sha256(raw).hexdigest(), dropped


def read_table(text: str, path: Path, columns: list[str] | None = None) -> RawTable:
    """Split ``text`` into metadata and a table; ``columns`` names (or renames) every column."""
    lines = text.splitlines()
    metadata, comment_header, start = _preamble(lines, path)
    sample = "\n".join(lines[start:start + 20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = None
    body = lines[start:]
    reader = (ln.split() for ln in body) if delimiter is None else csv.reader(io.StringIO("\n".join(body)),
                                                                               delimiter=delimiter)
    cells = [(start + k + 1, [c.strip() for c in row]) for k, row in enumerate(reader) if any(c.strip() for c in row)]
    first_line, first = cells[0]
    if all(_is_number(c) for c in first):  # no header row: the names come from elsewhere
        width = len(first)
        split = _split_header(comment_header[1], delimiter) if comment_header else None
        if columns:
            names, source = columns, "--columns"
        elif split and len(split) == width:
            names, source = split, f"'# ' comment header, line {comment_header[0]}"
        else:
            names, source = [str(i) for i in range(width)], f"no header: columns numbered 0..{width - 1}"
        data = cells
    else:
        names, source, data = first, f"header, line {first_line}", cells[1:]
        if columns:
            names, source = columns, f"--columns (replacing the header on line {first_line})"
    if not data:
        raise DataError(f"{path}: no data rows after the header on line {first_line}")
    if source.startswith("--columns"):
        width = max(set(len(r) for _, r in data[:20]), key=[len(r) for _, r in data[:20]].count)
        if len(names) != width:
            raise DataError(f"{path}: --columns names {len(names)} columns; the data rows have {width}")
    rows, row_lines, dropped = _complete_rows(data, len(names), path, ends_with_newline=text.endswith(("\n", "\r")))
    return RawTable(_unique(names), rows, np.array(row_lines), metadata, source, dropped)


def _preamble(lines: list[str], path: Path) -> tuple[dict, tuple[int, str] | None, int]:
    """Metadata, the last ``#`` line that is not ``key: value`` (a candidate header), and where the table starts."""
    metadata: dict[str, str] = {}
    comment_header = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = re.match(r"#\s*([^:]+?)\s*:\s*(.*)$", stripped)
            if m and m.group(2):
                metadata[m.group(1)] = m.group(2).strip()
            elif not m:
                comment_header = (i + 1, stripped.lstrip("#").strip())
            continue
        m = re.match(r"^([^:\t,;]+?)\s*[:=]\s*(.*)$", stripped)
        if m and not re.search(r"[\t,;]", m.group(1)) and not _is_number(m.group(1)):
            metadata[m.group(1)] = m.group(2).strip()
            continue
        return metadata, comment_header, i
    raise DataError(f"{path}: no table found (only header or comment lines)")


def _split_header(text: str, delimiter: str | None) -> list[str]:
    parts = text.split() if delimiter is None else next(csv.reader([text], delimiter=delimiter))
    return [p.strip() for p in parts]


def _complete_rows(data, width: int, path: Path, ends_with_newline: bool):
    """Rows with ``width`` cells; a cut last line is dropped and counted, a short row elsewhere too."""
    rows, numbers, dropped = [], [], {}
    for k, (line, row) in enumerate(data):
        if len(row) > width:
            raise DataError(f"{path}: line {line} has {len(row)} cells, the header names {width}")
        if len(row) < width:
            reason = "truncated last line" if k == len(data) - 1 else "rows with missing cells"
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        rows.append(row)
        numbers.append(line)
    if rows and not ends_with_newline and numbers[-1] == data[-1][0] and _cut_short(rows):
        rows.pop()
        numbers.pop()
        dropped["truncated last line"] = dropped.get("truncated last line", 0) + 1
    return rows, numbers, dropped


def _cut_short(rows: list[list[str]]) -> bool:
    """Whether the last row (no newline after it) ends in a cell shorter than that column ever was."""
    before = rows[-51:-1]
    if not before:
        return False
    last = rows[-1][-1]
    shortest = min(len(r[-1]) for r in before)
    return (_is_number(rows[-2][-1]) and not _is_number(last)) or len(last) < shortest


def _unique(names: list[str]) -> list[str]:
    """pandas' rule: the second ``X`` becomes ``X.1``, the third ``X.2``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            candidate = f"{name}.{seen[name]}"
            while candidate in seen:
                seen[name] += 1
                candidate = f"{name}.{seen[name]}"
            out.append(candidate)
            seen[candidate] = 0
        else:
            seen[name] = 0
            out.append(name)
    return out


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return cell.strip().lower() in NA_CELLS[1:]


def _to_floats(cells: np.ndarray) -> np.ndarray:
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        try:
            out[i] = float(cell)
        except ValueError:
            pass
    return out


_PREFIX = {"": 1.0, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "m": 1e-3, "k": 1e3}


def metadata_quantity(metadata: dict, patterns: tuple[str, ...], unit: str) -> tuple[float, str] | None:
    """(value in ``unit``, key) of the first header entry whose key matches a pattern; the unit prefix may sit
    in the value (``100 us``) or in the key (``Pulse width (us)``, ``width[ms]``, ``t_pulse_ms``)."""
    for key, value in metadata.items():
        name = key.strip().lower()
        if not any(re.search(p, name) for p in patterns):
            continue
        m = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([pnuµμmk]?)" + unit + r"?\b", value + " ")
        if not m:
            continue
        prefix = m.group(2)
        if not prefix:
            in_key = re.search(r"[\(\[_ ]([pnuµμmk]?)" + unit + r"[\)\]]?$", key.strip())
            prefix = in_key.group(1) if in_key else ""
        return float(m.group(1)) * _PREFIX[prefix], key
    return None
