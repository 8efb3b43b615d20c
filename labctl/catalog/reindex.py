"""``labctl runs reindex``: rebuild catalog rows from run folders (the folders are the truth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .folders import build_record, discover
from .live import sweep_dead_runs
from .store import Catalog


@dataclass
class ReindexReport:
    """What a reindex did."""

    roots: list[Path]
    """Folders walked."""
    indexed: int
    """Runs written to the catalog."""
    removed: int
    """Rows dropped because their run's main file is gone (under the given folders; anywhere without them)."""
    interrupted: list[str]
    """Runs found running whose process is gone, now marked interrupted."""


def reindex(catalog: Catalog, roots: list[str | Path] = ()) -> ReindexReport:
    """Index every run under ``roots`` (remembered for next time), or under the remembered roots.

    Rows whose main file is gone are dropped: under ``roots`` when given, else wherever they are (a
    stale row would break ``fit --runs``). A run still running keeps its row (its file may come later).
    """
    from labctl.errors import ConfigError, field_error

    for root in roots:
        if not Path(root).is_dir():
            raise field_error(ConfigError, "root", str(root), "not a folder")
        catalog.add_root(root)
    walk = _outermost([Path(r).resolve() for r in roots] or catalog.roots())
    indexed = 0
    for root in walk:
        for kind, primary, sidecar in discover(root):
            catalog.upsert(build_record(kind, primary, sidecar))
            indexed += 1
    removed = 0
    for row in catalog.select("SELECT id, folder, primary_file, status FROM runs"):
        primary = Path(row["folder"]) / row["primary_file"]
        if primary.exists() or row["status"] == "running":
            continue
        if not roots or any(primary.is_relative_to(r) for r in walk):
            catalog._write([("DELETE FROM runs WHERE id=?", (row["id"],))])
            removed += 1
    return ReindexReport(walk, indexed, removed, sweep_dead_runs(catalog))


def _outermost(roots: list[Path]) -> list[Path]:
    """Drop roots inside other roots (each run is read once)."""
    roots = sorted(set(roots))
    return [r for r in roots if r.exists() and not any(r != o and r.is_relative_to(o) for o in roots)]
