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
SIM_RESOURCE = "sim://"
"""Resource prefix of a simulated instrument: a bench file whose resources all start with it runs
on simulated instruments (so any bench file can be tried on the simulator first)."""


def open_backend(spec: str = "sim", model: str | ChipModel = "ning-mos2-fefet", seed: int = 0,
                 layout: CellLayout | None = None, visa_log: str | Path | None = None, simulate: bool = False,
                 **options) -> ArrayBackend:
    """Open the backend named by ``spec``.

    ``sim``: :class:`sim_backend.SimulatedArray` of ``model``. Extra ``options`` go to the backend.
    ``sim-instruments``: :class:`labctl.hardware.HardwareArray` over simulated instruments (fake
    B1500A and switch matrices driving a SimulatedArray of ``model``; ``options`` go to that chip);
    ``bench.yaml``: HardwareArray over the VISA resources of that bench file. ``visa_log=FILE``
    writes one line per instrument message (an empty file on ``sim``: it sends none).
    ``simulate=True`` runs a bench file on simulated instruments with that file's modules, probe card
    and timings: a dry run whose ``stats`` (messages, routings, estimated_s) predict the real run.

    >>> chip = open_backend("sim", model="garg-hzo-20ns", seed=3)
    >>> chip.shape
    (30, 30)
    """
    chip_model = load_model(model)
    if spec == "sim":
        from sim_backend import SimulatedArray

        if visa_log:
            Path(visa_log).write_text("")
        return SimulatedArray(chip_model, seed=seed, layout=layout, **options)
    if spec == "sim-instruments" or Path(spec).suffix in (".yaml", ".yml"):
        from .hardware import HardwareArray

        config, adapters, world = open_bench_link(spec, chip_model, seed, layout, simulate, **options)
        array = HardwareArray(config, chip_model, layout, adapters=adapters,
                              clock=world.clock if world else None, visa_log=visa_log)
        array.world = world  # the simulated bench's ground truth on sim-instruments; None on a real bench
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


class Transactions:
    """Bench transactions since this counter was made: every bus message the backends sent (reads,
    routings, pulse set-ups, triggers) where they count them (``HardwareArray.stats``), else the write
    transactions their pulse reports gave (``add``; a simulated chip sends none).

    A training epoch pays for its reads as much as for its pulses, so the pulse reports alone undercount
    it (~25x for a 16x10 layer on ``sim-instruments``).
    """

    def __init__(self, backends) -> None:
        self.backends = [chip for chip in backends if hasattr(chip, "stats")]
        self._start = self._sent()
        self._reported = 0

    def _sent(self) -> int:
        return sum(chip.stats.messages for chip in self.backends)

    def add(self, reported: int) -> None:
        """Count the transactions of a ``PulseReport`` (used only when no backend counts its messages)."""
        self._reported += int(reported)

    @property
    def total(self) -> int:
        return self._sent() - self._start if self.backends else self._reported


class SimulatedBenchState:
    """Snapshot and restore of simulated instruments: the bench world and the driver's relay cache."""

    def __init__(self, array, world) -> None:
        self.array, self.world = array, world

    def snapshot(self) -> dict:
        return self.world.snapshot()

    def restore(self, snap: dict) -> None:
        self.world.restore(snap)
        self.array.assume_relays(self.world.closed_relays())


def simulated_state(backend):
    """What a resume must restore behind ``backend`` (an object with ``snapshot()``/``restore()``): the
    SimulatedArray itself, or the whole simulated bench behind simulated instruments; None on real
    hardware, where the chip keeps its own state."""
    world = getattr(backend, "world", None)
    if world is not None:
        return SimulatedBenchState(backend, world)
    if callable(getattr(backend, "snapshot", None)) and callable(getattr(backend, "restore", None)):
        return backend
    return None
