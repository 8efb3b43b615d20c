"""One convention for every figure labctl writes (procedures, fits, training, sweeps).

Units: the SI prefix goes into the axis label ("conductance (µS)") and the ticks carry plain
numbers, never an offset or a ``1e-6`` multiplier in the corner. Legends sit outside the axes, so
they never cover data. Many devices: the median and the 10-90 % band with a few example devices
(:func:`spread_band`), not one coloured line and one legend entry per device. Lives in
``device_models`` (the lowest layer) so the fit plots can use it too; it holds no physics.
"""

from __future__ import annotations

import os

import numpy as np

PLOTS_ENV = "LABCTL_PLOTS"
"""``LABCTL_PLOTS=0`` in the environment: runs, trainings, fits, sweeps and experiments write no PNG."""


def plots_wanted() -> bool:
    """Whether to draw the PNGs. Off (``LABCTL_PLOTS=0``) for headless batch work: drawing a figure costs
    0.1-0.3 s of CPU, often more than the simulated run it shows (the test suite draws only in the tests
    that look at plots). The data, summaries and run records are written either way."""
    return os.environ.get(PLOTS_ENV, "1") != "0"

PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
"""SI prefixes by power of ten."""

MANY_DEVICES = 8
"""Above this many devices a figure shows median, 10-90 % band and :data:`EXAMPLES` devices."""
EXAMPLES = 3
"""Example devices drawn over the band."""
MINOR_DECADES = 3
"""A log axis spanning more decades than this gets no minor ticks (:func:`finish`)."""


def si_scale(values, unit: str) -> tuple[float, str]:
    """(factor, prefixed unit) so that ``values * factor`` reads in ``[1, 1000)``: 3e-6 S -> (1e6, "µS")."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if not finite.size:
        return 1.0, unit
    power = int(np.clip(3 * np.floor(np.log10(finite.max()) / 3), min(PREFIXES), max(PREFIXES)))
    return 10.0 ** -power, f"{PREFIXES[power]}{unit}"


def scaled(values, quantity: str, unit: str) -> tuple[np.ndarray, str]:
    """``values`` in the prefixed unit and the axis label ``"quantity (prefixed unit)"``."""
    factor, prefixed = si_scale(values, unit)
    return np.asarray(values, dtype=float) * factor, f"{quantity} ({prefixed})"


def plain_ticks(ax) -> None:
    """No offset text and no scientific multiplier on the linear axes of ``ax``."""
    from matplotlib.ticker import ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        formatter = axis.get_major_formatter()
        if type(formatter) is ScalarFormatter:  # linear numeric axes (not log, not categories)
            formatter.set_useOffset(False)
            formatter.set_scientific(False)


def legend_outside(ax, **kwargs):
    """The legend of ``ax`` to the right of the axes (a constrained or tight layout makes room).

    One entry per label: curves drawn in parts (two sweep branches) share their entry.
    """
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    return ax.legend(unique.values(), unique.keys(), loc="upper left", bbox_to_anchor=(1.02, 1.0),
                     borderaxespad=0.0, fontsize="small", **kwargs)


def integer_ticks(axis) -> None:
    """Ticks at whole numbers only (epochs, pulses, levels)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def examples(rank_by) -> np.ndarray:
    """Indices of :data:`EXAMPLES` rows at the 10th to 90th percentile of ``rank_by`` (edges and middle)."""
    rank_by = np.asarray(rank_by, dtype=float)
    order = np.argsort(np.where(np.isfinite(rank_by), rank_by, np.nanmedian(rank_by)))
    return order[np.unique(np.round(np.linspace(0.1, 0.9, EXAMPLES) * (len(order) - 1)).astype(int))]


def spread_band(ax, x, traces, labels, picks=None, colour: str = "C0", what: str = "devices", marker: str = ".-") -> None:
    """Traces (one row per device) on ``ax``: each one if few, else median, 10-90 % band and examples.

    ``labels`` names each row ("r3 c7"); ``picks`` are the example rows (default: by the last value,
    :func:`examples`).
    """
    traces = np.asarray(traces, dtype=float)
    if len(traces) <= MANY_DEVICES:
        for k, (row, label) in enumerate(zip(traces, labels)):
            ax.plot(x, row, marker, ms=2.5, lw=0.8, color=f"C{k}", label=label)
        return
    lo, median, hi = np.nanpercentile(traces, [10, 50, 90], axis=0)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.25, lw=0, label=f"10-90 % of {len(traces)} {what}")
    ax.plot(x, median, color=colour, lw=1.6, label=f"median of {len(traces)} {what}")
    picks = examples(traces[:, -1]) if picks is None else picks
    for k, idx in enumerate(picks):
        ax.plot(x, traces[idx], lw=0.7, color="0.35", ls=("-", "--", ":")[k % 3], label=f"example {labels[idx]}")


def finish(fig) -> None:
    """Last touches before ``fig`` is saved, which cut what matplotlib redoes on each of its layout passes.

    Each pass asks every axis, spine and title for its box, and each ask updates all the axis' ticks
    (~20 updates a tick per save). So: no minor ticks on a log axis of more than
    :data:`MINOR_DECADES` (at 8 a decade over 9 decades they blur into a grey comb and are most of
    the figure's artists: a third of such a plot's CPU), and spines out of the layout (their box is
    inside the tick labels' boxes, which stay in it: the same positions, the same pixels).
    """
    from matplotlib.ticker import NullLocator

    for ax in fig.axes:
        for spine in ax.spines.values():
            spine.set_in_layout(False)
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() == "log" and lo > 0 and hi > 0 and abs(np.log10(hi / lo)) > MINOR_DECADES:
                axis.set_minor_locator(NullLocator())


def save_png(fig, path, dpi: int = 110):
    """:func:`finish` ``fig`` and write it to ``path`` as PNG; return ``path``.

    zlib level 1, not Pillow's 6: the same pixels, files 2-10 % larger, encoding ~30 % faster
    (a figure's 12-30 ms of encoding is 5-10 % of its save).
    """
    finish(fig)
    fig.savefig(path, dpi=dpi, pil_kwargs={"compress_level": 1})
    return path
