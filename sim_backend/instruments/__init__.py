"""Simulated bench instruments: a fake B1500A and fake switch matrices that parse the drivers' real
command strings, keep instrument state, and on a trigger apply a :class:`~sim_backend.SimulatedArray`'s
physics to whichever devices are really routed. Reached through :class:`SimAdapter`, a pymeasure
Adapter, so the drivers under test are the ones used on the bench."""

from .adapter import SimAdapter
from .fake_b1500 import FakeB1500
from .fake_switch import FakeSwitchMatrix
from .world import BenchWorld, SimClock

__all__ = ["BenchWorld", "FakeB1500", "FakeSwitchMatrix", "SimAdapter", "SimClock"]
