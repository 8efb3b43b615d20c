"""The training loop end to end on small subsets: metrics, files, determinism, resume, chip-sized layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from device_models.energy import pulse_energy_j
from labctl.errors import ConfigError
from labctl.training import METRIC_COLUMNS, Dataset, train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def data() -> Dataset:
    """A learnable synthetic 10-class set (prototypes + noise), so the tests need no MNIST."""
    rng = np.random.default_rng(0)
    prototypes = rng.random((10, 784), dtype=np.float32) < 0.2
    def split(n):
        y = rng.integers(0, 10, n)
        x = np.clip(prototypes[y] * 0.9 + rng.random((n, 784), dtype=np.float32) * 0.3, 0, 1).astype(np.float32)
        return x, y
    x_tr, y_tr = split(400)
    x_te, y_te = split(200)
    return Dataset(x_tr, y_tr, x_te, y_te)


SMALL = dict(layers=(784, 32, 10), progress=False, batch_size=50)


@pytest.mark.plots
def test_mpsgd_learns_and_counts_pulses_and_energy(data, tmp_path):
    df = train(algo="mpsgd", epochs=2, data=data, out=tmp_path, **SMALL)
    assert list(df.columns) == METRIC_COLUMNS
    assert df["test_accuracy"].iloc[-1] > 0.8
    assert (df["pulses"] > 0).all()
    np.testing.assert_allclose(df["energy_j"], df["pulses"] * float(pulse_energy_j(3.966, 20e-9)))
    on_disk = pd.read_csv(tmp_path / "metrics.csv")
    assert list(on_disk.columns) == METRIC_COLUMNS and len(on_disk) == 2
    assert (tmp_path / "training_curve.png").stat().st_size > 1000
    assert (tmp_path / "checkpoint.npz").is_file()


def test_same_seed_same_metrics_and_resume_equals_uninterrupted(data, tmp_path):
    full = train(algo="mpsgd", epochs=2, data=data, out=tmp_path / "a", **SMALL)
    again = train(algo="mpsgd", epochs=2, data=data, out=tmp_path / "b", **SMALL)
    pd.testing.assert_frame_equal(full.drop(columns="wall_s"), again.drop(columns="wall_s"))
    train(algo="mpsgd", epochs=1, data=data, out=tmp_path / "c", **SMALL)  # "interrupted" after epoch 1
    resumed = train(algo="mpsgd", epochs=2, data=data, out=tmp_path / "c", resume=True, **SMALL)
    pd.testing.assert_frame_equal(full.drop(columns="wall_s"), resumed.drop(columns="wall_s"))
    other = train(algo="mpsgd", epochs=1, data=data, seed=1, **SMALL)
    assert other["pulses"].iloc[0] != full["pulses"].iloc[0]


def test_resume_refuses_a_different_configuration(data, tmp_path):
    train(algo="mpsgd", epochs=1, data=data, out=tmp_path, **SMALL)
    with pytest.raises(ConfigError, match="resume.lr"):
        train(algo="mpsgd", epochs=2, data=data, out=tmp_path, resume=True, lr=0.05, **SMALL)


def test_float_baseline_has_no_pulses_and_symshift_counts_its_setup(data):
    flt = train(algo="float", epochs=1, data=data, **SMALL)
    assert flt["pulses"].sum() == 0 and flt["test_accuracy"].iloc[0] > 0.8
    sym = train(algo="symshift", epochs=1, data=data, symmetry_pairs=50, **SMALL)
    devices = 2 * (784 * 32 + 32 * 10)
    assert sym.attrs["setup_pulses"] == devices * (100 + 2 * 50)
    assert sym["pulses"].iloc[0] > 0


def test_chip_sized_layer_and_clear_errors(data):
    df = train(algo="mpsgd", epochs=1, data=data, layers=(30, 10), progress=False)  # PCA to 30 features
    assert df.attrs["config"]["layers"] == [30, 10] and df["pulses"].iloc[0] > 0
    with pytest.raises(ConfigError, match="single layer"):
        train(backend="chip.yaml", data=data, layers=(30, 20, 10), progress=False)
    with pytest.raises(ConfigError, match="algo"):
        train(algo="adam", data=data, **SMALL)
    with pytest.raises(ConfigError, match="option"):
        train(data=data, learning_rate=0.1, **SMALL)


def test_mpsgd_at_short_pulses_sends_more_pulses_for_less_energy(data):
    # per-polarity accounting: a smaller step means proportionally more pulses for the same weight change
    # (LTP step at mid range 2.6 x smaller at 20 ns than at 200 us)
    short = train(model="garg-hzo-20ns", algo="mpsgd", epochs=1, data=data, **SMALL)
    long = train(model="garg-hzo-200us", algo="mpsgd", epochs=1, data=data, **SMALL)
    assert short["pulses"].iloc[0] > 3 * long["pulses"].iloc[0]
    assert short["energy_j"].iloc[0] < long["energy_j"].iloc[0] / 10
    # both learn (chance is 0.1); one noisy reading per batch (the shared read model) learns slower in
    # these 8 batches than per-sample noise did (0.31-0.70 against 0.48-0.68 over seeds 0-2)
    assert min(short["test_accuracy"].iloc[0], long["test_accuracy"].iloc[0]) > 0.25


def test_aihwkit_transfer_trains_and_is_part_of_the_run_configuration(data, tmp_path):
    df = train(model="garg-hzo-200us", algo="mpsgd", epochs=1, data=data, out=tmp_path, transfer="aihwkit", **SMALL)
    assert df["test_accuracy"].iloc[0] > 0.4 and df.attrs["config"]["transfer"] == "aihwkit"  # learns (chance 0.1)
    with pytest.raises(ConfigError, match="resume.transfer"):
        train(model="garg-hzo-200us", algo="mpsgd", epochs=2, data=data, out=tmp_path, resume=True, **SMALL)
    with pytest.raises(ConfigError, match="transfer"):
        train(algo="mpsgd", epochs=1, data=data, transfer="tiki-taka", **SMALL)


def test_the_read_model_is_chosen_per_run_and_recorded(data, tmp_path):
    """Training on sim reads ``shared`` (as the bench reads) unless told ``per-sample``; run.json says which,
    also when the default chose it. Same seed, same model: same metrics; the two models draw different
    noise, so the runs differ."""
    import json

    runs = {m: train(data=data, read_model=m, out=tmp_path / m, **SMALL) for m in ("shared", "per-sample")}
    again = train(data=data, out=tmp_path / "default", **SMALL)
    pd.testing.assert_frame_equal(runs["shared"].drop(columns="wall_s"), again.drop(columns="wall_s"))
    assert runs["shared"]["train_loss"].iloc[0] != runs["per-sample"]["train_loss"].iloc[0]
    for m, out in (("shared", "shared"), ("per-sample", "per-sample"), ("shared", "default")):
        assert json.loads((tmp_path / out / "run.json").read_text())["config"]["read_model"] == m
    with pytest.raises(ConfigError, match="read_model"):
        train(data=data, read_model="exact", **SMALL)
    with pytest.raises(ConfigError, match="read_model.*shared"):
        train(backend="sim-instruments", data=data, read_model="per-sample", layers=(8, 10), progress=False)
