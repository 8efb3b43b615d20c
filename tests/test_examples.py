"""Examples must run: the doctests in the packages' docstrings (README and docs pages: tests/test_docs.py)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re

import pytest

PACKAGES = ("labctl", "device_models", "sim_backend", "procedures")
SKIP = re.compile(r"\.(gui|commands|__main__)(\.|$)")  # Qt windows and CLI entry points: no doctests
OPTIONAL = {"labctl.training.pytorch": "torch"}
"""Modules of an optional extra: their doctests run where that package is installed."""


def _modules():
    for package in PACKAGES:
        pkg = importlib.import_module(package)
        yield package
        for info in pkgutil.walk_packages(pkg.__path__, f"{package}."):
            if not SKIP.search(info.name):
                yield info.name


SHOWS_PLOTS = {"labctl.api"}
"""Modules whose examples list the PNGs a run writes: run with plots (tests/conftest.py)."""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.plots) if n in SHOWS_PLOTS else n
                                  for n in sorted(_modules())])
def test_doctests(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in doctest.DocTestFinder().find(importlib.import_module(name)):
        if test.examples:  # run() resets a pdb per docstring, which stats every file linecache holds
            runner.run(test)
    assert runner.failures == 0

