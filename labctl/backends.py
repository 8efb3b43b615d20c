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
SIM_BENCH_FILE = Path(__file__).parent / "benches" / "sim-instruments.yaml"
"""The bench file ``sim-instruments`` uses: a B1500A with an SPGU and 8 SMUs, two switch matrices."""


def open_backend(spec: str = "sim", model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, **options) -> ArrayBackend:
    """Open the backend named by ``spec``.

    ``sim``: :class:`sim_backend.SimulatedArray` of ``model``. Extra ``options`` go to the backend.
    ``sim-instruments``: :class:`labctl.hardware.HardwareArray` over simulated instruments (fake
    B1500A and switch matrices driving a SimulatedArray); ``bench.yaml``: HardwareArray over the
    VISA resources of that bench file. Both take ``visa_log=FILE`` (one line per message) and
    ``direct_path=True`` (bench declares a direct pulse path: allow < 100 ns pulses).

    >>> chip = open_backend("sim", model="garg-hzo-20ns", seed=3)
    >>> chip.shape
    (30, 30)
    """
    chip_model = load_model(model)
    if spec == "sim":
        from sim_backend import SimulatedArray

        return SimulatedArray(chip_model, seed=seed, layout=layout, **options)
    if spec == "sim-instruments" or Path(spec).suffix in (".yaml", ".yml"):
        from .benchfile import load_bench
        from .hardware import HardwareArray

        config = load_bench(SIM_BENCH_FILE if spec == "sim-instruments" else spec)
        bench_options = {k: options.pop(k) for k in ("visa_log", "direct_path") if k in options}
        if spec == "sim-instruments":
            from sim_backend.instruments.bench import simulated_bench

            world, adapters = simulated_bench(config, chip_model, seed=seed, layout=layout, **options)
            array = HardwareArray(config, chip_model, layout, adapters=adapters, clock=world.clock, **bench_options)
            array.world = world  # the simulated bench's ground truth, for tests and demos
            return array
        if options:
            raise field_error(ConfigError, "options", sorted(options), "not understood by a bench backend")
        return HardwareArray(config, chip_model, layout, **bench_options)
    raise field_error(ConfigError, "backend", spec, f"choose one of {', '.join(BACKEND_CHOICES)} or a bench .yaml file")
