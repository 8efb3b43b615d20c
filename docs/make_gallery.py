"""Regenerate the plot gallery in docs/img/ and the sample data in docs/data/ from simulated runs.

Run from the repository root: ``python docs/make_gallery.py`` (a few minutes on two cores). Every
image comes from the public API (``labctl.run_procedure``, ``labctl.fit``) and the experiments behind
``labctl experiment garg-energy`` and ``vau-mse``, at small sizes, on the simulated chip with fixed
seeds, so a rerun reproduces the committed PNGs up to font rendering.
``--only plots|sample|fit|training|sparse|gui`` regenerates one part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import labctl  # noqa: E402

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
DATA = DOCS / "data"
SAMPLE_CSV = DATA / "other-lab-ltp-ltd.csv"
"""Another lab's LTP/LTD file as the Bring-your-own-data page uses it (made here from a simulation)."""

PROCEDURE_RUNS = [
    ("ltp_ltd", "garg-hzo-20ns", {"n_devices": 4, "pulses": 200}),
    ("symmetry_point", "garg-hzo-20ns", {"n_devices": 8, "widths_s": "2e-8,2e-6,2e-3",
                                         "amplitudes_v": "3.966,3.593,3.031", "alternating": 800}),
    ("retention", "ning-mos2-fefet", {"n_devices": 32, "levels": 8, "duration_s": 1000}),
    ("multistate", "ning-mos2-fefet", {"n_devices": 64, "levels": 16, "reads": 20}),
    ("transfer_curve", "ning-mos2-fefet", {"devices": "all"}),
    ("array_map", "ning-mos2-fefet", {"pattern": "gradient", "sparsity": 0.5}),
]
"""(procedure, model, parameters) of each procedure plot; every PNG a run writes is copied."""

WIDTH_MODELS = ("garg-hzo-20ns", "garg-hzo-2us", "garg-hzo-200us")
"""Pulse widths of the LTP/LTD-per-width figure (each preset's own operating point)."""

ENERGY_RUN = {"train_samples": 3000, "test_samples": 500, "target": 0.7, "max_epochs": 4, "layers": (784, 64, 10),
              "widths": ("20ns", "2us", "200us"), "algos": ("mpsgd", "sgd")}
"""The garg-energy experiment at gallery size (about a minute): 3 widths x 2 algorithms, 70 % target."""


def _save(fig, name: str) -> None:
    fig.tight_layout()
    fig.savefig(IMG / name, dpi=110)
    plt.close(fig)
    print(IMG / name)


def procedure_plots(tmp: Path) -> None:
    """The plots each procedure writes into its run folder, copied as they are."""
    for name, model, params in PROCEDURE_RUNS:
        _, folder = labctl.run_procedure(name, "sim", tmp / name, model=model, seed=1, **params)
        for png in sorted(folder.glob("*.png")):
            shutil.copy(png, IMG / png.name)
            print(IMG / png.name)


def ltp_ltd_per_width(tmp: Path) -> None:
    """Mean LTP/LTD trace of 8 devices per pulse width, normalised to each width's range."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for model in WIDTH_MODELS:
        df, _ = labctl.run_procedure("ltp_ltd", "sim", tmp / model, model=model, seed=1, n_devices=8, pulses=200)
        mean = df.groupby(["Phase", "Pulse"], sort=False)["Conductance (S)"].mean()
        trace = np.concatenate([mean["LTP"].to_numpy(), mean["LTD"].to_numpy()])
        ax.plot(np.arange(1, trace.size + 1), trace * 1e6, label=model.removeprefix("garg-hzo-"))
    ax.set(xlabel="pulse number (LTP, then LTD)", ylabel="mean conductance (uS)",
           title="LTP/LTD per pulse width (simulated garg-hzo presets)")
    ax.legend(title="width")
    _save(fig, "ltp_ltd_widths.png")


def sample_data(tmp: Path) -> None:
    """docs/data/other-lab-ltp-ltd.csv: foreign column names, resistance, negative pulses potentiate."""
    df, _ = labctl.run_procedure("ltp_ltd", "sim", tmp / "sample", model="garg-hzo-200ns", seed=7,
                                 n_devices=4, pulses=120)
    rows = []
    for (row, col, phase), train in df.groupby(["Device row", "Device col", "Phase"], sort=False):
        for pulse, amp, g in zip(train["Pulse"], train["Amplitude (V)"], train["Conductance (S)"]):
            rows.append({"device": f"r{row}c{col}", "pulse_no": int(pulse), "Vwrite": -float(amp),
                         "R_read_ohm": 1.0 / float(g)})
    DATA.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(SAMPLE_CSV, index=False, float_format="%.6g")
    print(SAMPLE_CSV)


def fit_plots(tmp: Path) -> None:
    """Fit the sample file as the Bring-your-own-data page does; copy the data-vs-fit plots."""
    result = labctl.fit(SAMPLE_CSV, tmp / "fit" / "model.json", pulse_col="pulse_no", amplitude_col="Vwrite",
                        resistance_col="R_read_ohm", width_s=200e-9, polarity="negative")
    for png in result.saved[1:]:
        shutil.copy(png, IMG / f"fit_{png.name.removeprefix('model_')}")
        print(IMG / f"fit_{png.name.removeprefix('model_')}")


def training_curves(tmp: Path) -> None:
    """The garg-energy experiment at gallery size: its own figure (accuracy and write energy per epoch)."""
    from labctl.training.experiment import EnergyExperiment, run_energy_experiment

    out = tmp / "garg-energy"
    run_energy_experiment(out, EnergyExperiment(**ENERGY_RUN), progress=False)
    shutil.copy(out / "energy_vs_epochs.png", IMG / "energy_vs_epochs.png")
    print(IMG / "energy_vs_epochs.png")


def vau_mse_plot(tmp: Path) -> None:
    """VAU error against sparsity: ``labctl experiment vau-mse --seeds 0`` (50 random updates per sparsity)."""
    from labctl.sparse.experiments import run_vau_mse

    run_vau_mse(tmp / "vau", runs=50, seeds=0, transactions_backend=None)
    shutil.copy(tmp / "vau" / "vau_mse.png", IMG / "vau_mse.png")
    print(IMG / "vau_mse.png")


def screenshots(tmp: Path) -> None:
    """The GUI screenshots: the test that runs each procedure's page of ``labctl gui`` grabs them here."""
    import subprocess

    env = {**os.environ, "LABCTL_GALLERY_DIR": str(IMG), "LABCTL_CATALOG": "off"}
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    str(DOCS.parent / "tests" / "procedures" / "test_gui_gallery.py")], env=env, check=True)
    for png in sorted(IMG.glob("gui_*.png")):
        print(png)


PARTS = {"plots": (procedure_plots, ltp_ltd_per_width), "sample": (sample_data,), "fit": (fit_plots,),
         "training": (training_curves,), "sparse": (vau_mse_plot,), "gui": (screenshots,)}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.only or PARTS:
            for make in PARTS[part]:
                make(Path(tmp))
