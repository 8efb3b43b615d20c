"""Letters data (synthetic + EMNIST idx), MSNet gradients, the cost estimate and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from device_models import load_preset
from labctl.cli import app
from labctl.errors import DataError
from labctl.sparse.estimate import assumptions_markdown, estimate_costs
from labctl.sparse.letters import load_emnist_letters, synthetic_letters
from labctl.sparse.msnet import MSNet
from labctl.training import DigitalLayer
from labctl.training.data import write_idx


def test_synthetic_letters_are_reproducible_and_balanced():
    a = synthetic_letters(24, 12, classes="aenprs", seed=3, cache=False)
    b = synthetic_letters(24, 12, classes="aenprs", seed=3, cache=False)
    c = synthetic_letters(24, 12, classes="aenprs", seed=4, cache=False)
    assert np.array_equal(a.x_train, b.x_train) and not np.array_equal(a.x_train, c.x_train)
    assert a.x_train.shape == (24, 784) and a.x_train.dtype == np.float32
    assert 0 <= a.x_train.min() and a.x_train.max() <= 1 and a.n_classes == 6
    assert np.bincount(np.concatenate([a.y_train, a.y_test])).tolist() == [6] * 6
    assert synthetic_letters(26, 26, seed=0, cache=False).n_classes == 26
    with pytest.raises(DataError):
        synthetic_letters(5, 5, classes="a1")


def test_emnist_idx_loader_transposes_and_relabels(tmp_path):
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("test", 4)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.array([1, 5, 19, 26] * (n // 4), dtype=np.uint8)
        write_idx(tmp_path / f"emnist-letters-{split}-images-idx3-ubyte", images)
        write_idx(tmp_path / f"emnist-letters-{split}-labels-idx1-ubyte", labels)
        if split == "train":
            first = images[0]
    data = load_emnist_letters(tmp_path)
    assert data.y_train.tolist() == [0, 4, 18, 25] * 2
    assert np.allclose(data.x_train[0].reshape(28, 28), first.T / 255)
    sub = load_emnist_letters(tmp_path, classes="se")
    assert sub.y_train.tolist() == [1, 0, 1, 0] and len(sub.x_test) == 2
    with pytest.raises(DataError):
        load_emnist_letters(tmp_path / "missing")


def test_msnet_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    net = MSNet(DigitalLayer(25, 3, rng), 25, rng, conv1_channels=2)
    for layer in net.layers:
        layer.w = layer.w.astype(np.float64)
    x, y = rng.random((2, 784)), np.array([0, 2])
    _, grads = net.loss_and_gradients(x, y)
    for k, layer in enumerate(net.layers):
        idx = (1, 0)
        layer.w[idx] += 1e-6
        up, _ = net.loss_and_gradients(x, y)
        layer.w[idx] -= 2e-6
        down, _ = net.loss_and_gradients(x, y)
        layer.w[idx] += 1e-6
        assert (up - down) / 2e-6 == pytest.approx(grads[k][0][idx], rel=1e-4, abs=1e-9)


def test_cost_estimate_orders_the_schemes():
    df = estimate_costs(75, 6, 0.75, load_preset("ning-mos2-fefet")).set_index("scheme")
    assert df.loc["index-free", "energy_j"] < df.loc["dense", "energy_j"]
    assert df.loc["index-free", "latency_s"] == df.loc["dense", "latency_s"]
    assert df.loc["index-based", "latency_s"] > df.loc["index-free", "latency_s"]
    assert df.loc["index-based", "index_bits"] == round(0.25 * 450) * 7
    assert "sram_energy_per_bit_j" in assumptions_markdown()


@pytest.mark.plots
def test_granularity_and_vau_mse_commands(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["experiment", "granularity", "--out", str(tmp_path / "g"), "--epochs", "2",
                                 "--train-samples", "60"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "g" / "granularity.csv")
    assert table["granularity"].tolist() == ["none", "element", "row", "column", "block", "layer"]
    assert table.loc[table["granularity"] == "layer", "sparsity"].item() == 0  # one group cannot be 75 % off
    assert table.loc[table["granularity"] == "element", "sparsity"].item() == pytest.approx(0.75, abs=0.01)
    assert "Assumptions" in (tmp_path / "g" / "granularity.md").read_text()
    result = runner.invoke(app, ["experiment", "vau-mse", "--out", str(tmp_path / "v"), "--runs", "3", "--seeds", "1",
                                 "--epochs", "1", "--train-samples", "40", "--transactions-backend", ""])
    assert result.exit_code == 0, result.output
    acc = pd.read_csv(tmp_path / "v" / "vau_accuracy.csv")
    assert sorted(acc["update"]) == ["cell", "vau"] and (tmp_path / "v" / "vau_mse.png").is_file()


def test_learning_rate_holds_through_pruning_then_decays_to_lr_final():
    from labctl.sparse.pruning import PruneSchedule
    from labctl.sparse.training import SparseRun, learning_rate

    run = SparseRun(epochs=15, lr=0.1, lr_final=0.01, schedule=PruneSchedule(0.75, 3, 9))
    rates = [learning_rate(run, e) for e in range(1, 16)]
    assert rates[:10] == [0.1] * 10
    assert np.all(np.diff(rates[9:]) < 0) and abs(rates[-1] - 0.01) < 1e-9
    assert learning_rate(SparseRun(epochs=15, lr=0.1), 15) == 0.1


def test_sparse_letters_on_simulated_instruments_logs_every_message_and_ends_safe(tmp_path):
    from labctl.visalog import audit, read_log

    log = tmp_path / "visa.log"
    result = CliRunner().invoke(app, ["experiment", "sparse-letters", "--out", str(tmp_path / "o"), "--backend",
                                      "sim-instruments", "--epochs", "1", "--train-samples", "40", "--test-samples",
                                      "12", "--visa-log", str(log)])
    assert result.exit_code == 0, result.output
    entries = read_log(log)
    hot_switches, outputs_on = audit(entries)
    assert len(entries) > 1000 and not hot_switches and not outputs_on
    assert entries[-3][3].startswith(":ROUT:OPEN")  # the bench ends with every relay open


@pytest.mark.parametrize("update", ["cell", "vau"])
def test_analog_sparse_training_pulses_its_devices_and_learns(update):
    """Plain SGD sends pulses from the first batch: the optimiser's (flat cells, counts) reach the sparse layer."""
    from labctl.sparse.training import SparseRun, train_msnet

    data = synthetic_letters(300, 60, classes="aenprs", seed=0, cache=False)
    df, _ = train_msnet(data, SparseRun(update=update, algo="sgd", epochs=2, features=25, seed=0))
    assert (df["pulses"] > 0).all()
    assert df["test_accuracy"].iloc[-1] > 1.5 / 6  # chance is 1/6


@pytest.mark.parametrize("backend, update, cut", [("sim", "cell", 1), ("sim-instruments", "cell", 1), ("sim", "float", 2)])
def test_an_interrupted_sparse_run_resumes_to_the_uninterrupted_result(backend, update, cut, tmp_path):
    """Through a pruning step: the checkpoint keeps the simulated chip (or bench) and the layer's readings;
    the float reference's digital mask (cut after the pruning step, so the resumed epoch needs it)."""
    from labctl.sparse.pruning import PruneSchedule
    from labctl.sparse.training import SparseRun, train_msnet

    bench = backend != "sim"  # every batch goes through the instruments' messages: fewer, larger batches
    data = synthetic_letters(60 if bench else 200, 20 if bench else 40, classes="aenprs", seed=0, cache=False)
    run = dict(backend=backend, update=update, algo="sgd", features=25 if bench else 75, seed=0,
               schedule=PruneSchedule(0.5, 1, 2), batch_size=30 if bench else 20)
    whole, _ = train_msnet(data, SparseRun(epochs=3, **run), out=tmp_path / "whole")
    train_msnet(data, SparseRun(epochs=cut, **run), out=tmp_path / "cut")
    resumed, _ = train_msnet(data, SparseRun(epochs=3, **run), out=tmp_path / "cut", resume=True)
    assert whole["sparsity"].iloc[-1] > 0.4 and (whole["pulses"].iloc[-1] > 0) == (update != "float")
    pd.testing.assert_frame_equal(whole.drop(columns="wall_s"), resumed.drop(columns="wall_s"))
