"""The one epoch loop of every training run (dense ``train``, sparse ``train_msnet``, on any backend).

An epoch: shuffle, then for each batch the loss and gradients, the update rule's pulses
(``Optimizer.step``) and the caller's hooks; then the test accuracy. What differs between runs is a
hook or an option, not another loop: the sparse run prunes and regrows before the epoch's batches
(``before``), sums the gradients that choose regrowth (``gradients``) and feeds VAU's shortfall back
after each update (``after_step``); the dense run settles the chips' pending relaxation before
measuring, so its checkpoint holds the exact state (``settle``). Bench transactions (every bus
message, reads included) and backend time are counted here for both; the callers write metrics and
checkpoints (:mod:`labctl.training.checkpoint`, one module for both) after each :class:`Epoch`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from labctl.backends import Transactions

from .analog import AnalogLayer
from .data import Dataset
from .network import Network


@dataclass
class Epoch:
    """What one epoch did."""

    epoch: int
    train_loss: float
    test_accuracy: float
    pulses: int
    """Weight-update pulses the update rule sent."""
    transactions: int
    """Bus messages the backends sent during the epoch (0 on the simulated chip)."""
    chip_time_s: float
    """Backend seconds the epoch took (the slowest chip's where each layer has its own)."""
    wall_s: float
    split_s: dict = field(default_factory=dict)
    """Where the epoch's bench time went (reads, routings, pulses, waits; empty on the simulated chip)."""
    hooks: dict = field(default_factory=dict)
    """What ``before`` returned (e.g. the sparsity pulses of a pruning step)."""


def run_epochs(net: Network, optimizer, data: Dataset, rng: np.random.Generator, batch_size: int,
               epochs: range, backends=(), *, before: Callable[[int], dict] | None = None,
               gradients: Callable[[list], None] | None = None, after_step: Callable[[], None] | None = None,
               on_batch: Callable[[], None] | None = None,
               settle: bool = False) -> Iterator[Epoch]:
    """Train ``net`` for each epoch of ``epochs``, yielding an :class:`Epoch` after each (write its outputs then).

    ``before(epoch)`` runs after the shuffle and before the first batch; ``gradients(grads)`` sees each
    batch's gradients before the update, ``after_step()`` runs after it, ``on_batch()`` last in each batch
    (progress). ``settle``: ``wait(0)`` on every backend before the
    accuracy, so a simulated chip relaxes fully and a checkpoint taken now resumes exactly.
    """
    n = len(data.x_train)
    for epoch in epochs:
        start = time.perf_counter()
        order = rng.permutation(n)
        chip_start_s, transactions = [chip.time_s for chip in backends], Transactions(backends)
        hooks = before(epoch) if before is not None else {}
        losses, pulses = [], 0
        for b in range(0, n, batch_size):
            idx = order[b:b + batch_size]
            loss, grads = net.loss_and_gradients(data.x_train[idx], data.y_train[idx])
            if gradients is not None:
                gradients(grads)
            p, _ = optimizer.step(grads)
            if after_step is not None:
                after_step()
            losses.append(loss)
            pulses += p
            if on_batch is not None:
                on_batch()
        for layer in net.layers:
            if isinstance(layer, AnalogLayer):
                layer.sync()  # --read-every: the pulsed devices read back; the test runs on the array
        if settle:
            for chip in backends:
                chip.wait(0.0)
        accuracy = net.accuracy(data.x_test, data.y_test)
        chip_time_s = max((chip.time_s - t0 for chip, t0 in zip(backends, chip_start_s)), default=0.0)
        yield Epoch(epoch, float(np.mean(losses)), accuracy, int(pulses), transactions.total, chip_time_s,
                    time.perf_counter() - start, transactions.split_s, hooks)
