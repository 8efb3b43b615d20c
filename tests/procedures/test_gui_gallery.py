"""A screenshot of every procedure's GUI page after a short run: the docs gallery's GUI images.

Each test runs one procedure in the ``labctl gui`` window (procedure chooser on top), then grabs the
window offscreen and checks the picture holds a plot. The PNGs go to ``$LABCTL_GALLERY_DIR`` when
set (``python docs/make_gallery.py --only gui`` sets it to docs/img), else to the test's tmp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

from labctl.gui import ChooserWindow  # noqa: E402
from procedures import NAMES  # noqa: E402

SHOWN_RUNS = {
    "ltp_ltd": {"n_devices": 4, "pulses": 60},
    "symmetry_point": {"n_devices": 2, "pulses": 20, "alternating": 40, "bound_pulses": 20},
    "retention": {"n_devices": 4, "levels": 4, "duration_s": 100.0, "points": 6, "reads_per_point": 1},
    "multistate": {"n_devices": 16, "levels": 4, "reads": 2},
    "transfer_curve": {"n_devices": 4, "gate_step_v": 0.1},
    "array_map": {"write_verify": False},
}
"""Parameters of each screenshot's run: enough points to show the plot, a few seconds each."""


def test_every_procedure_has_a_screenshot():
    assert set(SHOWN_RUNS) == set(NAMES)


@pytest.mark.parametrize("name", list(NAMES))
def test_screenshot_of_each_procedure_page(qtbot, tmp_path, name):
    chooser = ChooserWindow(list(NAMES), tmp_path / "runs")
    qtbot.addWidget(chooser)
    window = chooser.show_procedure(name)
    procedure = window.make_procedure()
    for key, value in SHOWN_RUNS[name].items():
        setattr(procedure, key, value)
    window.set_parameters(procedure.parameter_objects())  # the panel shows what ran
    with qtbot.waitSignal(window.manager.finished, timeout=120_000):  # run unshown: no paint racing the worker
        window.queue(procedure)
    chooser.resize(1300, 820)
    chooser.show()
    qtbot.waitExposed(chooser)
    qtbot.wait(300)  # the plots' refresh timers
    image = chooser.grab().toImage()
    out = Path(os.environ.get("LABCTL_GALLERY_DIR") or tmp_path) / f"gui_{name}.png"
    assert image.save(str(out))
    assert (image.width(), image.height()) == (1300, 820)
    colours = {image.pixel(x, y) for x in range(400, 1300, 9) for y in range(60, 500, 9)}
    assert len(colours) > 8, "the plot area is blank"
