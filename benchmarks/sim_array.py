"""Speed of the simulated chip: a full 30x30 read map and a 900-device pulse step.

Prints each time and its ratio to a plain numpy matrix-vector product of the same size, measured in
the same run (the machine is shared, so only the ratios mean anything). Run:
``python benchmarks/sim_array.py``.
"""

from __future__ import annotations

import timeit

import numpy as np

from labctl import PulseSpec
from sim_backend import SimulatedArray


def best_of(stmt, number: int = 200, repeat: int = 7) -> float:
    """Best time per call in s (the least disturbed of ``repeat`` runs)."""
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number


def main() -> None:
    chip = SimulatedArray("ning-mos2-fefet", seed=0)
    everything = np.ones(chip.shape, dtype=bool)
    op = chip.model.operating_point
    pulse = PulseSpec(op.write_amplitude_v, op.write_width_s)
    matrix, vector = np.random.default_rng(0).random((2, 30, 30))
    rows = [
        ("numpy 30x30 matrix-vector product", best_of(lambda: matrix @ vector[0])),
        ("read map, 900 devices", best_of(lambda: chip.read(everything))),
        ("pulse step, 900 devices", best_of(lambda: chip.apply_pulses(everything, pulse))),
        ("read_mvm, 30 inputs", best_of(lambda: chip.read_mvm(np.ones(30)))),
    ]
    base = rows[0][1]
    print(f"{'operation':36s} {'time (us)':>10s} {'x numpy mv':>11s}")
    for name, seconds in rows:
        print(f"{name:36s} {seconds * 1e6:10.1f} {seconds / base:11.1f}")


if __name__ == "__main__":
    main()
