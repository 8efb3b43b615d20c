"""Read a run folder: the catalog row of a run from its own metadata files (and its sidecar).

The same function serves the live run and ``labctl runs reindex``, so both give the same row.
Runs without a sidecar (written before the catalog, or by another tool) are recognised by their
metadata files: ``<stem>.json`` of a procedure, a fitted model JSON, ``run.json`` of a training
run, ``summary.json`` of a demo.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .record import (
    SIDECAR_FIELDS,
    SIDECAR_SUFFIX,
    InputRef,
    RunRecord,
    file_entries,
    primary_of,
    read_sidecar,
)


def build_record(kind: str, primary: Path, sidecar: dict | None = None) -> RunRecord:
    """The catalog record of the run whose main file is ``primary``, overlaid with its sidecar."""
    primary = Path(primary).resolve()
    folder = primary.parent
    sidecar = sidecar or {}
    fields, files, inputs = READERS.get(kind, _read_generic)(primary)
    fields.update(sidecar.get("extra", {}))
    inputs += [InputRef(**i) for i in sidecar.get("inputs", []) if InputRef(**i) not in inputs]
    base = {k: sidecar[k] for k in SIDECAR_FIELDS if k in sidecar}
    base.setdefault("id", path_id(primary))
    base.setdefault("kind", kind)
    base.setdefault("name", fields.pop("name", None) or primary.stem)
    fields.pop("name", None)
    if "status" not in base:
        mtime = _iso_mtime(primary)
        base.update(status=fields.pop("status", "complete"), started=mtime, ended=mtime)
    fields.pop("status", None)
    return RunRecord(folder=str(folder), primary_file=primary.name, **base, **fields,
                     files=file_entries(folder, files + [primary]), inputs=inputs)


def path_id(primary: Path) -> str:
    """Id of a run found without a sidecar: a hash of where its main file is."""
    return hashlib.sha1(str(primary.resolve()).encode()).hexdigest()[:12]


def _iso_mtime(path: Path) -> str | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="microseconds")
    except OSError:
        return None


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- one reader per kind: (fields, files, inputs) ------------------------------------------------
PROCEDURE_STATUS = {"completed": "complete", "aborted": "interrupted", "running": "interrupted"}
"""Procedure JSON status -> catalog status, for runs without a sidecar (a "running" one is dead)."""


def _read_procedure(csv_path: Path):
    meta = _load_json(csv_path.with_suffix(".json"))
    params = meta.get("parameters", {})
    info = meta.get("metadata", {})
    backend = params.get("backend_spec")
    if backend == "bench file":
        backend = params.get("bench_file")
    temperature = str(info.get("Temperature", "")).split(" ")[0]
    fields = {"name": meta.get("procedure"), "parameters": params, "backend": backend,
              "chip_id": params.get("chip_id"), "device_ids": info.get("Device ids"),
              "seed": params.get("seed"), "model_id": params.get("model"),
              "git_revision": info.get("Git revision"), "instrument_idns": info.get("Instrument IDNs"),
              "temperature_k": float(temperature) if temperature else None,
              "summary": meta.get("summary", {}), "status": PROCEDURE_STATUS.get(meta.get("status"), "complete")}
    stem = csv_path.stem
    files = [p for p in csv_path.parent.iterdir() if p.stem == stem or p.name.startswith(stem + "_")]
    return fields, files, []


def _read_fit(model_json: Path):
    data = _load_json(model_json)
    prov = data.get("provenance", {})
    variation = data.get("weight", {}).get("variation", {})
    fields = {"name": data.get("name"), "model_id": data.get("name"),
              "summary": {"variation": variation, "symmetry_point": prov.get("symmetry_point"),
                          "fit_quality": prov.get("fit_quality"), "n_files": len(prov.get("files", []))}}
    inputs = [InputRef(f["sha256"], "data", f.get("path", "")) for f in prov.get("files", []) if f.get("sha256")]
    files = [p for p in model_json.parent.glob(model_json.stem + "_*.png")]
    return fields, files, inputs


def _read_train(run_json: Path):
    data = _load_json(run_json)
    config = data.get("config", {})
    about = (data.get("backends") or [{}])[0]  # the first layer's backend (describe())
    idns = about.get("instrument_idns")
    fields = {"name": config.get("algo"), "parameters": config, "backend": config.get("backend"),
              "model_id": config.get("model"), "seed": config.get("seed"), "summary": _last_metrics(run_json.parent),
              "chip_id": about.get("chip_id"),
              "instrument_idns": None if idns is None else "; ".join(f"{k}={v}" for k, v in idns.items()) or "none"}
    return fields, _folder_files(run_json.parent), []


def _last_metrics(folder: Path) -> dict:
    try:
        with open(folder / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError:
        return {}
    if not rows:
        return {}
    last = rows[-1]
    return {"epochs_done": int(last["epoch"]), "final_test_accuracy": float(last["test_accuracy"]),
            "pulses": sum(int(r["pulses"]) for r in rows), "energy_j": sum(float(r["energy_j"]) for r in rows)}


def _read_demo(summary_json: Path):
    data = _load_json(summary_json)
    fields = {"name": "demo", "seed": data.get("seed"), "model_id": data.get("chip_model"), "backend": "sim",
              "summary": {k: data[k] for k in ("train", "timing_s") if k in data}}
    return fields, [], []


def _read_generic(primary: Path):
    return {}, _folder_files(primary.parent), []


def _folder_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []


READERS = {"procedure": _read_procedure, "fit": _read_fit, "train": _read_train, "demo": _read_demo}


# -- finding runs under a root -------------------------------------------------------------------
def discover(root: Path) -> Iterator[tuple[str, Path, dict | None]]:
    """Every run under ``root`` as (kind, primary file, sidecar or None); sidecars win."""
    seen: set[Path] = set()
    candidates = []
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = Path(dirpath, name)
            if name.endswith(SIDECAR_SUFFIX):
                data = read_sidecar(path)
                if data is not None:
                    primary = primary_of(path, data).resolve()
                    seen.add(primary)
                    yield data["kind"], primary, data
            elif name.endswith(".json"):
                candidates.append(path)
    for path in candidates:
        found = _native_run(path)
        if found is not None and found[1].resolve() not in seen:
            yield found[0], found[1].resolve(), None


def _native_run(path: Path) -> tuple[str, Path] | None:
    data = _load_json(path)
    if "procedure" in data and "csv" in data and path.with_name(data["csv"]).exists():
        return "procedure", path.with_name(data["csv"])
    if path.name == "run.json" and "config" in data:
        return "train", path
    if isinstance(data.get("provenance"), dict) and data["provenance"].get("kind") == "fit":
        return "fit", path
    if path.name == "summary.json" and "characterise" in data:
        return "demo", path
    return None
