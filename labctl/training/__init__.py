"""Training on analog FeFET arrays through the ``ArrayBackend`` seam (seed 002's experiments).

``train(...)`` runs plain SGD, mixed-precision SGD or symmetry-point shifting on any backend and
returns the per-epoch metrics with pulse and energy counts. :mod:`labctl.training.pytorch` (optional,
needs torch) puts the same analog layers and update rules into a ``torch.nn`` model.
"""

from .analog import AnalogLayer, Converters, device_steps, quantize
from .data import Dataset, load_mnist, load_mnist_idx, read_idx, reduce_features, write_idx
from .loop import METRIC_COLUMNS, TrainOptions, train
from .network import DigitalLayer, Network
from .optimizers import ALGORITHMS, Optimizer
from .start import program_mid_range
from .symmetry import program_symmetry_point

__all__ = [
    "ALGORITHMS", "METRIC_COLUMNS", "AnalogLayer", "Converters", "Dataset", "DigitalLayer", "Network",
    "Optimizer", "TrainOptions", "device_steps", "load_mnist", "load_mnist_idx", "program_mid_range",
    "program_symmetry_point",
    "quantize", "read_idx", "reduce_features", "train", "write_idx",
]
