"""A procedure's summary on the console: small tables, 4 significant digits, SI units from the key names.

The run's JSON keeps the full numbers; this is for reading. Keys end in their unit (``memory_window_v``,
``g_last_s``): ``_v`` V, ``_a`` A, ``_k`` K, ``_j`` J, ``_hz`` Hz, ``_s`` siemens for a conductance
(``g_*``, a conductance ``target_s`` or ``symmetry_point_s``) and seconds otherwise. Scalars form one
table; a dict of dicts (retention's levels, symmetry_point's widths) one table with a row per entry;
neighbouring dicts of scalars (ltp_ltd's LTP and LTD) one table with a row per key.
"""

from __future__ import annotations

from rich.table import Column, Table

from labctl.units import si

SUFFIXES = {"_v": "V", "_a": "A", "_k": "K", "_j": "J", "_hz": "Hz"}
CONDUCTANCE_NAMES = ("g_", "target_s", "symmetry_point_s")


def split_unit(key: str) -> tuple[str, str]:
    """``"g_last_s"`` -> ``("g_last", "S")``; ``"levels"`` -> ``("levels", "")``."""
    if key.endswith("_s"):
        return key[:-2], "S" if key.startswith(CONDUCTANCE_NAMES) else "s"
    for suffix, unit in SUFFIXES.items():
        if key.endswith(suffix):
            return key[: -len(suffix)], unit
    return key, ""


def cell(value, unit: str = "") -> str:
    """One value for reading: SI prefix and 4 digits for floats, lists as their range and count."""
    if isinstance(value, list):
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if numbers and len(numbers) == len(value):
            return f"{cell(min(numbers), unit)}..{cell(max(numbers), unit)} ({len(numbers)})"
        return ", ".join(cell(v, unit) for v in value)
    if isinstance(value, float):
        return si(value, unit, 4) if unit else f"{value:.4g}"
    return f"{value} {unit}".rstrip() if value is not None else "-"


def summary_tables(summary: dict, title: str = "summary") -> list[Table]:
    """The tables that show ``summary`` (see the module docstring)."""
    tables, scalars, group = [], [], []

    def flush_group():
        if group:
            tables.append(_rows_table(title, dict(group)))
            group.clear()

    for key, value in summary.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            flush_group()
            tables.append(_rows_table(key, value))
        elif isinstance(value, dict):
            group.append((key, value))
        else:
            flush_group()
            scalars.append((key, value))
    flush_group()
    if scalars:
        table = Table(_column("quantity"), _column("value"), title=title, title_justify="left")
        for key, value in scalars:
            table.add_row(key, cell(value, split_unit(key)[1]))
        tables.insert(0, table)
    return tables


def _rows_table(title: str, rows: dict[str, dict]) -> Table:
    """One row per entry of ``rows``, a column per key of their dicts. A column's unit is its key's; a
    float without one takes its row's (``memory_window_v: {mean, std, n}``); counts stay bare."""
    outer_unit = split_unit(title)[1]
    columns = list(dict.fromkeys(k for row in rows.values() for k in row))
    table = Table(*map(_column, ["", *columns]), title=title, title_justify="left")
    for label, row in rows.items():
        label_name, label_unit = label, split_unit(label)[1]
        if title == "widths":  # keyed by the pulse width in s (symmetry_point)
            label_name = si(float(label), "s")
        cells = []
        for column in columns:
            unit, value = split_unit(column)[1], row.get(column)
            cells.append(cell(value, unit or (label_unit or outer_unit if isinstance(value, float) else "")))
        table.add_row(label_name, *cells)
    return table


def _column(header: str) -> Column:
    return Column(header, overflow="fold")  # a narrow terminal wraps a key, never cuts it
