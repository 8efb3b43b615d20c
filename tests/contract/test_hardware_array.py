"""The contract suite on HardwareArray over the simulated instruments (``--backend sim-instruments``)."""

import pytest

from labctl.backends import open_backend

from .backend_contract import ArrayBackendContract


class TestHardwareArrayOnSimulatedInstruments(ArrayBackendContract):
    @pytest.fixture
    def backend(self):
        with open_backend("sim-instruments", model="ning-mos2-fefet", seed=7) as chip:
            yield chip

