"""``train_msnet``: MSNet on letters with its FC layer as a sparse analog layer on any backend.

On ``sim`` the FC layer gets a simulated chip of exactly its size (``features x 2 classes``
devices: 75 x 12 = 900 devices for 450 cells); any other backend is one 30x30 chip (30 x 15
cells), so the layer must fit it (e.g. ``features=25``). All sparsity devices are switched on
first; then the FC weights train by pulses (``update`` cell or vau), the convolutions in software,
and after each epoch the sparsity follows the :class:`PruneSchedule` (pruning by weight magnitude,
regrowth by gradient magnitude, at ``granularity``). The run folder holds ``metrics.csv``, the
training curve, ``run.json`` and a checkpoint after every epoch (``resume=True`` continues).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import load_model
from labctl.backends import open_backend
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout
from labctl.training import DigitalLayer, Optimizer, device_steps
from labctl.training.checkpoint import load_checkpoint, save_checkpoint
from labctl.training.data import Dataset
from labctl.training.epochs import run_epochs
from labctl.training.start import erase

from .layer import SparseAnalogLayer
from .msnet import MSNet
from .pruning import PruneSchedule, group_ids, scheduled_step

COLUMNS = ["epoch", "train_loss", "test_accuracy", "sparsity", "pulses", "transactions", "sparsity_pulses", "wall_s"]


@dataclass(frozen=True)
class SparseRun:
    """Configuration of one sparse MSNet run."""

    backend: str = "sim"
    """``sim``, ``sim-instruments`` or a bench file (the FC layer's array)."""
    model: str = "ning-mos2-fefet"
    features: int = 75
    """FC inputs (multiple of 25)."""
    update: str = "vau"
    """``cell`` (exact per-cell counts), ``vau`` (vectorial approximate update) or ``float`` (no device)."""
    epochs: int = 12
    schedule: PruneSchedule = PruneSchedule()
    granularity: str = "element"
    block: tuple[int, int] = (5, 3)
    """Block shape (rows, cols) for block granularity."""
    lr: float = 0.05
    """Learning rate (effective weights; the same for the software convolutions)."""
    lr_final: float | None = None
    """If set, the learning rate decays geometrically from ``lr`` (after the pruning schedule's
    last step) to this value at the last epoch, so the last epochs settle instead of jittering."""
    batch_size: int = 20
    max_pulses: int = 15
    algo: str = "mpsgd"
    """How gradients become counts (labctl.training.Optimizer): sgd or mpsgd."""
    gain: float = 12.0
    centred: bool = True
    """Centre the FC inputs per sample onto the signed read range, so the non-negative cells act as
    signed weights (see :meth:`SparseAnalogLayer.forward`); False reproduces the non-negative layer."""
    seed: int = 0
    snapshot_epochs: tuple[int, ...] = ()
    """Epochs after which weight and sparsity maps are kept."""
    extra: dict = field(default_factory=dict)
    """Options passed to open_backend (e.g. initial_state)."""


class MaskedDigitalLayer(DigitalLayer):
    """The float reference's FC layer: its weights times a digital sparsity mask (the same S * W, no device)."""

    def __init__(self, fan_in: int, fan_out: int, rng: np.random.Generator) -> None:
        super().__init__(fan_in, fan_out, rng)
        self.mask = np.ones(self.w.shape, dtype=np.float32)


def _fc_layer(run: SparseRun, n_classes: int, chip_model, rng):
    if run.update == "float":
        return MaskedDigitalLayer(run.features, n_classes, rng), None
    if run.backend == "sim":
        chip = open_backend("sim", model=chip_model, seed=run.seed,
                            layout=CellLayout.sparse(run.features, 2 * n_classes), **run.extra)
    else:
        if run.features > 30 or n_classes > 15:
            raise field_error(ConfigError, "features", run.features,
                              f"backend {run.backend!r} is one 30x30 chip (30 x 15 cells): use features=25 and <= 15 classes")
        chip = open_backend(run.backend, model=chip_model, seed=run.seed, layout=CellLayout.sparse(), **run.extra)
    layer = SparseAnalogLayer(chip, chip_model, run.features, n_classes, run.gain, update=run.update,
                              max_pulses=run.max_pulses, centred=run.centred)
    return layer, chip


def _start(fc: SparseAnalogLayer, backend: str) -> None:
    """A fresh run's starting state: dense (every sparsity device on) with the weight devices at the floor,
    where a simulated chip is built; a bench chip is erased there first (one train). Never on resume:
    a bench's devices hold the run's weights and pruning."""
    if backend != "sim":
        erase(fc, fc.weight_devices)
        fc.refresh()
    fc.set_sparsity(np.ones_like(fc.s), on=True)


def train_msnet(data: Dataset, run: SparseRun = SparseRun(), out=None, resume: bool = False,
                progress: bool = False, close: bool = True) -> tuple[pd.DataFrame, MSNet]:
    """Train; returns the per-epoch metrics (``attrs``: maps at ``snapshot_epochs``, config) and the net.

    The network's FC backend is closed on return unless ``close=False`` (then the net can still
    classify on the array; the caller closes ``net.fc.backend``).
    """
    chip_model = load_model(run.model)
    rng = np.random.default_rng(run.seed)
    n_classes = data.n_classes
    fc, chip = _fc_layer(run, n_classes, chip_model, rng)
    config = {k: v for k, v in asdict(run).items() if k not in ("extra",)}
    config.update(schedule=asdict(run.schedule), n_classes=n_classes, train_samples=len(data.x_train),
                  test_samples=len(data.x_test), read_model=run.extra.get("read_model", "shared"))
    config = json.loads(json.dumps(config))
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    try:
        net = MSNet(fc, run.features, rng)
        up, down = device_steps(chip_model)
        unit = (chip_model.weight.g_max_s - chip_model.weight.g_min_s) / (2 * chip_model.weight.g_max_s)
        algo = "sgd" if run.update == "float" else run.algo
        optimizer = Optimizer(algo, net.layers, run.lr, (up * unit, down * unit), run.max_pulses, rng)
        groups = group_ids((run.features, n_classes), run.granularity, run.block)
        state = load_checkpoint(out_dir, config, net.layers, optimizer.accumulators, rng) \
            if resume and out_dir is not None else None
        done, rows, extra = state if state is not None else (0, [], {"maps": {}})
        if chip is None and "mask" in extra:  # the float reference's pruning, as the checkpoint left it
            fc.mask[...] = np.asarray(extra["mask"], dtype=np.float32)
        if chip is not None and state is None:
            _start(fc, run.backend)
        _loop(net, fc, data, run, optimizer, rng, groups, done, rows, extra, out_dir, config, progress)
    except BaseException:
        if chip is not None:
            chip.close()
        raise
    if chip is not None and close:
        chip.close()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df.attrs.update(config=config, maps={int(k): v for k, v in extra["maps"].items()})
    return df, net


def _loop(net, fc, data, run, optimizer, rng, groups, done, rows, extra, out_dir, config, progress) -> None:
    """The shared epoch loop (:func:`labctl.training.epochs.run_epochs`) with the sparse run's hooks."""
    analog = isinstance(fc, SparseAnalogLayer)
    grad_sum = np.zeros((run.features, data.n_classes), dtype=np.float32)

    def before(epoch: int) -> dict:
        """This epoch's learning rate; prune / regrow first (by the previous epoch's gradients), so the
        epoch retrains after it."""
        optimizer.lr = np.float32(learning_rate(run, epoch))
        s_pulses = _prune(fc, run, epoch - 1, extra_grad(extra, run, data), groups) \
            if run.schedule.target > 0 and epoch > 1 else 0
        grad_sum[...] = 0.0
        return {"sparsity_pulses": int(s_pulses)}

    def gradients(grads) -> None:
        grad_sum[...] += np.abs(grads[-1][0])

    def after_step() -> None:
        if analog and optimizer.accumulators[-1] is not None:
            _feed_back(optimizer, fc)
        if not analog:  # keep a float layer's pruned weights at zero (the same S * W)
            fc.w *= fc.mask

    for result in run_epochs(net, optimizer, data, rng, run.batch_size, range(done + 1, run.epochs + 1),
                             [fc.backend] if analog else [], before=before, gradients=gradients,
                             after_step=after_step):
        epoch = result.epoch
        extra["grad"] = grad_sum.tolist()
        if not analog:
            extra["mask"] = fc.mask.astype(int).tolist()
        sparsity = fc.sparsity if analog else float(1 - fc.mask.mean())
        rows.append({"epoch": epoch, "train_loss": result.train_loss, "test_accuracy": result.test_accuracy,
                     "sparsity": sparsity, "pulses": result.pulses, "transactions": result.transactions,
                     "sparsity_pulses": result.hooks["sparsity_pulses"], "wall_s": result.wall_s})
        if epoch in run.snapshot_epochs:
            weights = fc.weight_state if analog else fc.w
            mask = fc.s if analog else fc.mask
            extra["maps"][str(epoch)] = {"weight": np.asarray(weights, float).round(4).tolist(),
                                         "sparsity": mask.astype(int).tolist()}
        if progress:
            print(f"epoch {epoch}/{run.epochs} loss {result.train_loss:.3f} acc {result.test_accuracy:.3f} "
                  f"sparsity {sparsity:.2f}")
        if out_dir is not None:
            from labctl.training.plots import plot_training_curve

            pd.DataFrame(rows, columns=COLUMNS).to_csv(out_dir / "metrics.csv", index=False)
            (out_dir / "run.json").write_text(json.dumps({"config": config}, indent=2) + "\n")
            plot_training_curve(rows, out_dir / "training_curve.png", title=f"MSNet FC {run.update}")
            save_checkpoint(out_dir, config, epoch, rows, net.layers, optimizer.accumulators, rng, extra)


def _feed_back(optimizer, fc: SparseAnalogLayer) -> None:
    """Return what VAU did not deliver (or over-delivered) to the mixed-precision accumulator, so the
    approximation errors cancel over later updates instead of biasing the weights."""
    short = fc.shortfall
    if short.any():
        ltp = (fc.last_counts > 0) | ((fc.last_counts == 0) & (short > 0))  # the polarity each cell was pulsed with
        step = np.where(ltp, optimizer.steps[0], optimizer.steps[1])
        optimizer.accumulators[-1] += (short * step).astype(np.float32)


def learning_rate(run: SparseRun, epoch: int) -> float:
    """``lr`` up to the epoch after the last pruning step, then geometric decay to ``lr_final``."""
    first = run.schedule.end_epoch + 1
    if run.lr_final is None or epoch <= first or run.epochs <= first:
        return run.lr
    return run.lr * (run.lr_final / run.lr) ** ((epoch - first) / (run.epochs - first))


def extra_grad(extra: dict, run: SparseRun, data: Dataset) -> np.ndarray:
    """Summed |dL/dW| of the FC layer over the previous epoch (kept in the checkpoint's extra)."""
    return np.asarray(extra.get("grad", np.zeros((run.features, data.n_classes))), dtype=np.float32)


def _prune(fc, run: SparseRun, epoch: int, grad_sum: np.ndarray, groups: np.ndarray) -> int:
    """Follow the schedule after ``epoch``; returns sparsity-device pulses (0 for a float layer)."""
    if isinstance(fc, SparseAnalogLayer):
        return scheduled_step(fc, run.schedule, epoch, grad_sum, groups)[0]
    from .pruning import prune_mask  # the float reference prunes the same way, on a digital mask

    mask = fc.mask
    off = prune_mask(np.abs(fc.w), mask > 0, run.schedule.sparsity_after(epoch), groups)
    mask[off] = 0
    fc.w *= mask
    return 0
