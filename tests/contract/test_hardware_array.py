"""The contract suite on HardwareArray over the simulated instruments (``--backend sim-instruments``)."""

import pytest

from labctl.backends import open_backend

from .backend_contract import ArrayBackendContract


class TestHardwareArrayOnSimulatedInstruments(ArrayBackendContract):
    @pytest.fixture
    def backend(self):
        with open_backend("sim-instruments", model="ning-mos2-fefet", seed=7) as chip:
            yield chip

    def test_vector_update_moves_only_the_crossing(self, backend):
        pytest.skip("bench-paced read-back: 6 full reads take ~6 simulated minutes on GPIB, during which the "
                    "half-selected sparsity devices (age reset by the V/2 disturb) relax by ~0.12 g_max(weight); "
                    "the V/2 scheme itself is checked against ground truth in "
                    "tests/hardware/test_hardware_array.py::test_vector_update_moves_only_the_crossing_in_truth")
