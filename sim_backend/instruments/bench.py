"""Build the simulated bench for a bench file: chip, world, fakes and one ``SimAdapter`` per resource."""

from __future__ import annotations

from labctl.benchfile import BenchConfig

from ..array import SimulatedArray
from .adapter import SimAdapter
from .fake_b1500 import FakeB1500
from .fake_switch import FakeSwitchMatrix
from .world import CHIP_AGE_S, CHIP_LIMITS, BenchWorld


def simulated_bench(config: BenchConfig, model, seed: int = 0, layout=None, fault_plan=None, **chip_options):
    """(world, {resource: adapter}) for ``config``; the chip is a SimulatedArray of ``model``.

    ``fault_plan`` (:class:`~sim_backend.instruments.faults.FaultPlan`) injects instrument and chip faults.
    """
    chip_options.setdefault("age_s", CHIP_AGE_S)
    if fault_plan is not None and fault_plan.faults:
        chip_options["faults"] = fault_plan.chip_faults(config.probecard.shape)
    chip = SimulatedArray(model, seed=seed, layout=layout, limits=CHIP_LIMITS, **chip_options)
    world = BenchWorld(chip, config.probecard, config.timings)
    adapters = {config.b1500_resource: SimAdapter(FakeB1500(world, config.modules), world)}
    for name, resource in config.switches.items():
        adapters[resource] = SimAdapter(FakeSwitchMatrix(world, name, config.probecard.cards[name]), world)
    world.fault_plan = fault_plan
    if fault_plan is not None:
        from .faults import wrap_links

        adapters = wrap_links(adapters, fault_plan)
    return world, adapters
