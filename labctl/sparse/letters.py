"""Letters, offline: real EMNIST-letters idx files a user provides, or a synthetic set rendered from fonts.

EMNIST is not downloadable here, so :func:`synthetic_letters` renders the 26 letters (upper and lower
case, as EMNIST-letters merges them) from the TrueType fonts matplotlib ships (DejaVu Sans / Serif /
Mono, STIX, Computer Modern) with a random affine map, stroke width, elastic distortion and noise,
at 28x28 like EMNIST. The set is a pure function of its seed and size; generated arrays are cached
as ``.npz`` in the platformdirs user cache. Both loaders return a :class:`labctl.training.Dataset`
with images flattened to 784 float32 values in [0, 1] and labels 0..k-1 over the chosen ``classes``.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from labctl.errors import DataError, field_error
from labctl.training.data import Dataset, read_idx_pair

LETTERS = string.ascii_lowercase
"""Class k is letter ``LETTERS[k]`` (EMNIST-letters label k + 1)."""
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif.ttf",
              "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf", "STIXGeneral.ttf", "STIXGeneralItalic.ttf",
              "STIXGeneralBol.ttf", "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf")
"""Typefaces (in matplotlib's ``mpl-data/fonts/ttf``) the synthetic set draws from."""
SIDE = 28
"""Image side in pixels (EMNIST)."""


def class_indices(classes: str | None) -> np.ndarray:
    """Indices into :data:`LETTERS` of ``classes`` (e.g. ``"aenprs"``; None = all 26)."""
    if classes is None:
        return np.arange(26)
    letters = classes.lower()
    if not letters or any(c not in LETTERS for c in letters) or len(set(letters)) != len(letters):
        raise field_error(DataError, "classes", classes, "must be distinct letters a-z")
    return np.array([LETTERS.index(c) for c in letters])


@dataclass(frozen=True)
class Distortion:
    """Random distortions of the synthetic letters (our choice of ranges, near EMNIST's look)."""

    rotation_deg: float = 12.0
    """Largest rotation either way."""
    shear: float = 0.25
    """Largest horizontal shear (dx/dy)."""
    scale: tuple[float, float] = (0.8, 1.1)
    """Range of the isotropic scale of the 20-pixel letter box."""
    shift_px: float = 2.0
    """Largest translation either way in pixels."""
    stroke_px: int = 2
    """Largest stroke thickening or thinning in pixels of the high-resolution rendering."""
    elastic_alpha_px: float = 1.5
    """Elastic displacement amplitude in pixels (Simard et al. 2003)."""
    elastic_sigma_px: float = 3.0
    """Smoothness of the elastic displacement field in pixels."""
    noise: float = 0.05
    """Standard deviation of the additive pixel noise (images in [0, 1])."""


def synthetic_letters(train_samples: int = 3000, test_samples: int = 600, classes: str | None = None,
                      seed: int = 0, distortion: Distortion = Distortion(), cache: bool = True) -> Dataset:
    """Rendered letters, balanced over ``classes``; the same arguments always give the same arrays.

    Train and test images are drawn from one stream, so they never coincide but share the fonts.
    """
    for name, n in (("train_samples", train_samples), ("test_samples", test_samples)):
        if n < 1:
            raise field_error(DataError, name, n, "must be >= 1")
    picked = class_indices(classes)
    key = hashlib.sha256(repr((train_samples, test_samples, picked.tolist(), seed, asdict(distortion),
                               FONT_FILES, 1)).encode()).hexdigest()[:16]
    path = _cache_dir() / f"letters_{key}.npz" if cache else None
    if path is not None and path.is_file():
        with np.load(path) as f:
            return Dataset(f["x_train"], f["y_train"], f["x_test"], f["y_test"])
    rng = np.random.default_rng(seed)
    n = train_samples + test_samples
    labels = np.resize(np.arange(len(picked)), n)
    rng.shuffle(labels)
    fonts = _fonts()
    images = np.stack([_render(LETTERS[picked[k]], fonts, rng, distortion) for k in labels])
    x = images.reshape(n, -1).astype(np.float32)
    data = Dataset(x[:train_samples], labels[:train_samples].astype(np.int64),
                   x[train_samples:], labels[train_samples:].astype(np.int64))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **asdict(data))
        except OSError:
            pass  # a read-only cache only costs the rendering next time
    return data


def load_emnist_letters(directory: str | Path, classes: str | None = None, train_samples: int | None = None,
                        test_samples: int | None = None) -> Dataset:
    """EMNIST-letters from ``emnist-letters-{train,test}-{images-idx3,labels-idx1}-ubyte[.gz]`` in ``directory``.

    EMNIST stores images transposed and labels 1..26; both are undone here. ``classes`` keeps a
    subset (relabelled 0..k-1 in the given order); ``*_samples`` keep the first n after that.
    """
    directory = Path(directory)
    picked = class_indices(classes)
    splits = []
    for split, limit in (("train", train_samples), ("test", test_samples)):
        images, labels = read_idx_pair(directory, f"emnist-letters-{split}", "EMNIST file")
        if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or len(images) != len(labels):
            raise field_error(DataError, "EMNIST file", split, f"images {images.shape} do not match labels {labels.shape}")
        labels = labels.astype(np.int64) - 1
        if labels.min(initial=0) < 0 or labels.max(initial=0) > 25:
            raise field_error(DataError, "EMNIST labels", split, "must be 1..26 (letters split)")
        keep = np.isin(labels, picked)
        relabel = np.full(26, -1)
        relabel[picked] = np.arange(len(picked))
        x = images[keep].transpose(0, 2, 1).reshape(int(keep.sum()), -1)[:limit]
        splits += [x.astype(np.float32) / np.float32(255), relabel[labels[keep]][:limit]]
    return Dataset(*splits)


# -- rendering -------------------------------------------------------------------------------------
def _cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("labctl"))


def _fonts() -> list:
    import matplotlib
    from matplotlib.ft2font import FT2Font

    root = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return [FT2Font(str(root / name)) for name in FONT_FILES if (root / name).is_file()]


def _glyph(font, char: str, size_px: int) -> np.ndarray:
    from matplotlib.ft2font import LoadFlags

    font.clear()
    font.set_size(size_px, 72)
    font.set_text(char, 0.0, flags=LoadFlags.DEFAULT)
    font.draw_glyphs_to_bitmap(antialiased=True)
    return np.asarray(font.get_image(), dtype=np.float32) / 255


def _render(letter: str, fonts: list, rng: np.random.Generator, d: Distortion) -> np.ndarray:
    """One 28x28 image in [0, 1] of ``letter`` (random case, font and distortions)."""
    from scipy import ndimage

    char = letter.upper() if rng.random() < 0.5 else letter
    glyph = _glyph(fonts[rng.integers(len(fonts))], char, 64)
    stroke = int(rng.integers(-d.stroke_px, d.stroke_px + 1))
    if stroke > 0:
        glyph = ndimage.grey_dilation(glyph, size=(stroke + 1, stroke + 1))
    elif stroke < 0:
        glyph = ndimage.grey_erosion(glyph, size=(1 - stroke, 1 - stroke))
    # Output pixel p maps to glyph pixel centre + A (p - out centre - shift): fit the letter's
    # longer side to a 20-pixel box (EMNIST), then rotate, shear and scale it at random.
    fit = max(glyph.shape) / 20.0 / rng.uniform(*d.scale)
    angle = np.deg2rad(rng.uniform(-d.rotation_deg, d.rotation_deg))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, 0.0], [rng.uniform(-d.shear, d.shear), 1.0]])
    matrix = fit * rot @ shear
    shift = rng.uniform(-d.shift_px, d.shift_px, 2)
    centre_in = (np.array(glyph.shape) - 1) / 2
    offset = centre_in - matrix @ ((SIDE - 1) / 2 + shift)
    image = ndimage.affine_transform(glyph, matrix, offset, output_shape=(SIDE, SIDE), order=1)
    if d.elastic_alpha_px > 0:
        field = rng.uniform(-1, 1, (2, SIDE, SIDE))
        field = np.stack([ndimage.gaussian_filter(f, d.elastic_sigma_px) for f in field])
        field *= d.elastic_alpha_px / max(np.abs(field).max(), 1e-12)
        grid = np.mgrid[0:SIDE, 0:SIDE].astype(float) + field
        image = ndimage.map_coordinates(image, grid, order=1)
    peak = image.max()
    if peak > 0:
        image = image / peak
    image = image + d.noise * rng.standard_normal(image.shape)
    return np.clip(image, 0, 1).astype(np.float32)
