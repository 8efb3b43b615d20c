"""Conformance both ways: every backend and wrapper implements every ``ArrayBackend`` member itself, and
the contract suite exercises every member (a new Protocol method without a contract test fails here)."""

import inspect
import re

import pytest

from labctl.backend import SEAM_MEMBERS, ArrayBackend, BackendBase, BackendProxy
from labctl.cellwise import CellByCell
from labctl.hardware import HardwareArray
from procedures.replay import JournalledBackend
from sim_backend import SimulatedArray

from . import backend_contract


@pytest.mark.parametrize("cls", [SimulatedArray, HardwareArray, CellByCell, JournalledBackend])
def test_every_seam_member_is_defined_not_forwarded_by_fallback(cls):
    missing = [name for name in SEAM_MEMBERS
               if not any(name in vars(k) or name in getattr(k, "__annotations__", {}) for k in cls.__mro__
                          if k not in (object, ArrayBackend))]
    assert not missing, f"{cls.__name__} lacks {missing}"


def test_backends_implement_every_hook_they_need():
    for cls in (SimulatedArray, HardwareArray):
        for name, member in vars(BackendBase).items():
            if name.startswith("_do_") and "raise NotImplementedError" in inspect.getsource(member):
                assert getattr(cls, name) is not member, f"{cls.__name__} does not implement {name}"


def test_a_proxy_refuses_to_fall_back_on_seam_members():
    class Bare(BackendProxy):
        pass

    with pytest.raises(AttributeError, match="read_at"):
        Bare(object()).read_at


def test_the_contract_suite_calls_every_seam_member():
    source = inspect.getsource(backend_contract)
    unused = [name for name in SEAM_MEMBERS if not re.search(rf"\.{name}\b", source)]
    assert not unused, f"no contract test uses {unused}"
