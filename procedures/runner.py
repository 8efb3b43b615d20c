"""Headless runs: ``run_procedure`` writes a pymeasure Results CSV point by point, then plots.

The CSV is written exactly as pymeasure's GUI Worker writes it (same ``Results`` header, same
formatter), so headless and GUI files are interchangeable; each record is appended and flushed as it
is emitted, so an interrupted run leaves a valid file up to its last point. Every backend operation
is journalled point by point (``<stem>.ops``, :mod:`procedures.replay`); ``resume=True`` reopens the
newest unfinished run of that procedure in ``out_dir`` and continues after its last complete point,
for every procedure. On a simulated chip or simulated instruments the bench's state is saved at each
point (``<stem>.chip.npz``) and restored on resume, so a resumed run ends with the same data as an
uninterrupted one (same seed), as on a real chip. Device faults seen in the measurements (a dead
line, a stuck device: :mod:`procedures.health`) stop the run with a ``DeviceFaultError``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from pymeasure.experiment import Results

from device_models.plotstyle import plots_wanted
from labctl.catalog import recorded
from labctl.errors import ConfigError, field_error

from .health import HealthMonitor
from .params import OPERATING_POINT_DEFAULTS, build, describe
from .provenance import write_run_json
from .registry import get_spec, procedure_class
from .replay import JournalledBackend, StateSaver, StopRequested, keep_records, load_journal, load_state
from .spec import never
from .wrapper import BENCH_FILE, COMMON_FIELDS

STATUS_RUNNING, STATUS_COMPLETED, STATUS_ABORTED, STATUS_FAILED = "running", "completed", "aborted", "failed"


def run_procedure(name: str, backend, out_dir, emit: Callable[[str, object], None] | None = None, *,
                  resume: bool = False, should_stop: Callable[[], bool] | None = None,
                  **params) -> tuple[pd.DataFrame, Path]:
    """Run procedure ``name`` on an open ``backend`` into ``out_dir``; return (records, CSV path).

    ``params`` are the procedure's parameters (``labctl run NAME --list``) plus ``model``, ``seed``,
    ``backend_spec`` and ``chip_id`` for the header (defaults: the backend's own). ``emit`` also
    receives every record and progress value. The backend is not closed (the caller owns it).
    ``df.attrs`` holds ``summary`` and ``status`` ("completed" or "aborted" when ``should_stop``).
    ``resume=True`` continues the newest unfinished run of ``name`` in ``out_dir`` after its last complete
    point (its parameters; a different value given now is refused). A device fault seen in the data
    raises :class:`procedures.health.DeviceFaultError` (the run stays resumable).
    """
    spec = get_spec(name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = _resume_path(spec.name, out_dir) if resume else None
    if resume and csv_path is None:
        raise field_error(ConfigError, "resume", str(out_dir), f"no unfinished {name} run in this folder")
    procedure = procedure_class(name)(backend=backend)
    if csv_path is not None:
        original = _recorded_parameters(csv_path)
        _same_chip(backend, original)
        params = _original_parameters(procedure, original, params)
    _set_parameters(procedure, backend, params)
    spec.preflight(backend, procedure.params(), procedure.chip_model())  # refused before any file or pulse
    procedure.record_applied()  # the header records what is sent, not 0, and the backend's chip id
    resuming = csv_path is not None
    csv_path = csv_path or _new_path(spec.name, out_dir)
    ops_file, state_file = csv_path.with_suffix(".ops"), csv_path.with_suffix(".chip.npz")
    state = backend.simulation
    replay, done = [], 0
    if resuming and state is not None and state_file.exists():
        snap, until = load_state(state_file)
        replay, done = load_journal(ops_file, until)
        state.restore(snap)  # the simulated bench continues exactly where it stopped
    elif resuming:
        replay, done = load_journal(ops_file)
    if resuming:
        keep_records(csv_path, done, Results.COMMENT)  # records of a point the journal does not hold

    results = Results(procedure, str(csv_path))
    procedure.startup()
    procedure.evaluate_metadata()
    if not resuming:
        results.store_metadata()
    meta = _meta(procedure, csv_path)
    write_run_json(csv_path.with_suffix(".json"), {**meta, "status": STATUS_RUNNING})
    backend.note_run(procedure=spec.name, csv=str(csv_path.resolve()), resumable=True)  # a bench's crash marker

    with recorded("procedure", spec.name, csv_path) as run:  # the run catalog: running -> complete/interrupted
        status = STATUS_ABORTED
        with open(csv_path, "a", encoding=Results.ENCODING) as data, open(ops_file, "a") as log:
            saver = None if state is None else StateSaver(state, state_file, done, len(replay))
            stop = should_stop or never
            journalled = JournalledBackend(backend, log, replay, done, on_point=saver,
                                           check=HealthMonitor(backend, procedure.chip_model()), stop=stop)

            def record(topic, value):
                if topic == "results":
                    journalled.recorded()
                    if journalled.records > done:  # replayed records are in the CSV already
                        data.write(results.format(value) + Results.LINE_BREAK)
                        data.flush()
                if emit is not None:
                    emit(topic, value)

            procedure.emit = record
            # a stop request takes effect between points (the procedure checks again there), so the data
            # and the journal never hold a half-done point and a resume continues where it stopped;
            # inside a point the journalled backend stops before the next operation (StopRequested)
            procedure.should_stop = lambda: journalled.between_points() and stop()
            procedure.backend = journalled
            try:
                procedure.execute()
                journalled.end_point()  # a stopped run resumes after its last point
                status = STATUS_ABORTED if stop() else STATUS_COMPLETED
            except StopRequested:
                status = STATUS_ABORTED
            finally:
                if saver is not None:
                    saver.flush()  # the last complete point's state, whatever ended the run
                procedure.backend = backend
                procedure.shutdown()
                write_run_json(csv_path.with_suffix(".json"), {**meta, "status": status})
        if status == STATUS_COMPLETED:
            ops_file.unlink(missing_ok=True)
            state_file.unlink(missing_ok=True)

        df = read_records(csv_path)
        write_outputs(procedure, csv_path, df, status)
        run.status = "complete" if status == STATUS_COMPLETED else "interrupted"
    return df, csv_path


def write_outputs(procedure, csv_path: Path, df: pd.DataFrame, status: str) -> dict:
    """Summary, plots and run metadata (``<stem>.json``) of a finished or stopped run; returns the summary.

    Also stores ``summary`` and ``status`` in ``df.attrs``.
    """
    spec = procedure.spec
    summary = spec.analyse(df, procedure.params(), procedure.chip_model()) if len(df) else {}
    stem, written = csv_path.with_suffix(""), []
    if len(df):  # the PNGs unless LABCTL_PLOTS=0, then the data files a procedure keeps besides the CSV
        written = [*(spec.plot(df, summary, stem) if plots_wanted() else []), *(spec.save(df, summary, stem) if spec.save else [])]
    plots = [p.name for p in written]
    write_run_json(csv_path.with_suffix(".json"), {**_meta(procedure, csv_path), "status": status,
                                                   "summary": summary, "plots": plots})
    df.attrs.update(summary=summary, status=status)
    return summary


def mark_failed(procedure, csv_path: Path, reason: str) -> None:
    """A failed run's files say so: a last comment line in the CSV, and ``<stem>.json`` with status and reason."""
    with open(csv_path, "a", encoding=Results.ENCODING) as data:
        data.write(f"{Results.COMMENT}\tStatus: {STATUS_FAILED}: {reason}{Results.LINE_BREAK}")
    write_run_json(csv_path.with_suffix(".json"), {"procedure": procedure.spec.name, "csv": csv_path.name,
                                                   "parameters": procedure.parameter_values(),
                                                   "status": STATUS_FAILED, "error": reason})


def _meta(procedure, csv_path: Path) -> dict:
    return {"procedure": procedure.spec.name, "csv": csv_path.name, "parameters": procedure.parameter_values(),
            "metadata": {m.name: str(m) for m in procedure.metadata_objects().values()},
            "backend": procedure.backend.describe().to_dict()}


def read_records(csv_path: Path) -> pd.DataFrame:
    """The data table of a Results CSV (header lines skipped)."""
    return pd.read_csv(csv_path, comment=Results.COMMENT)


def _set_parameters(procedure, backend, params: dict) -> None:
    own = {i.name for i in describe(procedure.spec.params_cls)}
    about = backend.describe()  # the header says what the backend is, unless the caller names it
    defaults = {"model": about.model, "seed": about.seed or 0}
    values = {**defaults, **params}
    spec = values.pop("backend_spec", about.source)
    if spec not in ("sim", "sim-instruments"):  # a bench file path
        values.update(backend_spec=BENCH_FILE, bench_file=str(spec))
    else:
        values["backend_spec"] = spec
    for key, value in values.items():
        if key not in own and key not in COMMON_FIELDS:
            raise field_error(ConfigError, key, value,
                              f"unknown parameter of {procedure.spec.name}; see `labctl run --list`")
        setattr(procedure, key, value)


def interrupted_run(name: str, out_dir) -> dict | None:
    """Parameters of the newest unfinished run of ``name`` in ``out_dir`` (what ``--resume`` continues;
    its ``model`` and ``seed`` open the same chip), or None."""
    csv_path = _resume_path(name, Path(out_dir)) if Path(out_dir).is_dir() else None
    return None if csv_path is None else _recorded_parameters(csv_path)


def _recorded_parameters(csv_path: Path) -> dict:
    """The parameters a run recorded in its JSON (``model`` and ``seed`` among them)."""
    import json

    return json.loads(csv_path.with_suffix(".json").read_text())["parameters"]


def _same_chip(backend, original: dict) -> None:
    """A resume continues on the chip the run started on (``original``: its recorded parameters): another model
    (or, simulated, another seed) is refused, naming the value to give (a restored state on another chip's
    devices would be nonsense data)."""
    about = backend.describe()
    checks = [("model", about.model)] + ([("seed", about.seed or 0)] if backend.simulation is not None else [])
    for key, now in checks:
        if key in original and str(original[key]) != str(now):
            raise field_error(ConfigError, key, now, f"the interrupted run used {key} {original[key]}: "
                              f"resume with --{key} {original[key]}")


def _original_parameters(procedure, original: dict, given: dict) -> dict:
    """The interrupted run's procedure parameters (of its recorded ``original``); a different value given now
    is refused."""
    own = {i.name for i in describe(procedure.spec.params_cls)}
    reference = procedure.spec.params_cls(**{k: v for k, v in original.items() if k in own})
    for key, value in given.items():
        parsed = getattr(build(procedure.spec.params_cls, {key: value}), key) if key in own else None
        if key in OPERATING_POINT_DEFAULTS and parsed == 0:
            continue  # "the model's operating point": the original records the value it stood for
        if key in own and parsed != getattr(reference, key):
            raise field_error(ConfigError, key, value, f"differs from the interrupted run ({getattr(reference, key)!r})")
    return {**{k: v for k, v in original.items() if k in own}, **given}


def _new_path(name: str, out_dir: Path) -> Path:
    path, k = out_dir / f"{name}.csv", 1
    while path.exists():
        k += 1
        path = out_dir / f"{name}-{k:03d}.csv"
    return path


def _resume_path(name: str, out_dir: Path) -> Path | None:
    """The newest run of ``name`` in ``out_dir`` still marked running or aborted."""
    import json

    candidates = []
    for meta in out_dir.glob(f"{name}*.json"):
        try:
            record = json.loads(meta.read_text())
        except ValueError:
            continue
        csv = meta.with_suffix(".csv")
        if record.get("procedure") == name and record.get("status") != STATUS_COMPLETED and csv.exists():
            candidates.append((csv.stat().st_mtime, csv))
    return max(candidates)[1] if candidates else None
