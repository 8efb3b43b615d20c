"""Open a backend from the one string every command takes: ``--backend sim | sim-instruments | BENCH.yaml``."""

from __future__ import annotations

from pathlib import Path

from device_models import load_model
from device_models.params import ChipModel

from .backend import ArrayBackend
from .errors import ConfigError, field_error
from .layout import CellLayout

BACKEND_CHOICES = ("sim", "sim-instruments")
"""Backend names; any other value is read as the path of a bench file."""


def open_backend(spec: str = "sim", model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, **options) -> ArrayBackend:
    """Open the backend named by ``spec``.

    ``sim``: :class:`sim_backend.SimulatedArray` of ``model``. Extra ``options`` go to the backend.

    >>> chip = open_backend("sim", model="garg-hzo-20ns", seed=3)
    >>> chip.shape
    (30, 30)
    """
    chip_model = load_model(model)
    if spec == "sim":
        from sim_backend import SimulatedArray

        return SimulatedArray(chip_model, seed=seed, layout=layout, **options)
    if spec == "sim-instruments" or Path(spec).suffix in (".yaml", ".yml"):
        raise field_error(ConfigError, "backend", spec, "instrument backends are not available in this build yet")
    raise field_error(ConfigError, "backend", spec, f"choose one of {', '.join(BACKEND_CHOICES)} or a bench .yaml file")
