"""Simulated chips for procedure tests (small device sets keep each test to seconds)."""

from __future__ import annotations

import pytest

from labctl.backends import open_backend


@pytest.fixture
def ning():
    with open_backend("sim", model="ning-mos2-fefet", seed=11) as chip:
        yield chip


@pytest.fixture
def garg20():
    with open_backend("sim", model="garg-hzo-20ns", seed=12) as chip:
        yield chip


class Collector:
    """An ``emit`` that keeps records and progress values."""

    def __init__(self):
        self.records, self.progress, self.checkpoints = [], [], []

    def __call__(self, topic, value):
        {"results": self.records, "progress": self.progress, "checkpoint": self.checkpoints}[topic].append(value)


@pytest.fixture
def collect():
    return Collector()
