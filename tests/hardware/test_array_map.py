"""A 30x30 write-and-read map over sim-instruments: transaction count and bench-time estimate."""

import numpy as np

from labctl import PulseSpec, Role
from labctl.backends import open_backend


def _map_counts(chip):
    rows, cols = np.indices(chip.shape)
    return np.where(chip.layout.role_mask(Role.WEIGHT), 5 * ((rows + cols) % 4), 0)


def test_write_and_read_map_reports_transactions_and_lands_on_its_estimate():
    with open_backend("sim-instruments", seed=5) as chip:
        op = chip.model.operating_point
        pulse = PulseSpec(op.write_amplitude_v, op.write_width_s)
        counts = _map_counts(chip)
        t0, est0 = chip.time_s, chip.stats.estimated_s
        report = chip.apply_pulses(counts > 0, pulse, count=counts)
        messages = chip.stats.messages
        g = chip.read(np.ones(chip.shape, dtype=bool))
        read_messages = chip.stats.messages - messages
        elapsed, estimate = chip.time_s - t0, chip.stats.estimated_s - est0
        print(f"\n30x30 map: write {report.transactions} transactions, {report.duration_s:.2f} s; "
              f"read {read_messages} transactions; total {elapsed:.1f} s simulated, estimate {estimate:.1f} s")
        assert report.pulses == counts.sum()
        assert report.transactions < 12 * 30  # 12 (rows-class, count) groups, not 337 devices
        assert np.all(np.isfinite(g))
        assert abs(estimate - elapsed) <= 0.1 * elapsed
        truth = chip.simulation.world.chip.true_conductance()
        # the read takes a simulated minute: just-written devices relax meanwhile (physics), so compare
        # the bulk of the weight devices with the ground truth at the end, not each one
        ratio = (g / truth)[chip.layout.role_mask(Role.WEIGHT)]
        assert abs(np.median(ratio) - 1) < 0.03 and np.mean(abs(ratio - 1) < 0.12) > 0.9


def test_cell_by_cell_costs_far_more_than_grouped():
    with open_backend("sim-instruments", seed=5) as chip:
        op = chip.model.operating_point
        pulse = PulseSpec(op.write_amplitude_v, op.write_width_s)
        counts = _map_counts(chip)[:4]  # four rows are enough to see the scaling
        grouped = chip.apply_pulses(np.pad(counts, ((0, 26), (0, 0))) > 0, pulse,
                                    count=np.pad(counts, ((0, 26), (0, 0)))).transactions
        single = 0
        for r, c in zip(*np.nonzero(counts)):
            mask = np.zeros(chip.shape, dtype=bool)
            mask[r, c] = True
            single += chip.apply_pulses(mask, pulse, count=int(counts[r, c])).transactions
        print(f"\n4 rows: grouped {grouped} transactions, cell by cell {single}")
        assert single > 5 * grouped
