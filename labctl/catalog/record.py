"""One run as the catalog holds it, and its sidecar file in the run folder.

The sidecar (``<stem>.catalog.json`` next to the run's primary file) holds only what the run's own
metadata cannot: the run id, kind, start and end time, status, process identity and parent. With
it, ``labctl runs reindex`` rebuilds exactly the row the live run wrote.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from labctl.atomic import TMP_SUFFIX, replacing

SIDECAR_SUFFIX = ".catalog.json"
STATUSES = ("running", "complete", "interrupted", "failed")
KINDS = ("procedure", "fit", "train", "experiment", "sweep", "demo")


@dataclass(frozen=True)
class FileEntry:
    """A file of a run."""

    path: str
    """Path relative to the run folder."""
    sha256: str
    """Hex SHA-256 of the content when the run was recorded."""
    size_bytes: int
    """File size in bytes."""


@dataclass(frozen=True)
class InputRef:
    """A file a run read: lineage links it to the run that wrote a file with this hash."""

    sha256: str
    """Hex SHA-256 of the input file."""
    role: str
    """What the input was for: ``data`` (a fit's measurements) or ``model`` (a training run's model)."""
    path: str
    """Where the input was read from (as given)."""


@dataclass
class RunRecord:
    """One catalog row plus its files and inputs."""

    id: str
    """Run id (12 hex digits; stable across reindexing)."""
    kind: str
    """procedure | fit | train | experiment | sweep | demo."""
    name: str
    """Procedure name, fitted model name, training algorithm, experiment name."""
    folder: str
    """Absolute run folder."""
    primary_file: str
    """The run's main metadata or data file, relative to ``folder``."""
    status: str = "running"
    """running | complete | interrupted | failed."""
    started: str | None = None
    """UTC start time, ISO 8601."""
    ended: str | None = None
    """UTC end time, ISO 8601 (None while running)."""
    backend: str | None = None
    """Backend spec: sim, sim-instruments or a bench file."""
    chip_id: str | None = None
    """Chip id from the run's header."""
    device_ids: str | None = None
    """Devices measured, as ``row:col,...``."""
    parameters: dict = field(default_factory=dict)
    """Run parameters (procedure parameters, fit options, training configuration)."""
    seed: int | None = None
    """Seed of the simulated chip or the training."""
    model_id: str | None = None
    """Device model used (preset or file name) or produced (fits)."""
    git_revision: str | None = None
    """Revision of the code that ran."""
    instrument_idns: str | None = None
    """Instrument identities ("none" on the simulator)."""
    temperature_k: float | None = None
    """Chip temperature in K."""
    summary: dict = field(default_factory=dict)
    """Key results (procedure summary, fit report, final accuracy)."""
    pid: int | None = None
    """Process id of the recording process."""
    host: str | None = None
    """Host name of the recording process."""
    pid_start: str | None = None
    """Start time of that process (tells a reused pid apart)."""
    parent_id: str | None = None
    """The run this one ran inside (a demo's stages)."""
    files: list[FileEntry] = field(default_factory=list)
    """The run's files with their hashes."""
    inputs: list[InputRef] = field(default_factory=list)
    """Files the run read."""

    def row(self) -> dict:
        """The ``runs`` table columns (JSON columns encoded)."""
        row = {k: v for k, v in asdict(self).items() if k not in ("files", "inputs")}
        row["parameters"] = json.dumps(self.parameters, sort_keys=True, default=str)
        row["summary"] = json.dumps(self.summary, sort_keys=True, default=str)
        return row

    @property
    def primary_path(self) -> Path:
        return Path(self.folder) / self.primary_file


SIDECAR_FIELDS = ("id", "kind", "name", "status", "started", "ended", "pid", "host", "pid_start", "parent_id")
"""What the sidecar stores (besides ``extra``: fields the run's own files lack, and ``inputs``)."""


def sidecar_path(primary: Path) -> Path:
    return primary.with_name(primary.stem + SIDECAR_SUFFIX)


def primary_of(sidecar: Path, data: dict) -> Path:
    return sidecar.with_name(data["primary_file"])


def write_sidecar(record: RunRecord, extra: dict) -> Path:
    """Write (atomically) the sidecar of ``record``; ``extra`` overrides fields read from the run's files."""
    path = sidecar_path(record.primary_path)
    data = {k: getattr(record, k) for k in SIDECAR_FIELDS}
    data.update(primary_file=record.primary_path.name, extra=extra, inputs=[asdict(i) for i in record.inputs])
    with replacing(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def read_sidecar(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "id" in data and "primary_file" in data else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entries(folder: Path, paths) -> list[FileEntry]:
    """Hash ``paths`` (sidecars excluded), relative to ``folder``."""
    out = []
    for p in sorted(set(paths)):
        if p.name.endswith(SIDECAR_SUFFIX) or p.name.endswith(TMP_SUFFIX) or not p.is_file():
            continue
        try:
            out.append(FileEntry(str(p.relative_to(folder)), sha256_file(p), p.stat().st_size))
        except OSError:  # deleted while we looked: the next reindex sees the folder as it is
            continue
    return out
