"""The main job on the simulated chip, as ``make demo`` runs it: characterise -> fit -> train.

Each stage calls the same public functions a user would (procedures, fitting, training), so the
demo is also the end-to-end check that the pieces fit together. Everything lands in one run folder:

    characterise/  LTP/LTD CSV + plot, array map CSV + HDF5/npz + heat maps
    model.json     the model fitted to the LTP/LTD data, with fit plots next to it
    train/         metrics.csv, training-curve PNG, checkpoints
    summary.json   seed, models, versions, key figures
"""

from __future__ import annotations

import json
import platform
import time
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np

CHIP_MODEL = "ning-mos2-fefet"
"""The simulated chip the demo characterises."""


def default_run_dir(root: str | Path = "runs") -> Path:
    """A fresh ``runs/<timestamp>`` folder name."""
    return Path(root) / datetime.now().strftime("%Y%m%d-%H%M%S")


def run_demo(out: str | Path | None = None, quick: bool = False, seed: int = 0, progress: bool = True) -> dict:
    """Run the demo into ``out`` and return its summary (also written to ``out/summary.json``)."""
    from .catalog import recorded

    out = Path(out) if out is not None else default_run_dir()
    out.mkdir(parents=True, exist_ok=True)
    with recorded("demo", "demo", out / "summary.json", extra={"parameters": {"quick": quick, "seed": seed}}):
        return _run_demo(out, quick, seed, progress)  # its stages are cataloged as its children


def _run_demo(out: Path, quick: bool, seed: int, progress: bool) -> dict:
    from .api import fit as fit_model
    from .api import open_backend, run_procedure, train
    from .catalog import recorded

    timing = {}
    with _Stages(progress) as stages:
        with stages.stage("characterise", timing), open_backend("sim", model=CHIP_MODEL, seed=seed) as chip:
            ltp, _ = run_procedure("ltp_ltd", chip, out / "characterise", emit=stages.emit,
                                   n_devices=8 if quick else 32, pulses=150 if quick else 300)
            amap, _ = run_procedure("array_map", chip, out / "characterise", emit=stages.emit,
                                    write_verify=not quick)
        ltp_csv, map_csv = ltp.attrs["csv_path"], amap.attrs["csv_path"]
        with stages.stage("fit", timing), recorded("fit", "model", out / "model.json",
                                                    extra={"parameters": {"base_model": CHIP_MODEL}}):
            fit = fit_model([ltp_csv], out / "model.json", base_model=CHIP_MODEL)
    fit_files_written = fit.saved
    started = time.perf_counter()  # training shows its own progress bar
    metrics = train(backend="sim", model=out / "model.json", algo="mpsgd", epochs=1 if quick else 3,
                    layers=(784, 64, 10) if quick else (784, 256, 128, 10), seed=seed, out=out / "train",
                    train_samples=3000 if quick else 20000, test_samples=1000 if quick else 5000,
                    progress=progress)
    timing["train"] = time.perf_counter() - started

    summary = {
        "seed": seed,
        "quick": quick,
        "chip_model": CHIP_MODEL,
        "fitted_model": str((out / "model.json").name),
        "versions": {pkg: metadata.version(pkg) for pkg in ("labctl", "numpy", "pymeasure")}
        | {"python": platform.python_version()},
        "characterise": {"ltp_ltd_csv": str(ltp_csv.relative_to(out)), "ltp_ltd_points": len(ltp),
                         "array_map_csv": str(map_csv.relative_to(out)), "array_map_points": len(amap)},
        "fit": {"files": [str(Path(p).relative_to(out)) for p in fit_files_written],
                "report": _jsonable(fit.report)},
        "train": {"final_test_accuracy": float(metrics["test_accuracy"].iloc[-1]),
                  "pulses": int(metrics["pulses"].sum()), "energy_j": float(metrics["energy_j"].sum())},
        "timing_s": {f"{k}_s": round(v, 2) for k, v in timing.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _jsonable(report):
    """A fit report (DataFrame or dict) as plain JSON values."""
    if hasattr(report, "to_dict"):
        report = report.to_dict(orient="records")
    return json.loads(json.dumps(report, default=lambda v: v.item() if isinstance(v, np.generic) else str(v)))


class _Stages:
    """A rich progress display of the demo's stages; procedures report their progress through ``emit``."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("[bold]{task.description:<14}"), BarColumn(),
                            TextColumn("{task.percentage:>5.1f}%"), TimeElapsedColumn(), disable=not enabled)
        self.task = None

    def __enter__(self):
        self.bar.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.stop()

    def emit(self, topic: str, value) -> None:
        if topic == "progress" and self.task is not None:
            self.bar.update(self.task, completed=float(value))

    @contextmanager
    def stage(self, name: str, timing: dict):
        """Time a stage into ``timing[name]`` and show it as one bar."""
        self.task = self.bar.add_task(name, total=100)
        started = time.perf_counter()
        try:
            yield
        finally:
            timing[name] = time.perf_counter() - started
            self.bar.update(self.task, completed=100)
            self.task = None
