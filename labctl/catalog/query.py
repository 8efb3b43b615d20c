"""Selecting runs: ``"name=ltp_ltd chip=C7 width=20e-9"`` or keyword filters -> rows or a DataFrame.

Keys naming a catalog column (kind, name, chip, status, backend, model, seed, id) compare with the
column; ``since`` keeps runs started at or after a date; any other key is a run parameter, matched
by its name or its name with a unit suffix (``width`` finds ``width_s``). Numbers compare as
numbers (``20e-9`` equals ``2e-08``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd

from .store import Catalog

COLUMN_KEYS = {"kind": "kind", "name": "name", "chip": "chip_id", "chip_id": "chip_id", "status": "status",
               "backend": "backend", "model": "model_id", "model_id": "model_id", "seed": "seed", "id": "id",
               "parent": "parent_id"}
TABLE_COLUMNS = ("id", "kind", "name", "status", "chip_id", "device_ids", "backend", "model_id", "seed",
                 "temperature_k", "started", "ended", "git_revision", "instrument_idns", "folder", "primary_file",
                 "parent_id", "pid", "host", "parameters", "summary")


def parse_query(text: str | None) -> dict[str, str]:
    """``"a=1 b=x"`` -> ``{"a": "1", "b": "x"}``; a token without ``=`` is refused."""
    from labctl.errors import ConfigError, field_error

    out = {}
    for token in (text or "").split():
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise field_error(ConfigError, "query", token, "expected key=value, e.g. name=ltp_ltd chip=C7")
        out[key] = value
    return out


def select_runs(catalog: Catalog, filters: dict) -> list[dict]:
    """Rows matching every filter (see module docstring); newest first."""
    clauses, args, params = [], [], {}
    for key, value in filters.items():
        if value is None:
            continue
        if key == "since":
            clauses.append("started >= ?")
            args.append(_since(value))
        elif key in COLUMN_KEYS:
            column = COLUMN_KEYS[key]
            if column == "id":
                clauses.append("id LIKE ?")
                args.append(f"{value}%")
            else:
                clauses.append(f"{column} = ?")
                args.append(int(value) if column == "seed" else str(value))
        else:
            params[key] = value
    rows = catalog.runs("WHERE " + " AND ".join(clauses) if clauses else "", tuple(args))
    return [r for r in rows if all(_param_matches(r["parameters"], k, v) for k, v in params.items())]


def _since(value) -> str:
    """A date, datetime or ISO string -> UTC ISO text comparable with ``started``."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is local
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _param_matches(parameters: dict, key: str, wanted) -> bool:
    names = [key] if key in parameters else [k for k in parameters if k.startswith(key + "_")]
    return any(_equal(parameters[k], wanted) for k in names)


def _equal(value, wanted) -> bool:
    try:
        a, b = float(value), float(wanted)
    except (TypeError, ValueError):
        return str(value) == str(wanted)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0) or a == b


def query(text: str | None = None, *, catalog: Catalog | str | None = None, **filters) -> pd.DataFrame:
    """Runs matching ``text`` (``"name=ltp_ltd chip=C7"``) and keyword ``filters``, as a DataFrame.

    One row per run, newest first, columns :data:`TABLE_COLUMNS` plus ``path`` (the run's main file);
    ``parameters`` and ``summary`` are dicts. Example: ``query(kind="procedure", chip="C7", width=20e-9)``.
    """
    if not isinstance(catalog, Catalog):
        catalog = Catalog(catalog)
    rows = select_runs(catalog, {**parse_query(text), **filters})
    df = pd.DataFrame(rows, columns=[*TABLE_COLUMNS])
    df["path"] = [f"{r['folder']}/{r['primary_file']}" for r in rows]
    return df
