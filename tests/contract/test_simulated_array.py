"""The contract suite on the simulated chip."""

import pytest

from labctl.cellwise import CellByCell
from sim_backend import SimulatedArray

from .backend_contract import ArrayBackendContract


class TestSimulatedArray(ArrayBackendContract):
    @pytest.fixture
    def backend(self):
        with SimulatedArray("ning-mos2-fefet", seed=7) as chip:
            yield chip


class TestCellByCellOnSimulatedArray(ArrayBackendContract):
    """The one-device-per-call wrapper keeps the contract (procedures' ``mode="cell"``, sparse cell-by-cell)."""

    @pytest.fixture
    def backend(self):
        with SimulatedArray("ning-mos2-fefet", seed=7) as chip:
            yield CellByCell(chip)
