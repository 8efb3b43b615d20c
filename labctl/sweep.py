"""Parameter sweeps of simulated procedures and training runs on dask.distributed: one task per grid
point, one tidy table.

A procedure sweep spec (YAML)::

    kind: procedure                 # the default
    procedure: ltp_ltd              # any `labctl run --list` procedure
    backend: sim                    # sim | sim-instruments (never a real bench: refused)
    model: ning-mos2-fefet
    grid:                           # every combination is one run
      seed: [0, 1, 2]
      width_s: [1.0e-6, 1.0e-5]
    params: {pulses: 10, n_devices: 2}   # fixed procedure parameters
    retries: 2                      # a failed run is resubmitted this often, then reported as failed
    faults: []                      # optional --fault values for every run (simulated instruments)

``seed`` and ``model`` in the grid pick the simulated chip; every other grid key is a procedure
parameter.

A training sweep spec calls :func:`labctl.training.train` once per grid point::

    kind: train
    backend: sim                    # sim | sim-instruments (one 30x30 chip: a single layer)
    model: garg-hzo-20ns
    grid:
      algo: [sgd, mpsgd]            # train() arguments: algo, seed, model, epochs, layers, train_samples,
      lr: [0.1, 0.2]                # test_samples, and its options (lr, batch_size, max_pulses, gain, ...)
    params: {layers: [16, 10], epochs: 1, train_samples: 500, test_samples: 200}
    retries: 1

Each run writes its own folder ``DIR/runs/<k>/`` (a training run: its metrics.csv, run.json and
checkpoint); the gathered table ``DIR/sweep.csv`` (and ``sweep.parquet`` with pyarrow) has one row per
run: grid values, status, attempts, error, wall time and the procedure's scalar summary, or the
training's last-epoch metrics (``train_loss``, ``test_accuracy``) with its total ``pulses`` and
``energy_j``. Nothing is dropped: a run that still fails after its retries is a row with
``status = failed`` and its error.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from device_models.plotstyle import plots_wanted

from .errors import ConfigError, LabctlError, field_error

CHIP_KEYS = ("seed", "model")
"""Grid keys that pick the simulated chip rather than a procedure parameter."""
SIMULATED = ("sim", "sim-instruments")
KINDS = ("procedure", "train")
"""What a sweep fans out: bench procedures or training runs."""
TRAIN_KEYS = ("model", "algo", "epochs", "layers", "seed", "train_samples", "test_samples")
"""Arguments of :func:`labctl.training.train` a training sweep may set (besides its options)."""
TRAIN_FIXED = ("resume", "visa_log", "data")
"""Training options a sweep sets itself (each run starts fresh into its own folder)."""


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec."""

    procedure: str
    """Procedure name."""
    grid: dict[str, list]
    """Parameter -> values; the sweep runs every combination."""
    backend: str = "sim"
    """``sim`` or ``sim-instruments`` (or a bench file whose instruments are all ``sim://``)."""
    model: str = "ning-mos2-fefet"
    """Model preset or model JSON (unless ``model`` is a grid key)."""
    params: dict = field(default_factory=dict)
    """Fixed procedure parameters."""
    retries: int = 2
    """Resubmissions of a failed run before it is reported as failed."""
    faults: tuple[str, ...] = ()
    """``--fault`` values injected into every run."""
    kind: str = "procedure"
    """``procedure`` (``labctl run``) or ``train`` (:func:`labctl.training.train`; ``procedure`` is then "train")."""

    def points(self) -> list[dict]:
        """Every grid combination, in a stable order."""
        keys = list(self.grid)
        return [dict(zip(keys, combo)) for combo in itertools.product(*(self.grid[k] for k in keys))]


def load_sweep(path) -> SweepSpec:
    """Read and check a sweep spec; errors name the field. A real bench is refused."""
    import yaml

    from procedures import get_spec

    try:
        raw = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise field_error(ConfigError, "sweep spec", str(path), f"unreadable: {exc}") from exc
    if not isinstance(raw, dict):
        raise field_error(ConfigError, "sweep spec", str(path), "must be a mapping")
    unknown = set(raw) - {"kind", "procedure", "grid", "backend", "model", "params", "retries", "faults"}
    if unknown:
        raise field_error(ConfigError, sorted(unknown)[0], raw[sorted(unknown)[0]], "unknown sweep field")
    kind = str(raw.get("kind", "procedure"))
    if kind not in KINDS:
        raise field_error(ConfigError, "kind", kind, f"choose one of {', '.join(KINDS)}")
    if kind == "train":
        if "procedure" in raw or "faults" in raw:
            name = "procedure" if "procedure" in raw else "faults"
            raise field_error(ConfigError, name, raw[name], "not a field of a training sweep")
        raw = {**raw, "procedure": "train"}
    else:
        get_spec(str(raw.get("procedure")))
    grid = raw.get("grid") or {}
    if not isinstance(grid, dict) or not grid:
        raise field_error(ConfigError, "grid", grid, "must map parameter names to lists of values")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise field_error(ConfigError, f"grid.{key}", values, "must be a non-empty list")
    retries = raw.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise field_error(ConfigError, "retries", retries, "must be an integer 0..10")
    spec = SweepSpec(procedure=raw["procedure"], grid=grid, backend=str(raw.get("backend", "sim")),
                     model=str(raw.get("model", "ning-mos2-fefet")), params=dict(raw.get("params") or {}),
                     retries=retries, faults=tuple(raw.get("faults") or ()), kind=kind)
    refuse_real_bench(spec.backend)
    if kind == "train":
        from .training import TrainOptions

        own = set(TRAIN_KEYS) | (set(TrainOptions.__dataclass_fields__) - set(TRAIN_FIXED))
        where = "labctl.training.train"
    else:
        from procedures.params import describe

        own = {i.name for i in describe(get_spec(spec.procedure).params_cls)} | set(CHIP_KEYS)
        where = f"{spec.procedure}; see `labctl run --list`"
    for key in [*spec.params, *spec.grid]:
        if key not in own:
            raise field_error(ConfigError, key, (spec.grid.get(key) or spec.params.get(key)),
                              f"not a parameter of {where}")
    return spec


def refuse_real_bench(backend: str) -> None:
    """Real hardware is never fanned out: only simulated backends (or an all-``sim://`` bench file) pass."""
    if backend in SIMULATED:
        return
    from .backends import SIM_RESOURCE
    from .benchfile import load_bench

    config = load_bench(backend)
    if not all(r.startswith(SIM_RESOURCE) for r in (config.b1500_resource, *config.switches.values())):
        raise field_error(ConfigError, "backend", backend, "names a real bench: sweeps run on simulated backends only")


def run_point(spec: SweepSpec, point: dict, run_dir: str) -> dict:
    """One sweep run (executed on a worker): open the simulated backend, run, return one table row
    (``worker_pid`` says which worker process ran it)."""
    import os

    if spec.kind == "train":
        return {**train_point(spec, point, run_dir), "worker_pid": os.getpid()}
    from procedures import run_procedure

    from .backends import open_backend

    chip = {"seed": 0, "model": spec.model, **{k: point[k] for k in CHIP_KEYS if k in point}}
    params = {**spec.params, **{k: v for k, v in point.items() if k not in CHIP_KEYS}}
    t0 = time.perf_counter()
    with open_backend(spec.backend, model=chip["model"], seed=int(chip["seed"]), faults=spec.faults) as backend:
        df, csv = run_procedure(spec.procedure, backend, run_dir, **params)
    summary = {k: v for k, v in df.attrs.get("summary", {}).items() if isinstance(v, (int, float, str, bool))}
    return {**summary, "records": len(df), "csv": str(csv), "wall_s": time.perf_counter() - t0,
            "worker_pid": os.getpid()}


def train_point(spec: SweepSpec, point: dict, run_dir: str) -> dict:
    """One training run of a sweep: :func:`labctl.training.train` into ``run_dir``; its last-epoch metrics."""
    from .training import train

    args = {"model": spec.model, **spec.params, **point}
    t0 = time.perf_counter()
    metrics = train(spec.backend, out=run_dir, progress=False, **args)
    last = metrics.iloc[-1]
    return {"test_accuracy": float(last["test_accuracy"]), "train_loss": float(last["train_loss"]),
            "epochs": int(last["epoch"]), "pulses": int(metrics["pulses"].sum()),
            "energy_j": float(metrics["energy_j"].sum()), "out": str(run_dir), "wall_s": time.perf_counter() - t0}


REFUSED = "__refused__"
"""Key of a row whose point was refused by validation (:func:`refusals_as_rows`)."""


def refusals_as_rows(task: Callable[[SweepSpec, dict, str], dict], spec: SweepSpec, point: dict, run_dir: str) -> dict:
    """Run ``task``; a ``ConfigError`` (a bad value, a limit: the same on every attempt) comes back as a row
    naming it, so the point fails at once without retries and the worker logs no traceback."""
    try:
        return task(spec, point, run_dir)
    except ConfigError as exc:
        return {REFUSED: f"{type(exc).__name__}: {exc}".splitlines()[0]}


@dataclass
class SweepResult:
    """The gathered sweep."""

    table: pd.DataFrame
    """One row per grid point: grid values, status, attempts, error, wall_s, summary scalars."""
    failed: int
    """Runs that failed after all retries."""
    wall_s: float
    """Wall time of the whole sweep, in s."""


def run_sweep(spec: SweepSpec, client, out_dir, task: Callable[[SweepSpec, dict, str], dict] = run_point,
              say: Callable[[str], None] = print) -> SweepResult:
    """Submit every grid point to the dask ``client``, resubmit failures, gather one table.

    Each failure is reported through ``say`` as it happens, one line per point; a point still failing
    after ``spec.retries`` resubmissions becomes a ``failed`` row (never dropped). A point refused by
    validation (``ConfigError``: a parameter, a limit) fails at once: retrying it would fail the same way.
    """
    from distributed import as_completed

    out_dir = Path(out_dir)
    points = spec.points()
    t0 = time.perf_counter()
    attempts = dict.fromkeys(range(len(points)), 1)
    rows: dict[int, dict] = {}
    point_of: dict[str, int] = {}
    tag = f"sweep-{time.time_ns()}"

    def submit(k: int):
        future = client.submit(refusals_as_rows, task, spec, points[k], str(out_dir / "runs" / f"{k:04d}"),
                               pure=False, key=f"{tag}-{k}-try{attempts[k]}")
        point_of[future.key] = k
        return future

    pending = as_completed([submit(k) for k in range(len(points))])
    for future in pending:
        k = point_of[future.key]
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 (the task's error is the report)
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if attempts[k] <= spec.retries:
                say(f"run {k} {points[k]} failed (attempt {attempts[k]}): {error}; retrying")
                attempts[k] += 1
                pending.add(submit(k))
                continue
            say(f"run {k} {points[k]} FAILED after {attempts[k]} attempts: {error}")
            rows[k] = {"status": "failed", "error": error}
            continue
        if REFUSED in result:
            say(f"run {k} {points[k]} FAILED (refused, not retried): {result[REFUSED]}")
            rows[k] = {"status": "failed", "error": result[REFUSED]}
            continue
        rows[k] = {"status": "completed", "error": "", **result}
    table = pd.DataFrame([{"run": k, **points[k], "attempts": attempts[k], **rows[k]} for k in sorted(rows)])
    return SweepResult(table, int((table["status"] == "failed").sum()), time.perf_counter() - t0)


def write_outputs(result: SweepResult, spec: SweepSpec, out_dir) -> list[Path]:
    """``sweep.csv``, ``sweep.parquet`` (if pyarrow is installed) and ``sweep.png``; returns the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "sweep.csv"]
    result.table.to_csv(paths[0], index=False)
    try:
        import pyarrow  # noqa: F401

        paths.append(out_dir / "sweep.parquet")
        result.table.to_parquet(paths[-1], index=False)
    except ImportError:
        pass
    from .sweep_plot import plot_sweep

    if plots_wanted():
        paths.append(plot_sweep(result.table, spec, out_dir / "sweep.png"))
    return paths


def open_client(scheduler: str | None, workers: int = 2):
    """A dask client: to ``scheduler`` (``tcp://host:port``) or a new LocalCluster of ``workers`` processes.

    Returns (client, cluster or None); close both when done.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise LabctlError("labctl sweep needs dask.distributed: pip install 'labctl[sweep]'") from exc
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError) as exc:
            raise field_error(ConfigError, "--scheduler", scheduler, f"cannot connect: {exc}") from exc
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster
