"""What every ``labctl`` command does first: pick the catalog, mark dead runs interrupted."""

from __future__ import annotations

import os
import sqlite3
import warnings

from .live import sweep_dead_runs
from .store import ENV_VAR, Catalog, catalog_path


def start_session(path: str | None) -> list[str]:
    """Use catalog ``path`` for this process (and its children); sweep runs whose process died.

    Skipped when the catalog file does not exist yet (nothing to sweep; no file created) or is off.
    A catalog that cannot be read warns and lets the command run.
    """
    if path:
        os.environ[ENV_VAR] = str(path)
    target = catalog_path()
    if target is None or not target.exists():
        return []
    try:
        return sweep_dead_runs(Catalog(target))
    except sqlite3.Error as exc:
        warnings.warn(f"run catalog {target}: {exc}", stacklevel=2)
        return []
