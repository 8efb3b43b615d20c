"""The contract suite on the simulated chip."""

import pytest

from sim_backend import SimulatedArray

from .backend_contract import ArrayBackendContract


class TestSimulatedArray(ArrayBackendContract):
    @pytest.fixture
    def backend(self):
        with SimulatedArray("ning-mos2-fefet", seed=7) as chip:
            yield chip
