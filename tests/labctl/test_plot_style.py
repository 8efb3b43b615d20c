"""Fit, sweep and training figures: scaled to what matters, named as the report, integer epochs, SI units."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from device_models import plotstyle

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "data" / "other-lab-ltp-ltd.csv"


def test_si_scale_puts_the_prefix_in_the_unit():
    assert plotstyle.si_scale([2e-7, 5.1e-6], "S") == (pytest.approx(1e6), "µS")
    assert plotstyle.si_scale([3e-13], "A") == (pytest.approx(1e15), "fA")
    assert plotstyle.si_scale([0.5, 12.0], "V") == (1.0, "V")
    assert plotstyle.si_scale([np.nan], "S") == (1.0, "S")


@pytest.fixture(scope="module")
def sample_fit():
    """The Bring-your-own-data fit, whose rejected LTD poly5 shoots up near G = 1."""
    import labctl

    return labctl.fit(SAMPLE, pulse_col="pulse_no", amplitude_col="Vwrite", resistance_col="R_read_ohm",
                      width_s=200e-9, polarity="negative")


def test_step_plot_is_scaled_to_the_data_and_the_chosen_fit(sample_fit):
    from device_models.fitting.plots import steps_figure

    fig = steps_figure(sample_fit)
    fig.canvas.draw()
    (ax,) = fig.axes
    bottom, top = ax.get_ylim()
    measured = np.concatenate([line.get_ydata() for line in ax.lines if line.get_linestyle() == "None"])
    chosen = np.concatenate([line.get_ydata() for line in ax.lines if line.get_linestyle() == "-"])
    rejected = np.concatenate([line.get_ydata() for line in ax.lines if line.get_linestyle() == ":"])
    shown = np.concatenate([measured[np.isfinite(measured)], chosen])
    assert bottom <= shown.min() and shown.max() <= top <= 1.1 * shown.max()
    assert rejected.max() > 2 * top  # the rejected extrapolation is cut off, not what sets the scale


def test_fit_plots_name_fits_as_the_report_does(sample_fit):
    from device_models.fitting.plots import steps_figure, trains_figure

    labels = [t.get_text() for t in steps_figure(sample_fit).axes[0].get_legend().get_texts()]
    for phase, row in sample_fit.report.iterrows():
        assert any(label.startswith(f"{phase}: {row['model']}, chosen") for label in labels)
    assert not any("power" in label or "polynomial" in label for label in labels)
    fig = trains_figure(sample_fit)
    fig.canvas.draw()
    assert fig.axes[0].get_ylabel() == "conductance (µS)"
    assert fig.axes[0].yaxis.get_offset_text().get_text() == ""
    assert any(f"fit: {sample_fit.report.loc['LTP', 'model']}" in t.get_text()
               for t in fig.axes[-1].get_legend().get_texts())


def test_sweep_plots_the_swept_parameter_against_the_measured_value():
    from labctl.sweep import SweepSpec
    from labctl.sweep_plot import sweep_figure

    spec = SweepSpec(procedure="ltp_ltd", grid={"seed": [0, 1], "pulses": [20, 40]})
    table = pd.DataFrame({"run": range(4), "seed": [0, 0, 1, 1], "pulses": [20, 40, 20, 40],
                          "attempts": 1, "status": "completed", "devices": 2,
                          "on_off_ratio": [1.77, 2.0, 1.56, 2.23], "wall_s": [3.0, 1.0, 1.1, 1.0]})
    fig = sweep_figure(table, spec)
    (ax,) = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("pulses", "on_off_ratio")  # not a constant against the seed
    mean = next(line for line in ax.lines if line.get_linestyle() == "-")
    assert list(mean.get_xdata()) == [20, 40] and list(mean.get_ydata()) == pytest.approx([1.665, 2.115])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["mean of 2 seeds", "single seeds (2)"] and not any("(20,)" in label for label in labels)


def test_sweep_lines_per_other_key_are_labelled_key_value():
    from labctl.sweep import SweepSpec
    from labctl.sweep_plot import sweep_figure

    spec = SweepSpec(procedure="train", grid={"algo": ["sgd", "mpsgd"], "lr": [0.1, 0.2]}, kind="train")
    table = pd.DataFrame({"algo": ["sgd", "sgd", "mpsgd", "mpsgd"], "lr": [0.1, 0.2, 0.1, 0.2],
                          "status": "completed", "test_accuracy": [0.5, 0.6, 0.7, 0.8],
                          "pulses": [10, 20, 30, 40]})
    fig = sweep_figure(table, spec)
    assert [ax.get_xlabel() for ax in fig.axes] == ["lr", "lr"]
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == ["algo=mpsgd", "algo=sgd"]


def test_training_curve_ticks_whole_epochs():
    from labctl.training.plots import training_figure

    rows = [{"epoch": e, "train_loss": 2.0 / e, "test_accuracy": 0.5 + 0.1 * e} for e in (1, 2, 3)]
    fig = training_figure(rows)
    fig.canvas.draw()
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)  # was 1.00, 1.25, ... 3.00


def test_log_axes_over_many_decades_lose_their_minor_ticks_few_decades_keep_them():
    from matplotlib.figure import Figure

    fig = Figure()
    wide, narrow = fig.subplots(1, 2)
    wide.semilogy([0, 1], [1e-14, 1e-6])  # Id-Vg currents: 8 decades
    narrow.semilogy([0, 1], [1.0, 100.0])
    plotstyle.finish(fig)
    fig.canvas.draw()
    assert len(wide.yaxis.get_minorticklocs()) == 0 and len(wide.yaxis.get_majorticklocs()) >= 5
    assert len(narrow.yaxis.get_minorticklocs()) >= 8


def test_retention_fit_plot_reads_in_si_prefixed_units(tmp_path, monkeypatch):
    from device_models.fitting import retention_plot
    from device_models.fitting.retention import TEN_YEARS_S, fit_retention, predict

    t_s = np.linspace(0, 6000, 11)
    g = predict("relaxation", {"g0_s": 10e-6, "g_inf_s": 4e-6, "t0_s": 10.0, "nu": 0.15}, t_s)
    saved = []
    monkeypatch.setattr(plotstyle, "save_png", lambda fig, path, dpi: saved.append(fig) or path)
    retention_plot.save_retention_plot(fit_retention(t_s, g, TEN_YEARS_S, 0), tmp_path / "r.png")
    (ax,) = saved[0].axes
    assert ax.get_ylabel() == "conductance (µS)" and 4 < max(ax.get_ylim()) < 12
    assert any(" µS [" in t.get_text() for t in ax.get_legend().get_texts())
