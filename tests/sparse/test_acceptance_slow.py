"""Issue 9 acceptance at full size (minutes): run by hand with ``pytest -m slow tests/sparse``."""

from __future__ import annotations

import pytest

from labctl.sparse.experiments import run_sparse_letters, update_transactions


@pytest.mark.slow
def test_msnet_75_percent_sparse_vau_within_2_points_of_cell(tmp_path):
    acc = {}
    for update in ("cell", "vau"):
        df = run_sparse_letters(tmp_path / update, 0.75, "sim", update)
        assert abs(df["sparsity"].iloc[-1] - 0.75) < 0.01
        acc[update] = df["test_accuracy"].iloc[-1]
    assert acc["cell"] >= 0.95 and acc["vau"] >= 0.95
    assert abs(acc["vau"] - acc["cell"]) <= 0.02


@pytest.mark.slow
def test_vau_transactions_on_a_full_tile():
    df = update_transactions("sim-instruments").set_index("update")
    assert df.loc["vau", "transactions"] < df.loc["cell-by-cell", "transactions"] / 2
