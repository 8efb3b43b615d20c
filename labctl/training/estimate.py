"""Bench-time estimate of a ``labctl train`` run, before anything is sent: a sampled dry run.

A training run's bench time is its setup (mid-range write-verify or the symmetry protocol) plus, per
epoch, one forward read, update and read-back per batch and one forward pass per 1000 test samples.
Simulating all of it would take as long as ``--dry-run`` (minutes to hours of wall time), so the
estimate trains ``SAMPLE_BATCHES`` batches and one test pass on a simulated copy of the bench (its
instruments, probe card and timings; nothing is sent), in a few seconds, and scales: setup + epochs x
(batches + test passes) x the sampled time per pass. A test pass costs about a batch's forward read,
so counting it as a batch errs long. The first batches of MP-SGD send fewer pulses than later ones;
on the bench the reads dominate (``labctl train`` prints where each epoch's bench time went).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

SAMPLE_BATCHES = 2
"""Training batches the dry run simulates."""
TEST_BATCH = 1000
"""Test samples per forward pass (``Network.accuracy``)."""
TRAIN_SIZE, TEST_SIZE = 60_000, 10_000
"""MNIST's sizes: what a run without ``--train-samples`` / ``--test-samples`` trains and tests on."""


@dataclass(frozen=True)
class TrainEstimate:
    """Bench time of a training run, scaled from a sampled dry run."""

    setup_s: float
    """Bench seconds of the devices' setup (0 without one)."""
    pass_s: float
    """Bench seconds per batch (sampled)."""
    passes: int
    """Batches and test passes per epoch."""
    epochs: int

    @property
    def estimated_s(self) -> float:
        return self.setup_s + self.epochs * self.passes * self.pass_s

    def describe(self) -> str:
        """One console line."""
        return (f"estimated bench time {self.estimated_s:.0f} s ({self.estimated_s / 3600:.1f} h): setup "
                f"{self.setup_s:.0f} s + {self.epochs} epoch(s) x {self.passes} batches and test passes x "
                f"{self.pass_s:.2f} s (sampled from {SAMPLE_BATCHES} batches of a dry run on simulated instruments)")


def estimate_training(backend: str, model: str, algo: str, epochs: int, layers, seed: int, batch_size: int,
                      train_samples: int | None, test_samples: int | None, **options) -> TrainEstimate:
    """The bench time ``train(backend, ...)`` would take, from ``SAMPLE_BATCHES`` batches trained on a simulated
    copy of ``backend`` (``options`` as ``train`` takes them; no files are written)."""
    from .loop import train

    n_train, n_test = train_samples or TRAIN_SIZE, test_samples or TEST_SIZE
    with contextlib.redirect_stdout(io.StringIO()):  # the sample's own epoch line would read as the run's
        sample = train(backend=backend, model=model, algo=algo, epochs=1, layers=layers, seed=seed, out=None,
                       train_samples=min(n_train, SAMPLE_BATCHES * batch_size), test_samples=min(n_test, TEST_BATCH),
                       progress=False, batch_size=batch_size, **{**options, "dry_run": True})
    sampled = -(-min(n_train, SAMPLE_BATCHES * batch_size) // batch_size) + 1
    passes = -(-n_train // batch_size) + -(-n_test // TEST_BATCH)
    return TrainEstimate(float(sample.attrs.get("setup_chip_time_s") or 0.0),
                         float(sample.attrs["chip_time_s"][0]) / sampled, passes, epochs)
