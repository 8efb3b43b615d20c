"""Recording runs as they happen: a row marked running at the start, finished at the end.

A run is recorded in two places: its sidecar in the run folder (always) and the catalog (best
effort: a locked or unwritable catalog warns and never stops a measurement; ``labctl runs
reindex`` catches up from the sidecars). Runs started inside another recorded run (the demo's
stages) get it as parent.
"""

from __future__ import annotations

import contextvars
import os
import socket
import sqlite3
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .folders import build_record
from .record import (
    InputRef,
    RunRecord,
    read_sidecar,
    sha256_file,
    sidecar_path,
    write_sidecar,
)
from .store import Catalog, catalog_path, now_iso

_current: contextvars.ContextVar[RunRecord | None] = contextvars.ContextVar("labctl_current_run", default=None)


class RunHandle:
    """A run being recorded; set ``status`` before the block ends to override "complete"."""

    def __init__(self, record: RunRecord, extra: dict):
        self.record = record
        self.extra = extra
        self.status: str | None = None

    @property
    def id(self) -> str:
        return self.record.id


def process_start() -> str | None:
    """Start tick of process ``pid`` on Linux (``/proc/<pid>/stat`` field 22); None elsewhere."""
    return pid_start(os.getpid())


def pid_start(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def is_alive(pid: int | None, start: str | None) -> bool:
    """Whether the process that recorded a run still runs (same pid and, where known, same start)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    return start is None or pid_start(pid) in (None, start)


def input_ref(path, role: str) -> InputRef | None:
    """An input file as a lineage reference (None when ``path`` is not a file, e.g. a preset name)."""
    try:
        p = Path(path)
        return InputRef(sha256_file(p), role, str(p)) if p.is_file() else None
    except (OSError, TypeError):
        return None


def _catalog() -> Catalog | None:
    return None if catalog_path() is None else Catalog()


def _store(record: RunRecord, root: bool) -> None:
    try:
        catalog = _catalog()
        if catalog is not None:
            catalog.upsert(record)
            if root:
                catalog.add_root(record.folder)
    except (sqlite3.Error, OSError) as exc:
        warnings.warn(f"run catalog not updated ({exc}); `labctl runs reindex` will add run {record.id}",
                      stacklevel=3)


def start_run(kind: str, name: str, primary: str | Path, *, extra: dict | None = None,
              inputs: list[InputRef | None] = ()) -> RunHandle:
    """Record run ``kind``/``name`` whose main file will be ``primary`` as running (resumes keep the id)."""
    from labctl.provenance import git_revision

    primary = Path(primary).resolve()
    primary.parent.mkdir(parents=True, exist_ok=True)
    previous = read_sidecar(sidecar_path(primary)) or {}
    parent = _current.get()
    extra = {"git_revision": git_revision(), **(extra or {})} if kind != "procedure" else dict(extra or {})
    record = RunRecord(id=previous.get("id") or uuid.uuid4().hex[:12], kind=kind, name=name,
                       folder=str(primary.parent), primary_file=primary.name, status="running",
                       started=previous.get("started") or now_iso(), pid=os.getpid(), host=socket.gethostname(),
                       pid_start=process_start(), parent_id=parent.id if parent else previous.get("parent_id"),
                       inputs=[i for i in inputs if i is not None])
    write_sidecar(record, {"name": name, **extra})
    handle = RunHandle(build_record(kind, primary, _sidecar_dict(record, name, extra)), extra)
    _store(handle.record, root=handle.record.parent_id is None)
    return handle


def finish_run(handle: RunHandle, status: str) -> RunRecord:
    """Mark the run ``status`` with its end time; hash its files as they are now."""
    r = handle.record
    r.status, r.ended = status, now_iso()
    write_sidecar(r, {"name": r.name, **handle.extra})
    record = build_record(r.kind, r.primary_path, _sidecar_dict(r, r.name, handle.extra))
    _store(record, root=False)
    handle.record = record
    return record


def _sidecar_dict(record: RunRecord, name: str, extra: dict) -> dict:
    data = read_sidecar(sidecar_path(record.primary_path))
    return data if data is not None else {"id": record.id, "kind": record.kind, "extra": {"name": name, **extra}}


@contextmanager
def recorded(kind: str, name: str, primary: str | Path, *, extra: dict | None = None,
             inputs: list[InputRef | None] = ()) -> Iterator[RunHandle]:
    """Record the block as one run: complete, interrupted (Ctrl-C, or ``handle.status``) or failed."""
    handle = start_run(kind, name, primary, extra=extra, inputs=inputs)
    token = _current.set(handle.record)
    try:
        yield handle
    except KeyboardInterrupt:
        finish_run(handle, "interrupted")
        raise
    except BaseException:
        finish_run(handle, "failed")
        raise
    else:
        finish_run(handle, handle.status or "complete")
    finally:
        _current.reset(token)


def sweep_dead_runs(catalog: Catalog | None = None) -> list[str]:
    """Mark interrupted every run of this host still "running" whose process is gone; return their ids.

    Cheap enough for every CLI start: one indexed query, one ``kill(pid, 0)`` per running run. The
    sidecar is updated too, so a later reindex agrees.
    """
    catalog = catalog or Catalog()
    host = socket.gethostname()
    dead = [r for r in catalog.select("SELECT id, pid, pid_start, folder, primary_file FROM runs "
                                      "WHERE status='running' AND host=?", (host,))
            if not is_alive(r["pid"], r["pid_start"])]
    for row in dead:
        ended = now_iso()
        catalog.set_status(row["id"], "interrupted", ended)
        sidecar = sidecar_path(Path(row["folder"]) / row["primary_file"])
        data = read_sidecar(sidecar)
        if data is not None and data.get("status") == "running":
            import json

            data.update(status="interrupted", ended=ended)
            try:
                sidecar.write_text(json.dumps(data, indent=2, default=str) + "\n")
            except OSError:
                pass
    return [r["id"] for r in dead]
