"""Target patterns for array maps: a weight in [0, 1] and an on/off sparsity bit per cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labctl.errors import ConfigError, field_error

PATTERNS = ("gradient", "checkerboard", "random")
"""Built-in patterns; any other value is read as an image file (.npy, or .png via matplotlib)."""


def target_pattern(name: str, cell_shape: tuple[int, int], sparsity: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(weights in [0, 1], sparsity bits) over ``cell_shape``; ``sparsity`` = fraction of cells off.

    Built-ins draw their off cells at random; an image's dark pixels (< 0.05) are the off cells.
    """
    rows, cols = cell_shape
    if name == "gradient":
        weights = np.tile(np.linspace(0.0, 1.0, cols), (rows, 1))
    elif name == "checkerboard":
        weights = ((np.arange(rows)[:, None] // 3 + np.arange(cols)[None, :] // 3) % 2).astype(float)
    elif name == "random":
        weights = rng.uniform(0.0, 1.0, cell_shape)
    else:
        weights = _image(name, cell_shape)
        return weights, weights >= 0.05
    on = rng.permutation(weights.size) >= round(sparsity * weights.size)
    return weights, on.reshape(cell_shape)


def _image(path: str, cell_shape: tuple[int, int]) -> np.ndarray:
    file = Path(path)
    if not file.exists():
        raise field_error(ConfigError, "pattern", path, f"not a pattern ({', '.join(PATTERNS)}) nor an image file")
    if file.suffix == ".npy":
        image = np.load(file).astype(float)
    else:
        from matplotlib.image import imread

        image = imread(file).astype(float)
        if image.ndim == 3:
            image = image[..., :3].mean(axis=2)
    if image.ndim != 2:
        raise field_error(ConfigError, "pattern", path, "needs a 2-D grey image")
    ri = np.linspace(0, image.shape[0] - 1, cell_shape[0]).round().astype(int)
    ci = np.linspace(0, image.shape[1] - 1, cell_shape[1]).round().astype(int)
    image = image[np.ix_(ri, ci)]
    span = image.max() - image.min()
    return (image - image.min()) / span if span > 0 else np.zeros(cell_shape)
