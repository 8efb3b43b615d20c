"""The run catalog: every measurement, fit and training run indexed in one SQLite file.

Run folders stay the source of truth (each run leaves a ``<stem>.catalog.json`` sidecar next to
its files); the catalog makes them searchable (:func:`query`), links runs by the hashes of the
files they wrote and read, and is rebuilt from the folders by :func:`reindex`.
"""

from .live import RunHandle, finish_run, input_ref, recorded, start_run, sweep_dead_runs
from .query import parse_query, query, select_runs
from .record import KINDS, STATUSES, RunRecord
from .reindex import ReindexReport, reindex
from .store import ENV_VAR, Catalog, catalog_path

__all__ = ["ENV_VAR", "KINDS", "STATUSES", "Catalog", "ReindexReport", "RunHandle", "RunRecord", "catalog_path",
           "finish_run", "input_ref", "parse_query", "query", "recorded", "reindex", "select_runs", "start_run",
           "sweep_dead_runs"]
