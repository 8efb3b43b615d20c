"""Regenerate docs/img/: one plot of each procedure on the simulated chip and an offscreen GUI screenshot.

Run from the repository root: ``python docs/make_procedure_images.py`` (about a minute).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from labctl.backends import open_backend  # noqa: E402
from procedures import run_procedure  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"

RUNS = [
    ("ltp_ltd", "garg-hzo-20ns", {"n_devices": 4, "pulses": 200}),
    ("symmetry_point", "garg-hzo-20ns", {"n_devices": 8, "widths_s": "2e-8,2e-6,2e-3",
                                         "amplitudes_v": "3.966,3.593,3.031", "alternating": 800}),
    ("retention", "ning-mos2-fefet", {"n_devices": 32, "levels": 8, "duration_s": 1000}),
    ("multistate", "ning-mos2-fefet", {"n_devices": 64, "levels": 16, "reads": 20}),
    ("transfer_curve", "ning-mos2-fefet", {"devices": "all"}),
    ("array_map", "ning-mos2-fefet", {"pattern": "gradient", "sparsity": 0.5}),
]


def plots() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, model, params in RUNS:
            with open_backend("sim", model=model, seed=1) as chip:
                _, csv = run_procedure(name, chip, Path(tmp) / name, **params)
            for png in csv.parent.glob("*.png"):
                shutil.copy(png, IMG / f"{name}.png")
                print(IMG / f"{name}.png")


def screenshot() -> None:
    from pymeasure.display.Qt import QtWidgets

    from labctl.commands.gui import make_window

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        window = make_window("ltp_ltd", tmp)
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


if __name__ == "__main__":
    IMG.mkdir(exist_ok=True)
    plots()
    screenshot()
