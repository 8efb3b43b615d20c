"""Regenerate the plot gallery in docs/img/ and the sample data in docs/data/ from simulated runs.

Run from the repository root: ``python docs/make_gallery.py`` (a few minutes on two cores). Every
image comes from the public API (``labctl.run_procedure``, ``labctl.fit``, ``labctl.train``) on the
simulated chip with fixed seeds, so a rerun reproduces the committed PNGs up to font rendering.
``--only plots|sample|fit|training|gui`` regenerates one part.
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
    """Test accuracy and cumulative write energy per epoch, per pulse width, mixed-precision SGD."""
    fig, (acc, energy) = plt.subplots(1, 2, figsize=(9, 3.8))
    for model in ("garg-hzo-20ns", "garg-hzo-2us", "garg-hzo-200us"):
        df = labctl.train(model=model, algo="mpsgd", epochs=4, layers=(64, 32, 10), train_samples=6000,
                          test_samples=1000, seed=0, out=tmp / model, progress=False)
        label = model.removeprefix("garg-hzo-")
        acc.plot(df["epoch"], 100 * df["test_accuracy"], marker="o", label=label)
        energy.semilogy(df["epoch"], df["energy_j"].cumsum(), marker="o", label=label)
    acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="MNIST (PCA 64), 64-32-10, mpsgd")
    energy.set(xlabel="epoch", ylabel="cumulative write energy (J)", title="Schottky upper bound")
    acc.legend(title="width")
    _save(fig, "training_energy.png")


def screenshot(tmp: Path) -> None:
    """The LTP/LTD window of ``labctl gui`` after a short run, rendered offscreen."""
    from pymeasure.display.Qt import QtWidgets

    from labctl.commands.gui import make_window

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = make_window("ltp_ltd", str(tmp / "gui"))
    window.resize(1300, 800)
    window.show()
    procedure = window.make_procedure()
    procedure.pulses, procedure.n_devices = 60, 3
    done = []
    window.manager.finished.connect(lambda *_: done.append(1))
    window.queue(procedure)
    while not done:
        app.processEvents()
    for _ in range(20):
        app.processEvents()
    window.grab().save(str(IMG / "gui_ltp_ltd.png"))
    print(IMG / "gui_ltp_ltd.png")
    window.close()


PARTS = {"plots": (procedure_plots, ltp_ltd_per_width), "sample": (sample_data,), "fit": (fit_plots,),
         "training": (training_curves,), "gui": (screenshot,)}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(PARTS), action="append")
    args = parser.parse_args()
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for part in args.only or PARTS:
            for make in PARTS[part]:
                make(Path(tmp))
