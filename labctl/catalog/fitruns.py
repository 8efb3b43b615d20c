"""``labctl fit --runs QUERY``: the data files of the cataloged runs a query selects."""

from __future__ import annotations

from pathlib import Path

from .query import parse_query, select_runs
from .store import Catalog


def files_of_query(text: str, catalog: Catalog | None = None) -> list[Path]:
    """CSV files of the complete procedure runs matching ``text``, oldest first.

    Only complete runs count unless the query names a status; a query matching nothing is refused
    (a fit of zero files would fail later with a less useful message).
    """
    from labctl.errors import ConfigError, field_error

    filters = {"kind": "procedure", "status": "complete", **parse_query(text)}
    rows = select_runs(catalog or Catalog(), filters)
    paths = [Path(r["folder"]) / r["primary_file"] for r in reversed(rows)]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise field_error(ConfigError, "--runs", text, f"run file gone: {missing[0]} (try `labctl runs reindex`)")
    if not paths:
        raise field_error(ConfigError, "--runs", text, "no complete procedure run matches")
    return paths
