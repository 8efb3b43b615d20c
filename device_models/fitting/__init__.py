"""Fit device models to measured data: LTP/LTD step curves, bounds, spreads, retention, DC statistics.

Main entry points: :func:`fit_files` (files -> :class:`FitResult` with a ``ChipModel``) and
:func:`save_fit` (model JSON plus PNG plots).
"""

from .pipeline import DEFAULT_BASE_MODEL, FitResult, fit_files, fit_measurements, save_fit, symmetry_point
from .steps import StepFit, fit_phase, fit_poly5, fit_power, trajectory

__all__ = ["DEFAULT_BASE_MODEL", "FitResult", "StepFit", "fit_files", "fit_measurements", "fit_phase",
           "fit_poly5", "fit_power", "save_fit", "symmetry_point", "trajectory"]
