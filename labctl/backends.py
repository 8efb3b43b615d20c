"""Open a backend from the one string every command takes: ``--backend sim | sim-instruments | BENCH.yaml``."""

from __future__ import annotations

from collections.abc import Sequence
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
SIM_RESOURCE = "sim://"
"""Resource prefix of a simulated instrument: a bench file whose resources all start with it runs
on simulated instruments (so any bench file can be tried on the simulator first)."""


def open_backend(spec: str = "sim", model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, visa_log: str | Path | None = None, simulate: bool = False,
                 faults: Sequence[str] = (), **options) -> ArrayBackend:
    """Open the backend named by ``spec``; the one labctl module that imports ``sim_backend``.

    ``sim``: :class:`sim_backend.SimulatedArray` of ``model``. Extra ``options`` go to the backend.
    ``sim-instruments``: :class:`labctl.hardware.HardwareArray` over simulated instruments (fake
    B1500A and switch matrices driving a SimulatedArray of ``model``; ``options`` go to that chip);
    ``bench.yaml``: HardwareArray over the VISA resources of that bench file. ``visa_log=FILE``
    writes one line per instrument message (an empty file on ``sim``: it sends none).
    ``simulate=True`` runs a bench file on simulated instruments with that file's modules, probe card
    and timings: a dry run whose ``stats`` (messages, routings, estimated_s) predict the real run.
    ``faults`` are ``KIND@N`` strings (``--fault``): device faults on any simulated chip, instrument
    faults on simulated instruments; a real bench refuses them. ``backend.simulation`` is the handle
    of what is simulated (snapshot/restore, ground truth), None on a real bench.

    >>> chip = open_backend("sim", model="garg-hzo-20ns", seed=3)
    >>> chip.shape, chip.describe().chip_id
    ((30, 30), 'sim-seed3')
    """
    from sim_backend.instruments.faults import backend_options

    chip_model = load_model(model)
    if spec == "sim":
        from sim_backend import SimulatedArray

        if visa_log:
            from .visalog import open_log

            open_log(visa_log).close()
        faulty = backend_options(spec, list(faults), None if layout is None else layout.shape)
        return SimulatedArray(chip_model, seed=seed, layout=layout, **faulty, **options)
    if spec == "sim-instruments" or Path(spec).suffix in (".yaml", ".yml"):
        from .hardware import HardwareArray

        options.update(backend_options(spec, list(faults)))
        config, adapters, world = open_bench_link(spec, chip_model, seed, layout, simulate, **options)
        simulation = None
        if world is not None:
            from sim_backend.simulation import BenchSimulation

            simulation = BenchSimulation(world)
        array = HardwareArray(config, chip_model, layout, adapters=adapters, clock=world.clock if world else None,
                              visa_log=visa_log, simulation=simulation, source=spec, seed=seed)
        if simulation is not None:
            simulation.bind(array)
        return array
    raise field_error(ConfigError, "backend", spec, f"choose one of {', '.join(BACKEND_CHOICES)} or a bench .yaml file")


def open_bench_link(spec: str, model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                    layout: CellLayout | None = None, simulate: bool = False, **chip_options):
    """(bench config, {resource: adapter}, simulated world or None) for ``sim-instruments`` or a bench file.

    Nothing is sent to any instrument here.
    """
    from .benchfile import load_bench
    from .hardware import visa_adapters

    config = load_bench(SIM_BENCH_FILE if spec == "sim-instruments" else spec)
    resources = [config.b1500_resource, *config.switches.values()]
    if simulate or all(r.startswith(SIM_RESOURCE) for r in resources):
        from sim_backend.instruments.bench import simulated_bench

        world, adapters = simulated_bench(config, load_model(model), seed=seed, layout=layout, **chip_options)
        return config, adapters, world
    if chip_options:
        raise field_error(ConfigError, "options", sorted(chip_options), "not understood by a bench backend")
    from .journal import hold_bench, release_bench

    hold_bench(config.path)  # one process per real bench; released when the HardwareArray closes
    try:
        return config, visa_adapters(config), None
    except BaseException:
        release_bench(config.path)
        raise


def fault_options(spec: str, faults: Sequence[str]) -> dict:
    """``open_bench_link`` options for ``--fault`` values (a real bench refuses them as unknown options)."""
    from sim_backend.instruments.faults import backend_options

    return backend_options(spec, list(faults))


class Transactions:
    """Bench transactions since this counter was made: every bus message the backends sent (reads,
    routings, pulse set-ups, triggers; ``ArrayBackend.messages_sent``, 0 on a simulated chip).

    A training epoch pays for its reads as much as for its pulses, so the pulse reports alone undercount
    it (~25x for a 16x10 layer on ``sim-instruments``).
    """

    def __init__(self, backends) -> None:
        self.backends = list(backends)
        self._start = self._sent()
        self._split_start = self._split()

    def _split(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for chip in self.backends:
            for part, seconds in chip.bench_time_split_s.items():
                out[part] = out.get(part, 0.0) + seconds
        return out

    @property
    def split_s(self) -> dict[str, float]:
        """Bench seconds since this counter was made by part (reads, routings, pulses, waits; empty
        without a bench backend), summed over the backends."""
        return {part: seconds - self._split_start.get(part, 0.0) for part, seconds in self._split().items()}

    def _sent(self) -> int:
        return sum(chip.messages_sent for chip in self.backends)

    @property
    def total(self) -> int:
        return self._sent() - self._start
