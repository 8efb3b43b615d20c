"""The GUI's guard against PySide6 6.12 dropping references to None/True (see labctl.gui.refguard)."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
pytest.importorskip("PySide6", reason="GUI extra not installed")
pytest.importorskip("pytestqt", reason="pytest-qt not installed")

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402

from labctl.gui import refguard  # noqa: E402


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal from Python 3.12")
def test_top_up_restores_what_live_plot_updates_drop(qapp):
    item = pg.PlotDataItem()
    x = np.arange(50.0)
    refguard.top_up()
    before = sys.getrefcount(None)
    for _ in range(500):  # a live curve's updates: 100 s of one curve at pyqtgraph's 5 Hz
        item.setData(x, x)
    lost = before - sys.getrefcount(None)
    if lost <= 0:
        pytest.skip("this PySide6 keeps its references: nothing to guard")
    refguard.top_up()
    assert sys.getrefcount(None) >= refguard.SPARE and sys.getrefcount(True) >= refguard.SPARE
