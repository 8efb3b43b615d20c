"""What every procedure module declares, and the small run context the plain functions share.

A procedure is data plus two functions: ``run(backend, params, emit, ...)`` acquires and emits one
record per point, ``analyse(df, params, model)`` turns the records (live or read back from the CSV)
into a summary; ``plot`` draws the summary next to the CSV. The pymeasure wrapper, the headless
runner, ``labctl run`` and ``labctl gui`` are all generated from a :class:`ProcedureSpec`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models.modelfile import load_model
from device_models.params import ChipModel
from labctl.backend import ArrayBackend
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout

Emit = Callable[[str, object], None]
"""pymeasure's emit: ``emit("results", row_dict)``, ``emit("progress", percent)``."""


def never() -> bool:
    """The default ``should_stop``."""
    return False


def model_of(backend: ArrayBackend, model: str | ChipModel | None = None) -> ChipModel:
    """The chip model a procedure plans with: the one given, else the backend's own."""
    if model:
        return load_model(model)
    if isinstance(backend.model, ChipModel):
        return backend.model
    raise field_error(ConfigError, "model", model, "this backend carries no model; pass --model")


@dataclass(frozen=True)
class ProcedureSpec:
    """One procedure: its parameters, its record columns and its functions."""

    name: str
    """Name used by ``labctl run NAME`` and :func:`procedures.run_procedure`."""
    title: str
    """One-line description."""
    params_cls: type
    """Parameters dataclass (fields declared with :func:`procedures.params.param`)."""
    columns: tuple[str, ...]
    """CSV columns, pymeasure style ``"Name (unit)"``."""
    run: Callable[..., dict]
    """``run(backend, params, emit, *, model=None, should_stop=never) -> summary``; deterministic given what
    the backend returns (the resume journal replays it, :mod:`procedures.replay`)."""
    preflight: Callable[[ArrayBackend, object, ChipModel], object]
    """Dry run: build and check every pulse and read against the backend's limits, send nothing."""
    analyse: Callable[[pd.DataFrame, object, ChipModel], dict]
    """Summary (JSON-ready dict) from the records."""
    plot: Callable[[pd.DataFrame, dict, Path], list[Path]]
    """Write PNG plots for ``stem`` (a path without suffix); return their paths (skipped with ``LABCTL_PLOTS=0``)."""
    selection: Callable[[CellLayout, object], np.ndarray]
    """Device mask the procedure measures (for the header's device ids)."""
    x_axis: str
    """Default x column of the GUI's live plot."""
    y_axis: str
    """Default y column of the GUI's live plot."""
    map_z: str | None = None
    """Column the GUI shows live as a heat map over the array (device row x column); None: no map."""
    save: Callable[[pd.DataFrame, dict, Path], list[Path]] | None = None
    """Write data files besides the CSV for ``stem`` (array_map's maps), plots or not; return their paths."""
    log_columns: tuple[str, ...] = ()
    """Columns the GUI's live plot puts on a log axis (decades of current or time)."""
    not_curves: tuple[tuple[str, str], ...] = ()
    """(column, value) of records that are not points of a device's curve and that the GUI's live plot
    leaves out, as the procedure's own plot does (symmetry_point's bound readings at pulse 0)."""
