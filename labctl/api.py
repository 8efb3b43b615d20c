"""The notebook API: four calls that take a chip from measurement to a trained network.

``labctl.open_backend``, ``labctl.run_procedure``, ``labctl.fit`` and ``labctl.train`` are what the
CLI commands ``run``, ``fit`` and ``train`` call; a script or notebook gets the same files and
numbers as the command line. All quantities are SI (V, s, S, A, J).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .backend import ArrayBackend
from .backends import open_backend
from .training import train

if TYPE_CHECKING:  # the fitting stack (scipy) loads when fit() runs: 0.45 s of every `labctl run` otherwise
    from device_models.fitting import FitResult

__all__ = ["fit", "open_backend", "run_procedure", "train"]

DEFAULT_CHIP_MODEL = "ning-mos2-fefet"
"""Model of the simulated chip a backend spec string opens (the CLI's ``--model`` default)."""


def run_procedure(name: str, backend: ArrayBackend | str = "sim", out: str | Path | None = None, *,
                  model: str = DEFAULT_CHIP_MODEL, seed: int = 0,
                  emit: Callable[[str, object], None] | None = None, resume: bool = False,
                  should_stop: Callable[[], bool] | None = None, **params) -> tuple[pd.DataFrame, Path]:
    """Run bench procedure ``name`` and return ``(records, run folder)``.

    ``backend`` is an open backend (left open: the caller owns it) or a spec string (``"sim"``,
    ``"sim-instruments"``, ``"bench.yaml"``) opened with ``model`` and ``seed`` and closed after the
    run. The CSV header and run JSON describe the backend as ``backend.describe()`` does (kind, bench
    file, chip id ``<spec>-seed<seed>`` unless ``chip_id`` is given, model, seed, instrument IDNs). ``out``
    is the run folder (default ``runs``); it receives ``<name>.csv`` (pymeasure Results:
    parameters in the ``#`` header, one record per point in SI units), ``<name>.json`` (status,
    parameters, summary) and PNG plots. ``params`` are the procedure's parameters in SI units
    (``labctl run --list`` prints them). ``df.attrs`` holds ``csv_path``, ``summary`` and ``status``
    ("completed", or "aborted" when ``should_stop`` returned True).

    >>> import tempfile
    >>> df, folder = run_procedure("ltp_ltd", "sim", tempfile.mkdtemp(), model="garg-hzo-20ns",
    ...                            n_devices=2, pulses=20)
    >>> df.attrs["status"], sorted(p.name for p in folder.iterdir())
    ('completed', ['ltp_ltd.catalog.json', 'ltp_ltd.csv', 'ltp_ltd.json', 'ltp_ltd_conductance.png'])
    >>> bool((df["Conductance (S)"] > 0).all())
    True
    """
    from procedures import run_procedure as run_into

    folder = Path("runs" if out is None else out)
    if isinstance(backend, str):
        with open_backend(backend, model=model, seed=seed) as chip:
            df, csv = run_into(name, chip, folder, emit, resume=resume, should_stop=should_stop, **params)
    else:
        df, csv = run_into(name, backend, folder, emit, resume=resume, should_stop=should_stop, **params)
    df.attrs["csv_path"] = csv
    return df, csv.parent


def fit(files: str | Path | list[str | Path], out: str | Path | None = None, *,
        base_model: str | None = None, retention: str | Path | None = None, force: bool = False,
        **mapping) -> FitResult:
    """Fit a device model to measured LTP/LTD pulse trains; write it to ``out`` (model JSON) if given.

    ``files`` are our procedure CSVs or another lab's CSV/TSV. ``mapping`` names the columns when they
    are not ours (each a name or a 0-based number): ``pulse_col``, ``amplitude_col`` (signed write
    amplitude, V), ``conductance_col`` (S), ``resistance_col`` (ohm), ``current_col`` (A, with
    ``read_voltage`` in V or ``read_voltage_col``), ``width_col`` (s) or ``width_s`` (s, one width for
    the file), ``columns`` (names of a header-less file), ``rows`` (a pandas query keeping rows),
    ``polarity`` ("auto", "positive" or "negative": the amplitude sign that raises G), ``branch``
    ("both", "ltp", "ltd") and ``scale`` ("auto", "linear", "log"). ``base_model`` (default
    ``device_models.fitting.DEFAULT_BASE_MODEL``, ``garg-hzo-2us``) supplies what pulse trains cannot show
    (kinetics over widths, retention, transfer curve); ``retention``, a retention
    JSON (``labctl fit --kind retention``), replaces the base model's retention with the measured one.
    With ``out`` the model JSON and PNG plots of data vs fit are written (refused if the model fails
    the gate, unless ``force``); their paths are in ``result.saved``. ``result.report`` is the fit
    quality per phase.

    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _, runs = run_procedure("ltp_ltd", "sim", folder, model="garg-hzo-2us", n_devices=4, pulses=60)
    >>> result = fit(runs / "ltp_ltd.csv", folder / "model.json")
    >>> result.model.weight.g_max_s > result.model.weight.g_min_s > 0   # siemens
    True
    >>> list(result.report.index), result.saved[0].name
    (['LTP', 'LTD'], 'model.json')
    """
    from device_models.fitting import DEFAULT_BASE_MODEL, fit_files, save_fit

    result = fit_files(files, base_model=base_model or DEFAULT_BASE_MODEL, **mapping)
    if retention is not None:
        from device_models.fitting.retention import with_measured_retention

        result.model = with_measured_retention(result.model, retention)
    if out is not None:
        result.saved = save_fit(result, out, force=force)
    return result
