"""Procedure plots read at a glance: a band for many devices, legends outside, SI units, no fit through 2 points."""

from __future__ import annotations

import numpy as np
import pytest

import procedures.plotting as plotting
from procedures import run_procedure

pytestmark = pytest.mark.plots


@pytest.fixture
def figures(monkeypatch):
    """The figures the procedures save, kept for inspection (drawn, so legends and ticks are laid out)."""
    kept = []
    save = plotting.save

    def keep(fig, stem, suffix):
        kept.append(fig)
        path = save(fig, stem, suffix)
        fig.canvas.draw()
        return path

    monkeypatch.setattr(plotting, "save", keep)
    return kept


def _legend_outside(ax):
    legend = ax.get_legend()
    return legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_many_devices_draw_median_band_and_examples_with_the_legend_outside(ning, tmp_path, figures):
    run_procedure("ltp_ltd", ning, tmp_path, n_devices=32, pulses=10)
    (ax,) = figures[0].axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) <= 5  # was one entry per device (32)
    assert "median of 32 devices" in labels and "10-90 % of 32 devices" in labels
    assert sum(label.startswith("example r") for label in labels) == 3
    assert len(ax.lines) <= 6 and ax.collections  # median + examples + phase marker; the band
    assert _legend_outside(ax)
    assert ax.get_ylabel() == "conductance (µS)" and ax.yaxis.get_offset_text().get_text() == ""
    assert all(float(t).is_integer() for t in ax.get_xticks())


def test_few_devices_draw_one_line_each(ning, tmp_path, figures):
    run_procedure("ltp_ltd", ning, tmp_path, n_devices=3, pulses=5)
    (ax,) = figures[0].axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == 3 and all(label.startswith("r") and " c" in label for label in labels)
    assert _legend_outside(ax)


def test_two_transfer_curves_get_no_normal_fit(ning, tmp_path, figures):
    run_procedure("transfer_curve", ning, tmp_path, n_devices=2, gate_step_v=0.2)
    ax_mw = figures[0].axes[1]
    assert "+/-" not in ax_mw.get_title() and "a normal fit needs 8" in ax_mw.get_title()
    assert [len(line.get_xdata()) for line in ax_mw.lines] == [2]  # the two values, no fitted curve


def test_enough_transfer_curves_get_the_normal_fit(ning, tmp_path, figures):
    run_procedure("transfer_curve", ning, tmp_path, n_devices=10, gate_step_v=0.2)
    ax_iv, ax_mw = figures[0].axes[:2]
    assert "normal fit, 10 devices" in ax_mw.get_title()
    assert any(len(line.get_xdata()) == 200 for line in ax_mw.lines)
    assert _legend_outside(ax_iv) and len(ax_iv.get_legend().get_texts()) == 5


def test_map_colour_bars_carry_a_few_round_ticks(ning, tmp_path, figures):
    run_procedure("array_map", ning, tmp_path, rows=2, write_verify=False)
    bars = [ax for ax in figures[0].axes if ax.get_label() == "<colorbar>"]
    assert len(bars) >= 2
    for bar in bars:
        lo, hi = sorted(bar.get_ylim())
        ticks = [t for t in bar.get_yticks() if lo <= t <= hi]
        steps = {round(float(s) / 10 ** np.floor(np.log10(s)), 6) for s in np.diff(ticks)}
        assert 2 <= len(ticks) <= 6 and steps <= {1.0, 2.0, 5.0}  # was ~9 ticks, 0.16 / 0.08 steps with 5 bins
